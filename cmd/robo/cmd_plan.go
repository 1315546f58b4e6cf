package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/views"
	"github.com/robo-backup/robo/schema"
)

// targetFlags collects repeated -target NAME flags.
type targetFlags []string

func (t *targetFlags) String() string { return strings.Join(*t, ",") }

func (t *targetFlags) Set(s string) error {
	if s == "" {
		return errors.New("-target takes a backup set name")
	}
	*t = append(*t, s)
	return nil
}

// planFlags are shared by plan and apply.
type planFlags struct {
	vars         varFlags
	targets      targetFlags
	jsonOut      bool
	verbose      bool
	allowDeletes bool
	identity     string
}

func (p *planFlags) register(fs *flag.FlagSet) {
	p.vars = addVarFlag(fs)
	fs.Var(&p.targets, "target", "limit to the backup set NAME; repeatable")
	fs.BoolVar(&p.jsonOut, "json", false, "print machine-readable JSON")
	fs.BoolVar(&p.verbose, "verbose", false, "list every file operation")
	fs.BoolVar(&p.allowDeletes, "allow-deletes", false, "lift every set's max_delete limit for this run")
	fs.StringVar(&p.identity, "identity", "", "age identity FILE that decrypts share passwords (default: ROBO_AGE_IDENTITY, robo { identity }, the per-OS default)")
}

func runPlan(e *env, args []string) error {
	fs := newFlags(e, "plan", "plan [-out FILE] [-detailed-exitcode] [-target NAME]... [-json] [-refresh=false] [-verbose] [-allow-deletes] [-identity FILE] [-var name=value]...")
	var pf planFlags
	pf.register(fs)
	out := fs.String("out", "", "save the plan to FILE for robo apply FILE")
	detailed := fs.Bool("detailed-exitcode", false, "exit 0 when nothing would change, 2 when something would, 1 on error")
	refresh := fs.Bool("refresh", true, "read the source and destination trees (false: compare config and state only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fatalf("robo plan takes no arguments, got %q", fs.Arg(0)).hint("name sets with -target NAME")
	}
	cfg, store, err := loadWithStore(e, pf.vars)
	if err != nil {
		return err
	}
	e.startAudit(cfg)
	st, err := readOrCreateState(e, store)
	if err != nil {
		return err
	}
	eng := newEngines(e, cfg, pf.identity)
	defer eng.Close()
	e.record("plan.started", map[string]string{"targets": strings.Join(pf.targets, ","), "refresh": fmt.Sprint(*refresh)})
	p, err := buildPlan(e.ctx, cfg, st, pf.targets, *refresh, pf.allowDeletes, eng)
	if err != nil {
		e.record("plan.finished", map[string]string{"outcome": "error", "error": err.Error()})
		return err
	}
	defer p.Close()
	e.record("plan.finished", map[string]string{"outcome": planOutcome(p), "sets": setActions(p)})
	if err := views.NewPlanView(pf.jsonOut, e.stdout, pf.verbose).Plan(p); err != nil {
		return err
	}
	if *out != "" {
		if err := p.Write(e.path(*out)); err != nil {
			return fatalf("%v", err)
		}
		if !pf.jsonOut {
			run := "robo apply " + *out
			if pf.allowDeletes {
				run = "robo apply -allow-deletes " + *out // a plan file cannot lift max_delete alone
			}
			e.printf("\nSaved the plan to %s. To perform exactly these operations, run: %s\n", *out, run)
		}
	}
	switch {
	case p.Failed():
		return exitErr(exitError)
	case *detailed && p.HasChanges():
		return exitErr(exitChanges)
	}
	return nil
}

// planOutcome summarizes a plan for the audit trail.
func planOutcome(p *plan.Plan) string {
	switch {
	case p.Failed():
		return "refused or failed"
	case p.HasChanges():
		return "changes"
	}
	return "no changes"
}

// setActions renders "name=action,..." for the audit trail.
func setActions(p *plan.Plan) string {
	m := map[string]string{}
	for _, s := range p.Sets {
		m[s.Name] = string(s.Action)
		if s.Failed() {
			m[s.Name] += "(refused)"
		}
	}
	return outcomes(m)
}

// buildPlan is the one way commands plan: the whole configuration against
// the state, through the engines each set asks for.
func buildPlan(ctx context.Context, cfg *schema.Config, st *state.State, targets []string, refresh, allowDeletes bool, eng plan.Engines) (*plan.Plan, error) {
	p, err := plan.Build(ctx, plan.Input{Config: cfg, State: st, Targets: cfg.ExpandTargets(targets), Refresh: refresh,
		AllowDeletes: allowDeletes, Engines: eng, RoboVersion: version, Now: time.Now()})
	if err != nil {
		return nil, fatalf("%v", err)
	}
	return p, nil
}

// readOrCreateState reads the state; when there is none it creates one, so
// that the first plan already has a lineage that a saved plan can name.
func readOrCreateState(e *env, store *state.Store) (*state.State, error) {
	st, err := store.Read()
	if err != nil {
		return nil, fatalf("%v", err)
	}
	if st != nil {
		return st, nil
	}
	lock, err := store.Lock(e.ctx, state.CurrentLockInfo("plan"), 0)
	if err != nil {
		return nil, lockError(err, false)
	}
	defer lock.Unlock()
	if st, err = store.Read(); err != nil || st != nil {
		return st, err
	}
	st = state.New()
	st.RoboVersion = version
	if err := store.Write(st); err != nil {
		return nil, fatalf("%v", err)
	}
	return st, nil
}

// lockError explains a lock failure; canWait says whether the command has
// a -lock-timeout flag to suggest.
func lockError(err error, canWait bool) error {
	var le *state.LockedError
	if !errors.As(err, &le) {
		return fatalf("%v", err)
	}
	if canWait {
		return fatalf("%v", err).hint("wait for it to finish, or pass -lock-timeout 10m to wait for it")
	}
	return fatalf("%v", err).hint("wait for it to finish and run this again")
}
