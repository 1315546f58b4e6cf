package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// StaleError says a saved plan does not match the configuration or the
// state it is applied against: it is stale (either changed since the plan
// was made) or was edited. Reason names the first difference.
type StaleError struct{ Reason string }

func (e *StaleError) Error() string {
	return e.Reason + "; the saved plan is stale or was edited: make a new plan with robo plan -out FILE"
}

func stale(format string, args ...any) error { return &StaleError{fmt.Sprintf(format, args...)} }

// CheckSaved refuses a saved plan that apply must not run: one that is not
// valid on its own (plan.Plan.Validate), or that is not exactly what the
// current configuration and state would plan. A saved plan is a file that
// travels and can be edited, so nothing in it is trusted that can be
// recomputed: each set's spec is rebuilt from the configuration
// (plan.SpecOf, as the planner does) and compared field by field, as are
// the set's source, destination, mode, engine and digest; the plan must
// hold exactly the sets the configuration and state call for (all of
// them, or its -target sets), forget only sets that are in the state and
// not in the configuration, and name the state's lineage and serial. The
// error names the first difference. engines resolves each set's engine
// ("auto") as the planner did. max_delete is checked again unless
// allowDeletes, the applier's own -allow-deletes: the plan's allow_deletes
// field is part of the file, so it cannot lift the limit by itself. Nor
// can its count of the destination's files: where a percentage limit
// depends on that count, the destination is counted again (recount).
func CheckSaved(ctx context.Context, p *plan.Plan, cfg *schema.Config, st *state.State, engines plan.Engines, allowDeletes bool) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if !p.Refresh {
		return stale("it was made with -refresh=false and lists no file operations")
	}
	recorded := map[string]*state.Set{}
	var lineage string
	var serial uint64
	if st != nil {
		recorded, lineage, serial = st.Sets, st.Lineage, st.Serial
	}
	targets := map[string]bool{}
	for _, t := range p.Targets {
		if cfg.Backup(t) == nil && recorded[t] == nil {
			return stale("the plan targets a set %q that is neither in the configuration nor in the state", t)
		}
		targets[t] = true
	}
	wanted := func(name string) bool { return len(targets) == 0 || targets[name] }
	for _, s := range p.Sets {
		if !wanted(s.Name) {
			return stale("set %q is in the plan, but the plan targets only %q", s.Name, p.Targets)
		}
		if err := checkSet(ctx, s, cfg, recorded[s.Name], engines, p.AllowDeletes, allowDeletes); err != nil {
			return err
		}
	}
	for _, b := range cfg.Backups {
		if wanted(b.Name) && p.Set(b.Name) == nil {
			return stale("the configuration has a set %q that the plan does not", b.Name)
		}
	}
	for name := range recorded {
		if cfg.Backup(name) == nil && wanted(name) && p.Set(name) == nil {
			return stale("the state has a set %q that is no longer configured, and the plan does not forget it", name)
		}
	}
	if d := plan.ConfigDigest(cfg); d != p.ConfigDigest {
		return stale("the configuration changed since the plan was made (its digest is %q in the plan but %q now: the state_file or the robo block's engine)", p.ConfigDigest, d)
	}
	if lineage != p.StateLineage {
		return stale("the state's lineage is %q, the plan was made against %q", lineage, p.StateLineage)
	}
	if serial != p.StateSerial {
		return stale("the state changed since the plan was made (serial %d, the plan saw %d): another apply or a state command ran", serial, p.StateSerial)
	}
	return nil
}

