package apply_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
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

type engines struct{ e engine.Engine }

func (e engines) Select(string) (engine.Engine, error) { return e.e, nil }

func setup(t *testing.T) (*schema.Config, string) {
	dir := t.TempDir()
	tt.Create(t, filepath.Join(dir, "src"), tt.Dir{"a": tt.File{Content: "a"}, "d/b": tt.File{Content: "bb"}})
	tt.Create(t, filepath.Join(dir, "dst2"), tt.Dir{"keep": tt.File{Content: "k"}})
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(`
backup "good" {
  source      = "../src"
  destination = "../dst"
}
backup "refused" {
  source      = "../missing"
  destination = "../dst2"
}
`), 0o644)
	cfg, diags := schema.Load(conf, schema.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return cfg, dir
}

func TestRunRecordsEachSet(t *testing.T) {
	cfg, dir := setup(t)
	store := &state.Store{Path: cfg.Settings.StateFile}
	st := state.New()
	st.Sets["refused"] = &state.Set{Name: "refused", ConfigDigest: "old"}
	st.Sets["old"] = &state.Set{Name: "old", Destination: filepath.Join(dir, "dst2")}
	p, err := plan.Build(context.Background(), plan.Input{Config: cfg, State: st, Refresh: true, Engines: engines{native.New()}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	res, st, err := apply.Run(context.Background(), p, st, apply.Options{Store: store, Engines: engines{native.New()}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatal("OK with a refused set")
	}
	got := map[string]string{}
	for _, s := range res.Sets {
		got[s.Name] = s.Outcome
	}
	if got["good"] != state.Success || got["refused"] != state.Refused || got["old"] != state.Success {
		t.Fatalf("outcomes %v", got)
	}
	// The good set converged despite the refused one.
	tt.Equal(t, filepath.Join(dir, "src"), filepath.Join(dir, "dst"), tt.Options{DirTimes: true})
	// The refused set's data is untouched and its digest not accepted.
	if _, err := os.Stat(filepath.Join(dir, "dst2", "keep")); err != nil {
		t.Fatal(err)
	}
	disk, err := store.Read()
	if err != nil {
		t.Fatal(err)
	}
	// One write per set that changed the state: good, refused, old.
	if disk.Serial != 3 {
		t.Errorf("serial %d, want 3", disk.Serial)
	}
	if r := disk.Sets["refused"]; r.ConfigDigest != "old" || r.LastRun.Outcome != state.Refused || !strings.Contains(r.LastRun.Message, "missing") {
		t.Errorf("refused record %+v %+v", r, r.LastRun)
	}
	g := disk.Sets["good"]
	if g.LastRun.FilesCopied != 2 || g.LastRun.BytesCopied != 3 || g.LastRun.DirsCreated != 1 || g.LastSuccess == nil || g.ConfigDigest != p.Set("good").ConfigDigest {
		t.Errorf("good record %+v %+v", g, g.LastRun)
	}
	if _, ok := disk.Sets["old"]; ok {
		t.Error("forgotten set still in the state")
	}
}

func TestCheckStale(t *testing.T) {
	cfg, _ := setup(t)
	st := state.New()
	st.Serial = 3
	p := &plan.Plan{ConfigDigest: plan.ConfigDigest(cfg), StateLineage: st.Lineage, StateSerial: 3, Refresh: true}
	if err := apply.CheckStale(p, cfg, st); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		mod  func(p *plan.Plan, s *state.State)
		want string
	}{
		{func(p *plan.Plan, s *state.State) { p.ConfigDigest = "x" }, "the configuration changed"},
		{func(p *plan.Plan, s *state.State) { s.Serial = 4 }, "serial 4, the plan saw 3"},
		{func(p *plan.Plan, s *state.State) { s.Lineage = "other" }, `lineage is "other"`},
		{func(p *plan.Plan, s *state.State) { p.Refresh = false }, "-refresh=false"},
	}
	for _, c := range cases {
		pp, ss := *p, *st
		c.mod(&pp, &ss)
		err := apply.CheckStale(&pp, cfg, &ss)
		var se *apply.StaleError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
	// A plan made before any state existed is stale once one exists.
	p0 := &plan.Plan{ConfigDigest: plan.ConfigDigest(cfg), Refresh: true}
	if err := apply.CheckStale(p0, cfg, nil); err != nil {
		t.Fatal(err)
	}
	if err := apply.CheckStale(p0, cfg, st); err == nil {
		t.Fatal("not stale")
	}
}
