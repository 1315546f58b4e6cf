package main

import (
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/views"
)

func runShow(e *env, args []string) error {
	fs := newFlags(e, "show", "show [-json] [-verbose] PLANFILE")
	jsonOut := fs.Bool("json", false, "print the plan document")
	verbose := fs.Bool("verbose", false, "list every file operation")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fatalf("robo show takes one plan file").hint("make one with robo plan -out FILE")
	}
	p, err := plan.Read(e.path(fs.Arg(0)))
	if err != nil {
		return fatalf("%v", err)
	}
	defer p.Close()
	return views.NewPlanView(*jsonOut, e.stdout, *verbose).Plan(p)
}
