package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/views"
)

func runApply(e *env, args []string) error {
	fs := newFlags(e, "apply", "apply [-auto-approve] [-target NAME]... [-json] [-verbose] [-allow-deletes] [-lock-timeout D] [-identity FILE] [-var name=value]... [PLANFILE]")
	var pf planFlags
	pf.register(fs)
	autoApprove := fs.Bool("auto-approve", false, "apply without asking for confirmation")
	lockTimeout := fs.Duration("lock-timeout", 0, "wait this long for the state lock (default: fail at once)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fatalf("robo apply takes at most one plan file, got %d arguments", fs.NArg())
	}
	planFile := fs.Arg(0)
	if planFile != "" && (len(pf.targets) > 0 || len(pf.vars) > 0) {
		return fatalf("-target and -var cannot be used with a saved plan").hint("they were fixed when the plan was made; make a new plan with them")
	}
	if pf.jsonOut && !*autoApprove && planFile == "" {
		return fatalf("robo apply -json needs -auto-approve: a JSON stream cannot ask for confirmation")
	}
	cfg, store, err := loadWithStore(e, pf.vars)
	if err != nil {
		return err
	}
	// A saved plan is checked before anything runs (docs/safety.md,
	// "Saved plans"): read and validated here, then compared with the
	// configuration and the state under the lock. A refused plan runs no
	// hook, changes no state and is audited as apply.refused.
	var p *plan.Plan
	defer func() { p.Close() }() // the saved or fresh plan's spill files
	if planFile != "" {
		if p, err = plan.Read(e.path(planFile)); err != nil {
			return fatalf("%v", err)
		}
	}
	e.startAudit(cfg)
	unlock, st, err := lockAndRead(e, store, "apply", *lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	eng := newEngines(e, cfg, pf.identity)
	defer eng.Close()
	if planFile != "" {
		if err := apply.CheckSaved(e.ctx, p, cfg, st, eng, pf.allowDeletes); err != nil {
			e.record("apply.refused", map[string]string{"plan_file": planFile, "error": err.Error()})
			return fatalf("plan file %s: %v", planFile, err)
		}
	}
	e.record("apply.started", map[string]string{"targets": strings.Join(pf.targets, ","), "plan_file": planFile})
	if planFile == "" {
		if st == nil {
			st = state.New()
			st.RoboVersion = version
		}
		if p, err = buildPlan(e.ctx, cfg, st, pf.targets, true, pf.allowDeletes, eng); err != nil {
			return err
		}
	}
	if !pf.jsonOut {
		if err := views.NewPlanView(false, e.stdout, pf.verbose).Plan(p); err != nil {
			return err
		}
		if !p.HasChanges() {
			// Nothing can be copied or deleted: record the runs without asking.
			if !p.Failed() {
				e.printf("\nNo changes. The destinations match the configuration.\n")
			}
		} else if !*autoApprove && planFile == "" {
			if !e.interactive {
				return fatalf("robo apply asks for confirmation, but its input is not a terminal: nothing was changed").
					hint("pass -auto-approve to apply without asking, or apply a saved plan: robo plan -out FILE, then robo apply FILE")
			}
			if !confirm(e) {
				return fatalf("apply cancelled: nothing was changed")
			}
		}
		e.printf("\n")
	}
	// Hooks and notifications (docs/monitoring.md): hooks run inside
	// apply.Run; notifications go out after it and never fail the apply.
	// The state lock is held for the whole apply; each set's own lock keeps
	// a robo watch of the same configuration off the sets being applied.
	// Run logs and progress (docs/monitoring.md): a native run log per set
	// under logs/, pruned per log_retention after the apply; progress on
	// stdout (a bar on a terminal, plain lines otherwise) or, with -json,
	// as JSON lines on stderr.
	prog := newProgress(e, p, pf.jsonOut)
	log := e.applyLogger()
	res, _, werr := apply.Run(e.ctx, p, st, apply.Options{Store: store, Engines: eng, RoboVersion: version, Hooks: hookRunner(cfg, log),
		LockSet: setLocker(e, store, "apply", *lockTimeout), Progress: prog.forSet, RunLog: runLogger(cfg, log), Logger: log, Verify: eng.snaps.Verify(verifier(e, eng))})
	if errors.Is(werr, apply.ErrInvalidPlan) {
		e.record("apply.refused", map[string]string{"plan_file": planFile, "error": werr.Error()})
		return fatalf("%v", werr)
	}
	pruneRunLogs(cfg, log)
	e.record("apply.finished", applyFields(res, werr))
	e.notifyApply(e.ctx, cfg, res, pf.identity, nil)
	e.publishRun(e.ctx, cfg, eng, e.warnf) // report and metrics textfile (cmd_fleet.go)
	if pf.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			FormatVersion string        `json:"format_version"`
			OK            bool          `json:"ok"`
			Plan          *plan.Plan    `json:"plan"`
			Result        *apply.Result `json:"result"`
		}{"1", res.OK() && werr == nil, p, res}); err != nil {
			return err
		}
	} else if err := views.NewApplyView(false, e.stdout).Result(res); err != nil {
		return err
	}
	if werr != nil {
		return fatalf("%v", werr).hint("the files were copied, but the state could not record it; the next plan will show what is left")
	}
	if !res.OK() {
		return exitErr(exitError)
	}
	return nil
}

// applyFields summarizes an apply for the audit trail.
func applyFields(res *apply.Result, werr error) map[string]string {
	m := map[string]string{}
	for _, s := range res.Sets {
		m[s.Name] = s.Outcome
	}
	f := map[string]string{"ok": fmt.Sprint(res.OK() && werr == nil), "sets": outcomes(m)}
	if c := changingFiles(res); c != "" {
		f["changing"] = c
	}
	if werr != nil {
		f["error"] = werr.Error()
	}
	return f
}

// maxAuditChanging bounds the files an apply.finished entry lists as
// changing; the rest are counted.
const maxAuditChanging = 100

// changingFiles lists the files that kept changing while they were copied
// (docs/state.md) as SET:"PATH" items separated by spaces, each path
// quoted (strconv.Quote, so no name can run into the next), "" when none.
func changingFiles(res *apply.Result) string {
	var items []string
	n := 0
	for _, s := range res.Sets {
		if s.Result == nil {
			continue
		}
		for _, c := range s.Result.Changing {
			if n++; n <= maxAuditChanging {
				items = append(items, s.Name+":"+strconv.Quote(c.Path))
			}
		}
	}
	if n > maxAuditChanging {
		items = append(items, fmt.Sprintf("(and %d more)", n-maxAuditChanging))
	}
	return strings.Join(items, " ")
}

func confirm(e *env) bool {
	fmt.Fprintf(e.stdout, "\nDo you want to apply this plan? Only 'yes' will be accepted.\n  Enter a value: ")
	line, _ := bufio.NewReader(e.stdin).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}
