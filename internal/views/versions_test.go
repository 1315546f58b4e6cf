package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
)

func TestPlanHumanVersions(t *testing.T) {
	spec := &engine.Spec{Name: "v", Mirror: true, Versions: &engine.Versions{KeepCount: 2}}
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Refresh: true, Sets: []*plan.Set{{
		Name: "v", Action: plan.Sync, Reason: "files differ: 1 changed file, 1 extra file; 3 old versions folders to prune",
		Engine: "native", Mode: "mirror", Source: "/s", Destination: "/d", Spec: spec,
		Summary: &plan.Summary{ChangedFiles: 1, Newer: 1, ExtraFiles: 1, FilesToDelete: 1, BytesToCopy: 10, BytesToDelete: 2048,
			FilesToVersion: 2, BytesToVersion: 3072, VersionsToPrune: 3},
		Changes: engine.ChangeListOf([]engine.Change{
			{Action: engine.Update, Class: engine.Newer, Kind: engine.KindFile, Path: "a", Phase: engine.PhaseCopy, Size: 10, Src: meta(engine.KindFile, 10), Dst: meta(engine.KindFile, 1024)},
			{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: "x", Phase: engine.PhaseDelete, Size: 2048, Dst: meta(engine.KindFile, 2048)},
		}),
		PruneVersions: []string{"20261101T000000Z", "20261102T000000Z", "20261103T000000Z"},
	}}}
	var b bytes.Buffer
	if err := (&PlanHuman{W: &b, MaxChanges: 2}).Plan(p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  Versions to prune (.robo-versions/): 20261101T000000Z, 20261102T000000Z ... and 1 more\n",
		"  Summary: 1 changed file (1 newer), 1 extra file to delete, 2 old files to keep in .robo-versions (3.0 KiB), 3 old versions folders to prune; 10 B to copy\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}
