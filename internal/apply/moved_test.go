package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/schema"
)

// Issue 20: applying a moved block moves the state entry, whether the
// whole state is written (robo apply) or each set is committed on its own
// (robo watch).
func TestRunAppliesMovedBlock(t *testing.T) {
	for _, perSet := range []bool{false, true} {
		dir := t.TempDir()
		tt.Create(t, filepath.Join(dir, "src"), tt.Dir{"a": tt.File{Content: "a"}})
		conf := filepath.Join(dir, "conf")
		os.MkdirAll(conf, 0o755)
		os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(`
backup "documents" {
  source      = "../missing"
  destination = "../dst"
}
moved {
  from = "docs"
  to   = "documents"
}
`), 0o644)
		cfg, diags := schema.Load(conf, schema.Options{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		store := &state.Store{Path: cfg.Settings.StateFile}
		st := state.New()
		ok := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
		st.Sets["docs"] = &state.Set{Name: "docs", ConfigDigest: "sha256:x", LastSuccess: &ok, AppliedAt: &ok}
		if err := store.Write(st); err != nil {
			t.Fatal(err)
		}
		p, err := plan.Build(context.Background(), plan.Input{Config: cfg, State: st, Refresh: true, Engines: engines{native.New()}, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Sets) != 1 || p.Sets[0].MovedFrom != "docs" || !p.Sets[0].HasChanges() {
			t.Fatalf("plan %+v", p.Sets[0])
		}
		opts := apply.Options{Store: store, Engines: engines{native.New()}}
		if perSet {
			opts.Commit = func(set string, rec *state.Set) error {
				cur, err := store.Read()
				if err != nil {
					return err
				}
				if rec == nil {
					delete(cur.Sets, set)
				} else {
					cur.Sets[set] = rec
				}
				return store.Write(cur)
			}
		}
		// The source is missing: the set is refused, and keeps its last
		// success under its new name.
		if _, _, err := apply.Run(context.Background(), p, st, opts); err != nil {
			t.Fatal(err)
		}
		disk, err := store.Read()
		if err != nil {
			t.Fatal(err)
		}
		d := disk.Sets["documents"]
		if disk.Sets["docs"] != nil || d == nil || d.Name != "documents" || d.LastSuccess == nil || !d.LastSuccess.Equal(ok) ||
			d.LastRun == nil || d.LastRun.Outcome != state.Refused {
			t.Errorf("perSet=%v: state after the move: %v %+v", perSet, disk.Names(), d)
		}
	}
}
