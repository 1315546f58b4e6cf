package adopt

import (
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
)

// Issue 20: only a set whose plan has nothing to do is recorded; every
// other case leaves the state as it was (the command-level test,
// testdata/script/import.txt, runs it on trees made by rsync -a and cp -a).
func TestAdoptDecides(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	spec := &engine.Spec{}
	earlier := &state.Run{Started: now.Add(-time.Hour), Outcome: state.Refused}
	st := state.New()
	st.Sets["applied"] = &state.Set{Name: "applied", ConfigDigest: "sha256:old"}
	st.Sets["failedbefore"] = &state.Set{Name: "failedbefore", LastRun: earlier}
	st.Sets["old"] = &state.Set{Name: "old", ConfigDigest: "sha256:o"}
	p := &plan.Plan{Sets: []*plan.Set{
		{Name: "same", Action: plan.Create, Spec: spec, ConfigDigest: "sha256:s", Source: "/s", Destination: "/d", Mode: "mirror", Engine: "native"},
		{Name: "failedbefore", Action: plan.Create, Spec: spec, ConfigDigest: "sha256:f"},
		{Name: "differs", Action: plan.Create, Spec: spec, Changes: engine.ChangeListOf([]engine.Change{{Path: "a", Action: engine.Create}})},
		{Name: "unreadable", Action: plan.Create, Spec: spec, ScanErrors: []engine.FileError{{Path: "x"}}},
		{Name: "applied", Action: plan.Noop, Spec: spec},
		{Name: "disabled", Action: plan.Noop, Reason: "disabled (enabled = false): never applied, not planned"},
		{Name: "refused", Action: plan.Create, Spec: spec, Refused: "the source is empty"},
		{Name: "renamed", Action: plan.Noop, Spec: spec, MovedFrom: "old"},
		{Name: "gone", Action: plan.Forget},
	}}
	got := map[string]string{}
	for _, r := range Adopt(p, st, Options{Now: now}) {
		got[r.Name] = r.Outcome
	}
	want := map[string]string{"same": Imported, "failedbefore": Imported, "differs": Differs, "unreadable": Differs,
		"applied": Skipped, "disabled": Skipped, "refused": Failed, "renamed": Skipped}
	if len(got) != len(want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s: %s, want %s", n, got[n], w)
		}
	}
	s := st.Sets["same"]
	if s == nil || s.ConfigDigest != "sha256:s" || s.Destination != "/d" || s.Engine != "native" || !s.AppliedAt.Equal(now) ||
		!s.LastSuccess.Equal(now) || s.LastRun.Outcome != state.Success {
		t.Errorf("imported record %+v", s)
	}
	if f := st.Sets["failedbefore"]; f.ConfigDigest != "sha256:f" || f.LastRun.Outcome != state.Success {
		t.Errorf("record of an earlier failed run %+v", f)
	}
	for _, n := range []string{"differs", "unreadable", "disabled", "refused", "renamed", "gone"} {
		if st.Sets[n] != nil {
			t.Errorf("%s was recorded", n)
		}
	}
	if st.Sets["applied"].ConfigDigest != "sha256:old" || st.Sets["old"] == nil {
		t.Error("an already applied or renamed set's record changed")
	}

	st2 := state.New()
	Adopt(&plan.Plan{Sets: []*plan.Set{{Name: "differs", Action: plan.Create, Spec: spec, ConfigDigest: "sha256:d",
		Changes: engine.ChangeListOf([]engine.Change{{Path: "a", Action: engine.Create}})}}}, st2, Options{Now: now, AllowDifferences: true})
	if d := st2.Sets["differs"]; d == nil || d.ConfigDigest != "sha256:d" || d.LastSuccess != nil || d.LastRun != nil {
		t.Errorf("-allow-differences record %+v", d)
	}
}
