package main

import (
	"fmt"
	"path/filepath"
)

func (e *env) printf(format string, args ...any) {
	fmt.Fprintf(e.stdout, format, args...)
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// path resolves a file argument as if robo had been started in the
// configuration directory (-chdir), as terraform does.
func (e *env) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.dir, p)
}