// checkSet compares one set of a saved plan with the configuration.
func checkSet(ctx context.Context, s *plan.Set, cfg *schema.Config, rec *state.Set, engines plan.Engines, planAllows, allowDeletes bool) error {
	b := cfg.Backup(s.Name)
	if s.Action == plan.Forget {
		switch {
		case b != nil:
			return stale("set %q: the plan forgets it, but it is in the configuration", s.Name)
		case rec == nil:
			return stale("set %q: the plan forgets it, but the state has no such set", s.Name)
		case s.Source != rec.Source || s.Destination != rec.Destination || s.Mode != rec.Mode:
			return stale("set %q: the plan forgets %q -> %q (%q), but the state records %q -> %q (%q)", s.Name, s.Source, s.Destination, s.Mode, rec.Source, rec.Destination, rec.Mode)
		}
		return nil
	}
	if b == nil {
		return stale("set %q is in the plan but not in the configuration", s.Name)
	}
	differ := func(what string, inPlan, inConfig any) error {
		return stale("set %q: %s is %s in the plan but %s in the configuration", s.Name, what, show(inPlan), show(inConfig))
	}
	switch {
	case s.Source != b.Source:
		return differ("source", s.Source, b.Source)
	case s.Destination != b.Destination:
		return differ("destination", s.Destination, b.Destination)
	case s.Mode != string(b.Mode):
		return differ("mode", s.Mode, string(b.Mode))
	}
	if !b.Enabled {
		if s.Spec != nil || s.Action != plan.Noop {
			return stale("set %q is disabled (enabled = false) in the configuration, but the plan applies it", s.Name)
		}
	} else {
		if s.Spec == nil {
			return stale("set %q is enabled in the configuration, but the plan has no spec for it", s.Name)
		}
		if err := specDiff(s.Name, *s.Spec, plan.SpecOf(b)); err != nil {
			return err
		}
		if s.Error == "" {
			want := ""
			if eng, err := engines.Select(plan.EngineName(cfg, b)); err == nil {
				want = eng.Name()
			}
			if s.Engine != want {
				return differ("engine", s.Engine, want)
			}
		}
	}
	// max_delete again: a refusal could have been deleted from the file.
	// (The summary matches the changes: plan.Set.Validate.)
	if sum := s.Summary; sum != nil && s.Refused == "" && !allowDeletes {
		dest, err := recount(ctx, s, b, engines)
		if err != nil {
			return err
		}
		if limit := b.MaxDelete.Limit(dest); sum.FilesToDelete > limit {
			if dest < sum.DestFiles {
				return stale("set %q: the plan deletes %d files and says the destination holds %d, but it holds %d now, and max_delete = %s allows %d of those", s.Name, sum.FilesToDelete, sum.DestFiles, dest, b.MaxDelete.String(), limit)
			}
			if planAllows {
				return stale("set %q: the plan deletes %d of the %d files in the destination, more than max_delete = %s allows (%d); the plan says it was made with -allow-deletes, which only robo apply -allow-deletes PLANFILE honours", s.Name, sum.FilesToDelete, sum.DestFiles, b.MaxDelete.String(), limit)
			}
			return stale("set %q: the plan deletes %d of the %d files in the destination, more than max_delete = %s allows (%d), but is not refused", s.Name, sum.FilesToDelete, sum.DestFiles, b.MaxDelete.String(), limit)
		}
	}
	if d := plan.SetDigest(cfg, b); s.ConfigDigest != d {
		return stale("set %q: its configuration changed since the plan was made (max_delete, enabled, schedule, hooks or the engine; the set's digest is %q in the plan but %q now)", s.Name, s.ConfigDigest, d)
	}
	return nil
}

// recount returns the number of files in the set's destination that a
// percentage max_delete is taken of. A saved plan states it
// (summary.destination_files), and an edited plan could state a larger
// number to loosen the limit; the plan's changes prove only a lower bound
// (the destination files they name). When the plan's deletions fit the
// limit of that lower bound, the stated count cannot matter and is not
// checked; otherwise the destination is scanned again and the smaller of
// the two counts is used.
func recount(ctx context.Context, s *plan.Set, b *schema.Backup, engines plan.Engines) (int64, error) {
	sum := s.Summary
	if !b.MaxDelete.Percent || b.MaxDelete.Unlimited || sum.FilesToDelete == 0 {
		return sum.DestFiles, nil
	}
	var named int64
	if err := s.Changes.Range(func(_ int, c *engine.Change) error {
		if d := c.Dst; d != nil && d.Kind == engine.KindFile {
			named++
		}
		return nil
	}); err != nil {
		return 0, err
	}
	if sum.FilesToDelete <= b.MaxDelete.Limit(min(named, sum.DestFiles)) {
		return sum.DestFiles, nil
	}
	if s.Spec == nil {
		return named, nil
	}
	eng, err := engines.Select(s.Engine)
	if err != nil {
		return 0, err
	}
	res, err := eng.Scan(ctx, *s.Spec)
	if err != nil {
		return 0, fmt.Errorf("set %q: counting the destination's files for max_delete = %s: %w", s.Name, b.MaxDelete.String(), err)
	}
	return min(res.Dest.Files, sum.DestFiles), nil
}

// specDiff compares a plan's spec with the configuration's, field by
// field in the order of engine.Spec, and names the first difference by its
// JSON name. The configuration's spec goes through JSON first, as the
// plan's did, so that an empty list and an absent one compare equal.
func specDiff(set string, inPlan, inConfig engine.Spec) error {
	b, err := json.Marshal(inConfig)
	if err != nil {
		return err
	}
	var norm engine.Spec
	if err := json.Unmarshal(b, &norm); err != nil {
		return err
	}
	pv, cv := reflect.ValueOf(inPlan), reflect.ValueOf(norm)
	t := pv.Type()
	for i := 0; i < t.NumField(); i++ {
		a, c := pv.Field(i).Interface(), cv.Field(i).Interface()
		if reflect.DeepEqual(a, c) {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "mirror" {
			mode := map[bool]string{true: "mirror", false: "copy"}
			return stale("set %q: the spec's mode is %q in the plan but %q in the configuration", set, mode[inPlan.Mirror], mode[norm.Mirror])
		}
		if name == "threads" {
			th := func(n int) string {
				if n == 0 {
					return "unset (the machine's default)"
				}
				return show(n)
			}
			return stale("set %q: threads is %s in the plan but %s in the configuration", set, th(inPlan.Threads), th(norm.Threads))
		}
		return stale("set %q: %s is %s in the plan but %s in the configuration", set, name, show(a), show(c))
	}
	return nil
}

// show renders a value of a spec or set for an error message.
func show(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case time.Duration:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
