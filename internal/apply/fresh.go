package apply

import (
	"errors"
	"reflect"
	"slices"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/safetext"
)

// CheckFresh refuses a reviewed plan whose file operations are not what a
// plan made now (fresh, against the same configuration and state) lists:
// CheckSaved compares a plan with the configuration and the state, not
// with the trees, so a source file that changed, appeared or went after
// the review is caught only here (the engines' guards would skip such a
// file, not refuse the plan). Each set of saved must be in fresh with the
// same action, refusal, error, rename, versions to prune and the same
// changes, entry for entry, with what was seen of each entry (size, time,
// mode, link target). The error is a *StaleError naming the first
// difference.
func CheckFresh(saved, fresh *plan.Plan) error {
	for _, s := range saved.Sets {
		f := fresh.Set(s.Name)
		if f == nil {
			return stale("set %q is no longer planned", s.Name)
		}
		switch {
		case s.Action != f.Action:
			return stale("set %q: the plan's action is %s, but a plan made now says %s", s.Name, s.Action, f.Action)
		case s.Refused != f.Refused || s.Error != f.Error:
			return stale("set %q: a plan made now is refused or failed differently (%s)", s.Name, safetext.Line(f.Refused+f.Error))
		case s.MovedFrom != f.MovedFrom:
			return stale("set %q: the rename it records changed", s.Name)
		case !slices.Equal(s.PruneVersions, f.PruneVersions):
			return stale("set %q: the versions to prune changed", s.Name)
		}
		if err := sameChanges(s.Name, s.Changes, f.Changes); err != nil {
			return err
		}
	}
	for _, f := range fresh.Sets {
		if saved.Set(f.Name) == nil && f.HasChanges() {
			return stale("set %q has changes now that the plan does not list", f.Name)
		}
	}
	return nil
}

// sameChanges compares two change lists in order, reading both at once.
func sameChanges(set string, saved, fresh *engine.ChangeList) error {
	si, fi := saved.Iter(), fresh.Iter()
	for {
		sok, fok := si.Next(), fi.Next()
		if err := errors.Join(si.Err(), fi.Err()); err != nil {
			return err
		}
		switch {
		case !sok && !fok:
			return nil
		case !fok:
			a := si.Change()
			return stale("set %q: the source or destination changed since the plan was made: %s is no longer to %s", set, safetext.Name(a.Path), a.Action)
		case !sok:
			b := fi.Change()
			return stale("set %q: the source or destination changed since the plan was made: %s is to %s now", set, safetext.Name(b.Path), b.Action)
		}
		a, b := *si.Change(), *fi.Change()
		if a.Path != b.Path || a.Action != b.Action || a.Kind != b.Kind || a.Class != b.Class {
			return stale("set %q: the source or destination changed since the plan was made: the plan would %s %s, a plan made now would %s %s", set, a.Action, safetext.Name(a.Path), b.Action, safetext.Name(b.Path))
		}
		if a.Size != b.Size || !reflect.DeepEqual(a.Src, b.Src) || !reflect.DeepEqual(a.Dst, b.Dst) {
			return stale("set %q: the source or destination changed since the plan was made: %s is not what the plan saw (size, time or mode)", set, safetext.Name(a.Path))
		}
	}
}
