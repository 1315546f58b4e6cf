package main

import (
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/robo-backup/robo/internal/vfs"
)

func runShare(e *env, args []string) error {
	return group{name: "share", subs: []subcommand{
		{"check", "[NAME]...", "connect to shares with their credentials, list them, write and remove a file", runShareCheck, false},
	}}.run(e, args)
}

func runShareCheck(e *env, args []string) error {
	fs := newFlags(e, "share check", "share check [-identity FILE] [NAME]...")
	identity := fs.String("identity", "", "age identity FILE that decrypts share passwords")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, vars)
	if err != nil {
		return err
	}
	names := fs.Args()
	if len(names) == 0 {
		for n := range cfg.Shares {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	if len(names) == 0 {
		return fatalf("the configuration declares no share blocks")
	}
	for _, name := range names {
		if cfg.Shares[name] == nil {
			return fatalf("no share named %q in the configuration", name)
		}
	}
	eng := newEngines(e, cfg, *identity)
	defer eng.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SHARE\tUNC\tUSER\tCONNECT\tREAD\tWRITE")
	var problems []string
	for _, name := range names {
		sh := cfg.Shares[name]
		connect, read, write := "ok", "-", "-"
		fsys, err := eng.access.Open(sh.UNC)
		if err == nil {
			_, err = fsys.ReadDir("")
			if err != nil {
				connect, read = "ok", "FAILED"
			} else {
				read = "ok"
				write = "ok"
				if werr := probeWrite(fsys); werr != nil {
					write, err = "FAILED", werr
				}
			}
			vfs.Close(fsys)
		} else {
			connect = "FAILED"
		}
		if err != nil {
			problems = append(problems, err.Error())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, sh.UNC, sh.Username, connect, read, write)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range problems {
		e.printf("\n%s\n", p)
	}
	if len(problems) > 0 {
		return exitErr(exitError)
	}
	return nil
}

// probeWrite creates and removes a temporary file at the share root.
func probeWrite(fsys vfs.FS) error {
	w, name, err := fsys.CreateTemp("", ".robo-check-", 0o600)
	if err != nil {
		return err
	}
	_, werr := w.Write([]byte("robo share check\n"))
	cerr := w.Close()
	rerr := fsys.Remove(name)
	for _, err := range []error{werr, cerr, rerr} {
		if err != nil {
			return err
		}
	}
	return nil
}
