package apply

import (
	"errors"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
)

// TestCheckFresh: a reviewed plan is refused when a plan made now lists
// other file operations, or the same ones on entries that changed (issue
// 19: the dashboard's reviewed apply after a source change).
func TestCheckFresh(t *testing.T) {
	mk := func(changes ...engine.Change) *plan.Plan {
		return &plan.Plan{Sets: []*plan.Set{{Name: "docs", Action: plan.Sync, Changes: engine.ChangeListOf(changes)}}}
	}
	a := engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: "a.txt", Size: 5,
		Src: &engine.Meta{Kind: engine.KindFile, Size: 5, MTime: 100}}
	grown := a
	grown.Size, grown.Src = 9, &engine.Meta{Kind: engine.KindFile, Size: 9, MTime: 200}
	touched := a
	touched.Src = &engine.Meta{Kind: engine.KindFile, Size: 5, MTime: 300}
	b := a
	b.Path = "b.txt"
	if err := CheckFresh(mk(a), mk(a)); err != nil {
		t.Fatalf("the same plan: %v", err)
	}
	for name, fresh := range map[string]*plan.Plan{
		"changed size":  mk(grown),
		"changed time":  mk(touched),
		"a new file":    mk(a, b),
		"a file gone":   mk(),
		"another file":  mk(b),
		"no set":        {},
		"another state": {Sets: []*plan.Set{{Name: "docs", Action: plan.Noop}}},
	} {
		err := CheckFresh(mk(a), fresh)
		var se *StaleError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "docs") {
			t.Errorf("%s: %v, want a StaleError", name, err)
		}
	}
}
