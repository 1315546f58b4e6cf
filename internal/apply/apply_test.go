package apply_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
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

// Issue 13 and 20: a saved plan is bound to the configuration and state
// it was made from. Every forgery (a spec's roots or mode, a set renamed,
// added or dropped, an engine swapped, a forget of a configured set) and
// every staleness is refused, with the first difference named.
func TestCheckSaved(t *testing.T) {
	cfg, dir := setup(t)
	eng := engines{native.New()}
	st := state.New()
	st.Serial = 3
	st.Sets["old"] = &state.Set{Name: "old", Source: "/s", Destination: "/d", Mode: "mirror"}
	fresh := func() *plan.Plan {
		p, err := plan.Build(context.Background(), plan.Input{Config: cfg, State: st, Refresh: true, Engines: eng, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := apply.CheckSaved(context.Background(), fresh(), cfg, st, eng, false); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(dir, "elsewhere")

	cases := []struct {
		mod  func(p *plan.Plan, s *state.State)
		want string
	}{
		{func(p *plan.Plan, _ *state.State) {
			p.Set("good").Spec.Destination = elsewhere
			p.Set("good").Destination = elsewhere
		},
			`set "good": destination is ` + strconv.Quote(elsewhere) + ` in the plan but ` + strconv.Quote(filepath.Join(dir, "dst")) + ` in the configuration`},
		{func(p *plan.Plan, _ *state.State) { p.Set("good").Spec.Source = "/etc"; p.Set("good").Source = "/etc" }, `set "good": source is "/etc" in the plan`},
		{func(p *plan.Plan, _ *state.State) { p.Set("good").Spec.Destination = elsewhere }, `destination is ` + strconv.Quote(filepath.Join(dir, "dst")) + ` but the spec's destination is ` + strconv.Quote(elsewhere)},
		{func(p *plan.Plan, _ *state.State) { p.Set("good").Spec.ExcludeFiles = []string{"*.db"} }, `set "good": exclude_files is ["*.db"] in the plan but null in the configuration`},
		{func(p *plan.Plan, _ *state.State) { p.Set("good").Spec.Threads = 64 }, `set "good": threads is 64 in the plan but unset (the machine's default) in the configuration`},
		{func(p *plan.Plan, _ *state.State) { p.Set("good").Spec.TimeTolerance = time.Hour }, `time_tolerance is 1h0m0s in the plan but 0s`},
		{func(p *plan.Plan, _ *state.State) { p.Set("good").Spec.CopySymlinks = true }, `copy_symlinks is true in the plan but false`},
		{func(p *plan.Plan, _ *state.State) { p.Set("good").Engine = "robocopy" }, `set "good": engine is "robocopy" in the plan but "native"`},
		{func(p *plan.Plan, _ *state.State) { p.Set("good").ConfigDigest = "sha256:00" }, `set "good": its configuration changed since the plan was made`},
		{func(p *plan.Plan, _ *state.State) { p.Set("good").Name, p.Set("good").Spec.Name = "evil", "evil" }, `set "evil" is in the plan but not in the configuration`},
		{func(p *plan.Plan, _ *state.State) { p.Sets = p.Sets[1:] }, `the configuration has a set "good" that the plan does not`},
		{func(p *plan.Plan, _ *state.State) { p.Sets = p.Sets[:2] }, `the state has a set "old" that is no longer configured, and the plan does not forget it`},
		{func(p *plan.Plan, _ *state.State) { p.Sets[2].Destination = "/precious" }, `set "old": the plan forgets "/s" -> "/precious" ("mirror"), but the state records "/s" -> "/d" ("mirror")`},
		{func(p *plan.Plan, _ *state.State) {
			g := p.Set("good")
			p.Sets[0] = &plan.Set{Name: "good", Action: plan.Forget, Source: g.Source, Destination: g.Destination, Mode: g.Mode}
		}, `set "good": the plan forgets it, but it is in the configuration`},
		{func(p *plan.Plan, _ *state.State) { p.ConfigDigest = "x" }, `the configuration changed since the plan was made (its digest is "x" in the plan`},
		{func(_ *plan.Plan, s *state.State) { s.Serial = 4 }, "serial 4, the plan saw 3"},
		{func(_ *plan.Plan, s *state.State) { s.Lineage = "other" }, `lineage is "other"`},
		{func(p *plan.Plan, _ *state.State) { p.Refresh = false }, "-refresh=false"},
		{func(p *plan.Plan, _ *state.State) { p.Targets = []string{"refused"} }, `set "good" is in the plan, but the plan targets only ["refused"]`},
		{func(p *plan.Plan, _ *state.State) { p.Targets = []string{"nosuch"} }, `targets a set "nosuch"`},
	}
	for _, c := range cases {
		p := fresh()
		ss := *st
		ss.Sets = map[string]*state.Set{"old": st.Sets["old"]}
		c.mod(p, &ss)
		err := apply.CheckSaved(context.Background(), p, cfg, &ss, eng, false)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v\nwant %q", err, c.want)
		}
	}
	// A max_delete refusal removed from the file.
	cfg.Backup("good").MaxDelete = schema.MaxDelete{Value: 0}
	p0 := fresh()
	g := p0.Set("good")
	if g.Refused != "" {
		t.Fatalf("refused already: %s", g.Refused)
	}
	g.Changes = engine.ChangeListOf(append(g.Changes.Slice(), engine.Change{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: "victim", Phase: engine.PhaseDelete, Size: 1, Dst: &engine.Meta{Kind: engine.KindFile, Size: 1}}))
	g.Summary.FilesToDelete, g.Summary.BytesToDelete, g.Summary.ExtraFiles, g.Summary.DestFiles = 1, 1, 1, 1
	if err := apply.CheckSaved(context.Background(), p0, cfg, st, eng, false); err == nil || !strings.Contains(err.Error(), `set "good": the plan deletes 1 of the 1 files in the destination, more than max_delete = 0 allows (0), but is not refused`) {
		t.Errorf("max_delete: %v", err)
	}
	// Issue 13: nor can allow_deletes, set in the file, lift max_delete;
	// only the applier's -allow-deletes can.
	p0.AllowDeletes = true
	if err := apply.CheckSaved(context.Background(), p0, cfg, st, eng, false); err == nil || !strings.Contains(err.Error(), `more than max_delete = 0 allows (0); the plan says it was made with -allow-deletes, which only robo apply -allow-deletes PLANFILE honours`) {
		t.Errorf("allow_deletes in the file: %v", err)
	}
	if err := apply.CheckSaved(context.Background(), p0, cfg, st, eng, true); err != nil {
		t.Errorf("allow_deletes in the file and on the command line: %v", err)
	}
	cfg.Backup("good").MaxDelete = schema.MaxDelete{Percent: true, Value: 50}
	// Nor can a forged count of the destination's files loosen a
	// percentage max_delete: 3 deletions "of 10 files" fit 50%, but the
	// destination holds 1 file, counted again.
	tt.Create(t, filepath.Join(dir, "dst"), tt.Dir{"a": tt.File{Content: "a"}})
	p1 := fresh()
	g = p1.Set("good")
	for _, v := range []string{"v1", "v2", "v3"} {
		g.Changes = engine.ChangeListOf(append(g.Changes.Slice(), engine.Change{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: v, Phase: engine.PhaseDelete, Size: 1, Dst: &engine.Meta{Kind: engine.KindFile, Size: 1}}))
	}
	g.Summary.FilesToDelete, g.Summary.BytesToDelete, g.Summary.ExtraFiles, g.Summary.DestFiles = 3, 3, 3, 10
	if err := apply.CheckSaved(context.Background(), p1, cfg, st, eng, false); err == nil || !strings.Contains(err.Error(), `set "good": the plan deletes 3 files and says the destination holds 10, but it holds 1 now, and max_delete = 50% allows 0 of those`) {
		t.Errorf("forged destination_files: %v", err)
	}
	// An honest count is taken as it is.
	g.Summary.DestFiles = 1
	if err := apply.CheckSaved(context.Background(), p1, cfg, st, eng, false); err == nil || !strings.Contains(err.Error(), `the plan deletes 3 of the 1 files in the destination, more than max_delete = 50% allows (0), but is not refused`) {
		t.Errorf("honest destination_files: %v", err)
	}
	os.RemoveAll(filepath.Join(dir, "dst"))
	// A mirror spec smuggled into a copy set.
	cfg.Backup("good").Mode = schema.Copy
	p := fresh()
	p.Set("good").Spec.Mirror, p.Set("good").Mode = true, "mirror"
	if err := apply.CheckSaved(context.Background(), p, cfg, st, eng, false); err == nil || !strings.Contains(err.Error(), `set "good": mode is "mirror" in the plan but "copy" in the configuration`) {
		t.Errorf("mirror forgery: %v", err)
	}
	// A plan made before any state existed is stale once one exists.
	st0 := (*state.State)(nil)
	p0, err := plan.Build(context.Background(), plan.Input{Config: cfg, State: st0, Refresh: true, Engines: eng, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := apply.CheckSaved(context.Background(), p0, cfg, nil, eng, false); err != nil {
		t.Fatal(err)
	}
	if err := apply.CheckSaved(context.Background(), p0, cfg, state.New(), eng, false); err == nil {
		t.Fatal("not stale")
	}
	var se *apply.StaleError
	if err := apply.CheckSaved(context.Background(), p0, cfg, state.New(), eng, false); !errors.As(err, &se) {
		t.Fatalf("%T", err)
	}
}

// Run checks the plan again, whoever made it: an invalid change runs
// nothing (no engine, no state written).
func TestRunRefusesInvalidPlan(t *testing.T) {
	cfg, dir := setup(t)
	store := &state.Store{Path: cfg.Settings.StateFile}
	p, err := plan.Build(context.Background(), plan.Input{Config: cfg, Refresh: true, Engines: engines{native.New()}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	cs := p.Set("good").Changes.Slice()
	cs[0].Src = nil
	p.Set("good").Changes = engine.ChangeListOf(cs)
	res, _, err := apply.Run(context.Background(), p, nil, apply.Options{Store: store, Engines: engines{native.New()}})
	if !errors.Is(err, apply.ErrInvalidPlan) || !strings.Contains(err.Error(), "needs the source entry") || len(res.Sets) != 0 {
		t.Fatalf("%v %+v", err, res)
	}
	if _, err := os.Stat(filepath.Join(dir, "dst")); !os.IsNotExist(err) {
		t.Fatal("the destination was created")
	}
	if _, err := os.Stat(cfg.Settings.StateFile); !os.IsNotExist(err) {
		t.Fatal("the state was written")
	}
}

// Issue 13: an outcome message (which embeds names and error texts) holds
// no control character and no byte that is not UTF-8, in the result and in
// the state, before notifications, the dashboard or a terminal see it.
func TestOutcomeMessageEscaped(t *testing.T) {
	cfg, _ := setup(t)
	store := &state.Store{Path: cfg.Settings.StateFile}
	p := &plan.Plan{Refresh: true, Sets: []*plan.Set{{Name: "good", Action: plan.Create, Error: "cannot read a\nb\x1b[2K\xff"}}}
	res, st, err := apply.Run(context.Background(), p, nil, apply.Options{Store: store, Engines: engines{native.New()}})
	if err != nil {
		t.Fatal(err)
	}
	want := `cannot read a\nb\x1b[2K\xff`
	if got := res.Sets[0].Message; got != want {
		t.Errorf("result message %q, want %q", got, want)
	}
	if got := st.Sets["good"].LastRun.Message; got != want {
		t.Errorf("state message %q, want %q", got, want)
	}
}
