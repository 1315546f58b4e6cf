package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/views"
	"github.com/robo-backup/robo/schema"
)

func runState(e *env, args []string) error {
	return group{name: "state", subs: []subcommand{
		{"list", "[-json]", "list the backup sets the state records", runStateList, false},
		{"show", "NAME", "print one set's state as JSON", runStateShow, false},
		{"rm", "NAME...", "forget sets (their destinations are not touched)", runStateRm, false},
		{"mv", "[-dry-run] [-lock-timeout D] OLD NEW", "rename a set's state entry, keeping its history", runStateMv, false},
	}}.run(e, args)
}

func runStateList(e *env, args []string) error {
	fs := newFlags(e, "state list", "state list [-json]")
	jsonOut := fs.Bool("json", false, "print JSON")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs, "state list", "robo state show NAME prints one set"); err != nil {
		return err
	}
	_, store, err := loadWithStore(e, vars)
	if err != nil {
		return err
	}
	st, err := store.Read()
	if err != nil {
		return fatalf("%v", err)
	}
	if st == nil {
		st = &state.State{Sets: map[string]*state.Set{}}
	}
	if *jsonOut {
		return writeJSON(e, st)
	}
	if len(st.Sets) == 0 {
		e.printf("The state records no backup sets yet (%s).\n", store.Path)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tLAST RUN\tOUTCOME\tFILES\tBYTES\tDESTINATION")
	for _, n := range st.Names() {
		s := st.Sets[n]
		when, outcome, files, bytes := "never", "-", "-", "-"
		if r := s.LastRun; r != nil {
			when = r.Started.Local().Format(time.DateTime)
			outcome = r.Outcome
			files = fmt.Sprint(r.FilesCopied)
			bytes = views.Bytes(r.BytesCopied)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n, when, outcome, files, bytes, s.Destination)
	}
	return tw.Flush()
}

func runStateShow(e *env, args []string) error {
	fs := newFlags(e, "state show", "state show NAME")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fatalf("robo state show takes one backup set name")
	}
	_, store, err := loadWithStore(e, vars)
	if err != nil {
		return err
	}
	st, err := store.Read()
	if err != nil {
		return fatalf("%v", err)
	}
	name := fs.Arg(0)
	if st == nil || st.Sets[name] == nil {
		return fatalf("the state has no backup set named %q", name).hint("robo state list shows what it has")
	}
	return writeJSON(e, st.Sets[name])
}

func runStateRm(e *env, args []string) error {
	fs := newFlags(e, "state rm", "state rm [-lock-timeout D] NAME...")
	lockTimeout := fs.Duration("lock-timeout", 0, "wait this long for the state lock")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fatalf("robo state rm takes one or more backup set names")
	}
	cfg, store, err := loadWithStore(e, vars)
	if err != nil {
		return err
	}
	e.startAudit(cfg)
	unlock, st, err := lockAndRead(e, store, "state rm", *lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	for _, name := range fs.Args() {
		if st == nil || st.Sets[name] == nil {
			return fatalf("the state has no backup set named %q; nothing was removed", name)
		}
	}
	var removed []*state.Set
	for _, name := range fs.Args() {
		removed = append(removed, st.Sets[name])
		delete(st.Sets, name)
	}
	if err := store.Write(st); err != nil {
		return fatalf("%v", err)
	}
	for _, s := range removed {
		e.record("state.removed", map[string]string{"set": s.Name, "destination": s.Destination})
		e.printf("Removed %s from the state. Its destination %s was not touched.\n", s.Name, s.Destination)
	}
	return nil
}

func writeJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// runStateMv renames a set's state entry, keeping its history (last run,
// last success, health): the command-line twin of a moved block.
func runStateMv(e *env, args []string) error {
	fs := newFlags(e, "state mv", "state mv [-dry-run] [-lock-timeout D] OLD NEW")
	dryRun := fs.Bool("dry-run", false, "say what would be moved without changing the state")
	lockTimeout := fs.Duration("lock-timeout", 0, "wait this long for the state lock")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fatalf("robo state mv takes two backup set names, OLD and NEW; got %d %s", fs.NArg(), pluralWord(fs.NArg(), "argument", "arguments"))
	}
	from, to := fs.Arg(0), fs.Arg(1)
	if from == to {
		return fatalf("robo state mv: OLD and NEW are both %s; nothing was moved", safetext.Name(from))
	}
	if !schema.ValidName(to) {
		return fatalf("%s is not a valid backup set name", safetext.Name(to)).hint("use letters, digits, '-', '_' and '.', starting with a letter or digit")
	}
	cfg, store, err := loadWithStore(e, vars)
	if err != nil {
		return err
	}
	e.startAudit(cfg)
	if !*dryRun && schema.ValidName(from) {
		// A robo watch converging either set would record it under its
		// old name after the move: take both sets' own locks first, then
		// the state lock, in the order apply takes them.
		lockSet := setLocker(e, store, "state mv", *lockTimeout)
		for _, n := range []string{from, to} {
			un, err := lockSet(e.ctx, n)
			if err != nil {
				return fatalf("%v", err).hint("nothing was moved; wait for it to finish, or pass -lock-timeout 10m")
			}
			defer un()
		}
	}
	unlock, st, err := lockAndRead(e, store, "state mv", *lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	if st == nil {
		st = state.New()
	}
	if err := st.Move(from, to); err != nil {
		var me *state.MoveError
		if errors.As(err, &me) && me.Missing {
			return fatalf("the state has no backup set named %s; nothing was moved", safetext.Name(from)).hint("robo state list shows what it has")
		}
		return fatalf("the state already has a backup set named %s; nothing was moved", safetext.Name(to)).
			hint("remove it first with robo state rm " + to + " if its history is not needed")
	}
	if *dryRun {
		e.printf("Would move %s to %s in the state (dry run: nothing was changed).\n", safetext.Name(from), to)
		return nil
	}
	if err := store.Write(st); err != nil {
		return fatalf("%v", err)
	}
	e.record("state.moved", map[string]string{"from": from, "to": to})
	e.printf("Moved %s to %s in the state: its last run, last success and health are kept.\n", safetext.Name(from), to)
	switch {
	case cfg.Backup(to) == nil:
		e.printf("Note: the configuration has no backup set named %s, so the next plan forgets it. Rename its backup block to %q.\n", to, to)
	case cfg.Backup(from) != nil:
		e.printf("Note: the configuration still declares %s, so the next plan creates it anew. Rename its backup block to %q.\n", safetext.Name(from), to)
	}
	return nil
}
