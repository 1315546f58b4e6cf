package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/schema"
)

// TestVersionsPlanToApply follows a set with versions from plan to apply:
// the overwritten file is kept, the planned folder is pruned, and the next
// plan is noop.
func TestVersionsPlanToApply(t *testing.T) {
	dir := t.TempDir()
	tt.Create(t, filepath.Join(dir, "src"), tt.Dir{"a": tt.File{Content: "new", MTime: tt.Base.Add(time.Hour)}})
	tt.Create(t, filepath.Join(dir, "dst"), tt.Dir{"a": tt.File{Content: "old"},
		engine.VersionsDir + "/20200101T000000Z/x": tt.File{Content: "ancient"}})
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(`
backup "v" {
  source      = "../src"
  destination = "../dst"
  versions {
    keep = "30d"
  }
}
`), 0o644)
	cfg, diags := schema.Load(conf, schema.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	build := func(st *state.State) *plan.Plan {
		p, err := plan.Build(context.Background(), plan.Input{Config: cfg, State: st, Refresh: true, Engines: engines{native.New()}, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := build(nil)
	s := p.Set("v")
	if s.Summary.FilesToVersion != 1 || !slices.Equal(s.PruneVersions, []string{"20200101T000000Z"}) {
		t.Fatalf("plan: %+v prune %v", s.Summary, s.PruneVersions)
	}
	store := &state.Store{Path: cfg.Settings.StateFile}
	res, st, err := apply.Run(context.Background(), p, nil, apply.Options{Store: store, Engines: engines{native.New()}})
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v %+v", err, res.Sets[0])
	}
	er := res.Sets[0].Result
	if er.FilesVersioned != 1 || !slices.Equal(er.VersionsPruned, []string{"20200101T000000Z"}) {
		t.Fatalf("result %+v", er)
	}
	got := tt.Snapshot(t, filepath.Join(dir, "dst"))
	if string(got["a"].Content) != "new" || string(got[er.VersionsFolder+"/a"].Content) != "old" {
		t.Fatalf("destination %v", got)
	}
	if _, ok := got[engine.VersionsDir+"/20200101T000000Z"]; ok {
		t.Fatal("old versions folder not pruned")
	}
	if again := build(st).Set("v"); again.Action != plan.Noop || again.HasChanges() {
		t.Fatalf("second plan: %s (%s) prune %v", again.Action, again.Reason, again.PruneVersions)
	}
}
