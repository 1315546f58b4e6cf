package main

import "runtime"

func runVersion(e *env, args []string) error {
	fs := newFlags(e, "version", "version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs, "version"); err != nil {
		return err
	}
	e.printf("robo v%s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
