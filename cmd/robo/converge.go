package main

import (
	"context"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// converge plans and applies the targeted sets (all when targets is empty)
// without asking, under the state lock: the unit of work of robo watch, and
// the same path as robo apply -auto-approve. The state records every run.
func converge(ctx context.Context, e *env, cfg *schema.Config, targets []string, operation string, lockTimeout time.Duration, log hclog.Logger) (*plan.Plan, *apply.Result, error) {
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
	defer unlock()
	if st == nil {
		st = state.New()
		st.RoboVersion = version
	}
	eng := newEngines(&le, cfg, "")
	defer eng.Close()
	p, err := buildPlan(ctx, cfg, st, targets, true, false, eng)
	if err != nil {
		return nil, nil, err
	}
	e.record("apply.started", map[string]string{"targets": strings.Join(targets, ","), "operation": operation})
	// Hooks and notifications (docs/monitoring.md), as in robo apply.
	res, _, err := apply.Run(ctx, p, st, apply.Options{Store: store, Engines: eng, RoboVersion: version, Logger: log, Hooks: hookRunner(cfg, log)})
	e.record("apply.finished", applyFields(res, err))
	e.notifyApply(ctx, cfg, res, "", log)
	if err != nil {
		return p, res, fatalf("%v", err)
	}
	return p, res, nil
}
