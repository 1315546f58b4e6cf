package main

import (
	"fmt"
	"sort"
	"text/tabwriter"

	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/schema"
)

func runRemote(e *env, args []string) error {
	return group{name: "remote", subs: []subcommand{
		{"check", "[NAME]...", "connect to remotes with their credentials, list their root, write and remove a file", runRemoteCheck, false},
	}}.run(e, args)
}

func runRemoteCheck(e *env, args []string) error {
	fs := newFlags(e, "remote check", "remote check [-identity FILE] [NAME]...")
	identity := fs.String("identity", "", "age identity FILE that decrypts remote credentials")
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
		for n := range cfg.Remotes {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	if len(names) == 0 {
		return fatalf("the configuration declares no remote blocks")
	}
	for _, name := range names {
		if cfg.Remotes[name] == nil {
			return fatalf("no remote named %s in the configuration", safetext.Name(name))
		}
	}
	eng := newEngines(e, cfg, *identity)
	defer eng.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REMOTE\tTYPE\tTARGET\tUSER\tCONNECT\tREAD\tWRITE")
	var problems []string
	for _, name := range names {
		rm := cfg.Remotes[name]
		connect, read, write := "ok", "-", "-"
		fsys, err := eng.access.remotes.Open(&schema.RemotePath{Remote: rm})
		if err == nil {
			if _, err = fsys.ReadDir(""); err != nil {
				read = "FAILED"
			} else {
				read, write = "ok", "ok"
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
		f := remoteFields(rm)
		target := f["server"]
		if target == "" {
			target = f["endpoint"]
			if f["bucket"] != "" {
				target += " " + f["bucket"]
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, rm.Type, safetext.Line(target), safetext.Line(f["user"]), connect, read, write)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range problems {
		e.printf("\n%s\n", safetext.Line(p))
	}
	if len(problems) > 0 {
		return exitErr(exitError)
	}
	return nil
}
