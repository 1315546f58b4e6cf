package main

import (
	"fmt"
	"time"

	"github.com/robo-backup/robo/internal/adopt"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/views"
)

// runImport adopts existing backups (internal/adopt): each named set (all
// when none is named) is planned with its trees read, and recorded as
// applied when the plan has nothing to do. The plan of every set that
// differs is shown; such a set is recorded only with -allow-differences.
func runImport(e *env, args []string) error {
	fs := newFlags(e, "import", "import [-allow-differences] [-json] [-verbose] [-lock-timeout D] [-identity FILE] [-var name=value]... [NAME]...")
	allowDiff := fs.Bool("allow-differences", false, "record a set even when its destination differs (the next apply syncs it)")
	jsonOut := fs.Bool("json", false, "print the plan and the outcomes as JSON")
	verbose := fs.Bool("verbose", false, "list every difference")
	lockTimeout := fs.Duration("lock-timeout", 0, "wait this long for the state lock")
	identity := fs.String("identity", "", "age identity FILE that decrypts share passwords")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, store, err := loadWithStore(e, vars)
	if err != nil {
		return err
	}
	for _, n := range fs.Args() {
		if cfg.Backup(n) == nil {
			return fatalf("there is no backup set named %q in the configuration", n).hint("robo import adopts sets declared in the configuration")
		}
	}
	e.startAudit(cfg)
	unlock, st, err := lockAndRead(e, store, "import", *lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	if st == nil {
		st = state.New()
		st.RoboVersion = version
	}
	eng := newEngines(e, cfg, *identity)
	defer eng.Close()
	e.record("import.started", map[string]string{"targets": fmt.Sprint(fs.Args()), "allow_differences": fmt.Sprint(*allowDiff)})
	// Deletions are listed, not refused: an import deletes nothing, and
	// the next plan applies max_delete again.
	p, err := buildPlan(e.ctx, cfg, st, fs.Args(), true, true, eng)
	if err != nil {
		return err
	}
	defer p.Close()
	results := adopt.Adopt(p, st, adopt.Options{AllowDifferences: *allowDiff, Now: time.Now()})
	recorded := false
	for _, r := range results {
		if r.Outcome == adopt.Imported || r.Outcome == adopt.RecordedDiffering {
			recorded = true
		}
	}
	if recorded {
		if err := store.Write(st); err != nil {
			e.record("import.finished", map[string]string{"error": err.Error()})
			return fatalf("%v", err).hint("nothing was recorded")
		}
	}
	e.record("import.finished", map[string]string{"sets": importOutcomes(results)})
	ok := true
	for _, r := range results {
		if explicit(fs.Args(), r.Name) && r.Outcome == adopt.Skipped || !r.OK() && r.Outcome != adopt.RecordedDiffering {
			ok = false
		}
	}
	if *jsonOut {
		if err := writeJSON(e, struct {
			FormatVersion string         `json:"format_version"`
			OK            bool           `json:"ok"`
			Plan          *plan.Plan     `json:"plan"`
			Results       []adopt.Result `json:"results"`
		}{"1", ok, p, results}); err != nil {
			return err
		}
	} else if err := printImport(e, p, results, *verbose); err != nil {
		return err
	}
	if !ok {
		return exitErr(exitError)
	}
	return nil
}

// printImport shows the plan of each set that differs or failed (its change
// lines), then one line per set.
func printImport(e *env, p *plan.Plan, results []adopt.Result, verbose bool) error {
	var shown []*plan.Set
	for _, r := range results {
		if r.Outcome == adopt.Differs || r.Outcome == adopt.RecordedDiffering || r.Outcome == adopt.Failed {
			shown = append(shown, p.Set(r.Name))
		}
	}
	if len(shown) > 0 {
		sub := *p
		sub.Sets = shown
		if err := views.NewPlanView(false, e.stdout, verbose).Plan(&sub); err != nil {
			return err
		}
		e.printf("\n")
	}
	if len(results) == 0 {
		e.printf("No backup sets to import.\n")
	}
	for _, r := range results {
		e.printf("%s: %s: %s\n", r.Name, r.Outcome, r.Message)
	}
	return nil
}

func explicit(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// importOutcomes renders "name=outcome,..." for the audit trail.
func importOutcomes(results []adopt.Result) string {
	m := map[string]string{}
	for _, r := range results {
		m[r.Name] = r.Outcome
	}
	return outcomes(m)
}
