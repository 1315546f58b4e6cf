package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// converge plans and applies the targeted sets (all when targets is empty)
// without asking: the unit of work of robo watch, and the same plan and
// apply path as robo apply -auto-approve. The state lock is held only while
// planning and while recording each set (Commit re-reads the state), and
// each set is converged under its own lock, so runs of different sets can
// overlap (robo watch's max_parallel) and never collide with a hand-run
// robo apply of the same set.
func converge(ctx context.Context, e *env, cfg *schema.Config, targets []string, operation string, lockTimeout time.Duration, log hclog.Logger) (*plan.Plan, *apply.Result, error) {
	return convergeWith(ctx, e, cfg, targets, operation, lockTimeout, log, runWatchers{})
}

// runWatchers follow a run: the dashboard's live progress (cmd_ui.go).
type runWatchers struct {
	// planned is called with the plan before it is applied.
	planned func(*plan.Plan)
	// progress is apply.Options.Progress.
	progress func(set string) engine.Reporter
	// runLog is told the path of each set's run log.
	runLog func(set, path string)
}

// convergeWith is converge, followed by w.
func convergeWith(ctx context.Context, e *env, cfg *schema.Config, targets []string, operation string, lockTimeout time.Duration, log hclog.Logger, w runWatchers) (*plan.Plan, *apply.Result, error) {
	store, err := openStore(cfg)
	if err != nil {
		return nil, nil, err
	}
	le := *e
	le.ctx = ctx
	unlock, st, err := lockAndRead(&le, store, operation, lockTimeout)
	if err != nil {
		return nil, nil, err
	}
	if st == nil {
		// Created now so that every run records against one lineage.
		st = state.New()
		st.RoboVersion = version
		if err := store.Write(st); err != nil {
			unlock()
			return nil, nil, fatalf("%v", err)
		}
	}
	eng := newEngines(&le, cfg, "")
	defer eng.Close()
	p, err := buildPlan(ctx, cfg, st, targets, true, false, eng)
	unlock()
	if err != nil {
		return nil, nil, err
	}
	if w.planned != nil {
		w.planned(p)
	}
	res, err := applyPlanned(ctx, e, cfg, store, eng, p, st, targets, operation, lockTimeout, log, w)
	return p, res, err
}

// applyPlanned is the apply half of converge: p (planned against st)
// applied with hooks, set locks, per-set commits, run logs and
// verification, then old run logs pruned, the apply audited and notified.
func applyPlanned(ctx context.Context, e *env, cfg *schema.Config, store *state.Store, eng *engines, p *plan.Plan, st *state.State, targets []string, operation string, lockTimeout time.Duration, log hclog.Logger, w runWatchers) (*apply.Result, error) {
	le := *e
	le.ctx = ctx
	e.record("apply.started", map[string]string{"targets": strings.Join(targets, ","), "operation": operation})
	// Hooks and notifications (docs/monitoring.md), as in robo apply.
	res, _, err := apply.Run(ctx, p, st, apply.Options{Store: store, Engines: eng, RoboVersion: version, Logger: log,
		Hooks: hookRunner(cfg, log), LockSet: setLocker(&le, store, operation, lockTimeout), Commit: committer(&le, store, operation, lockTimeout),
		Progress: w.progress, RunLog: runLoggerNamed(cfg, log, w.runLog), Verify: eng.snaps.Verify(verifier(&le, eng))}) // native run logs (docs/monitoring.md, "Run logs")
	pruneRunLogs(cfg, log)
	e.record("apply.finished", applyFields(res, err))
	e.notifyApply(ctx, cfg, res, "", log)
	e.publishRun(ctx, cfg, eng, log.Warn) // report and metrics textfile (cmd_fleet.go)
	if err != nil {
		return res, fatalf("%v", err)
	}
	return res, nil
}

// setLocker takes a set's own lock, waiting up to timeout for another robo
// that is converging the same set. Only contention is reported as another
// robo process; an I/O error (a full or read-only disk, a permission) says
// so with the lock's path.
func setLocker(e *env, store *state.Store, operation string, timeout time.Duration) func(context.Context, string) (func(), error) {
	return func(ctx context.Context, set string) (func(), error) {
		lock, err := store.LockSet(ctx, set, state.CurrentLockInfo(operation+" "+set), timeout)
		if err != nil {
			var le *state.LockedError
			if errors.As(err, &le) {
				return nil, fmt.Errorf("set %s is being applied by another robo process: %w", set, err)
			}
			return nil, fmt.Errorf("set %s: cannot take the set lock: %w", set, err)
		}
		e.record("set.locked", map[string]string{"set": set, "operation": operation})
		return func() {
			lock.Unlock()
			e.record("set.unlocked", map[string]string{"set": set, "operation": operation})
		}, nil
	}
}

// committer records one set's state entry under the state lock, on top of
// whatever other runs recorded meanwhile.
func committer(e *env, store *state.Store, operation string, timeout time.Duration) func(string, *state.Set) error {
	// A stop must still record what finished: the lock is taken without
	// the run's (possibly cancelled) context, bounded by timeout.
	ce := *e
	ce.ctx = context.Background()
	if timeout <= 0 {
		timeout = time.Minute
	}
	return func(set string, rec *state.Set) error {
		unlock, cur, err := lockAndRead(&ce, store, operation, timeout)
		if err != nil {
			return err
		}
		defer unlock()
		if cur == nil {
			cur = state.New()
		}
		cur.RoboVersion = version
		if rec == nil {
			delete(cur.Sets, set)
		} else {
			cur.Sets[set] = rec
		}
		return store.Write(cur)
	}
}
