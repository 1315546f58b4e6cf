package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/hooks"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/schema"
)

// hookSetup writes a one-set configuration whose hooks append
// "PHASE OUTCOME" lines to trace.txt in the configuration directory, and
// plans it. extra is added to the backup block.
func hookSetup(t *testing.T, extra string) (cfg *schema.Config, p *plan.Plan, dir string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the hook tests run POSIX commands (sh, sleep)")
	}
	dir = t.TempDir()
	tt.Create(t, filepath.Join(dir, "src"), tt.Dir{"a": tt.File{Content: "a"}})
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(`
backup "db" {
  source      = "../src"
  destination = "../dst"
`+extra+`
}
`), 0o644)
	cfg, diags := schema.Load(conf, schema.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, err := plan.Build(context.Background(), plan.Input{Config: cfg, Refresh: true, Engines: engines{native.New()}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, p, dir
}

// trace is a hook command that records its phase, its outcome and whether
// the destination's file existed when it ran.
const trace = `["sh", "-c", "if [ -e \"$ROBO_DESTINATION/a\" ]; then c=copied; else c=absent; fi; echo \"$ROBO_PHASE $${ROBO_OUTCOME:-none} $c\" >> trace.txt"]`

func runHooks(t *testing.T, cfg *schema.Config, p *plan.Plan, ctx context.Context) (*apply.SetResult, *state.State) {
	t.Helper()
	store := &state.Store{Path: cfg.Settings.StateFile}
	res, _, err := apply.Run(ctx, p, nil, apply.Options{Store: store, Engines: engines{native.New()}, Hooks: hooks.New(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	disk, err := store.Read()
	if err != nil {
		t.Fatal(err)
	}
	return res.Sets[0], disk
}

func readTrace(t *testing.T, cfg *schema.Config) string {
	b, _ := os.ReadFile(filepath.Join(cfg.Dir, "trace.txt"))
	return string(b)
}

func TestHooksOrder(t *testing.T) {
	cfg, p, dir := hookSetup(t, "before = "+trace+"\nafter = "+trace+"\non_failure = "+trace)
	r, disk := runHooks(t, cfg, p, context.Background())
	if r.Outcome != state.Success || len(r.Hooks) != 2 || r.Hooks[0].Phase != hooks.Before || r.Hooks[1].Phase != hooks.After {
		t.Fatalf("%+v %+v", r, r.Hooks)
	}
	// before ran before the copy, after once it was done; on_failure not at all.
	if got := readTrace(t, cfg); got != "before none absent\nafter success copied\n" {
		t.Fatalf("trace %q", got)
	}
	tt.Equal(t, filepath.Join(dir, "src"), filepath.Join(dir, "dst"), tt.Options{})
	if disk.Sets["db"].LastSuccess == nil {
		t.Fatal("no last success")
	}
}

// A failing before aborts the set: the destination is never touched, after
// does not run, on_failure does, and the state records the failure.
func TestHooksBeforeFailureAborts(t *testing.T) {
	cfg, p, dir := hookSetup(t, `before = ["sh", "-c", "echo cannot quiesce the database >&2; exit 3"]
after = `+trace+"\non_failure = "+trace)
	r, disk := runHooks(t, cfg, p, context.Background())
	if r.Outcome != state.Failed || !strings.Contains(r.Message, "before hook failed (exit status 3): the set was not applied") {
		t.Fatalf("%+v", r)
	}
	if r.Result != nil || len(r.Hooks) != 2 || r.Hooks[0].Output != "cannot quiesce the database\n" || r.Hooks[1].Phase != hooks.OnFailure {
		t.Fatalf("%+v %+v", r, r.Hooks)
	}
	if _, err := os.Stat(filepath.Join(dir, "dst")); !os.IsNotExist(err) {
		t.Fatalf("destination touched: %v", err)
	}
	if got := readTrace(t, cfg); got != "on_failure failed absent\n" {
		t.Fatalf("trace %q", got)
	}
	rec := disk.Sets["db"]
	if rec == nil || rec.LastRun.Outcome != state.Failed || rec.ConfigDigest != "" || rec.LastSuccess != nil || !strings.Contains(rec.LastRun.Message, "before hook failed") {
		t.Fatalf("state %+v", rec)
	}
}

// A before hook that outlives hook_timeout is killed within a bound and
// aborts the set.
func TestHooksTimeout(t *testing.T) {
	cfg, p, dir := hookSetup(t, `before = ["sleep", "30"]
hook_timeout = "1s"`)
	start := time.Now()
	r, _ := runHooks(t, cfg, p, context.Background())
	if el := time.Since(start); el > 6*time.Second {
		t.Fatalf("took %s", el)
	}
	if r.Outcome != state.Failed || !r.Hooks[0].TimedOut || !strings.Contains(r.Message, "timed out after 1s") {
		t.Fatalf("%+v %+v", r, r.Hooks[0])
	}
	if _, err := os.Stat(filepath.Join(dir, "dst")); !os.IsNotExist(err) {
		t.Fatal("destination touched")
	}
}

// A failing after makes a success partial and runs on_failure.
func TestHooksAfterFailure(t *testing.T) {
	cfg, p, dir := hookSetup(t, `after = ["false"]
on_failure = `+trace)
	r, disk := runHooks(t, cfg, p, context.Background())
	if r.Outcome != state.Partial || !strings.Contains(r.Message, "after hook failed (exit status 1)") {
		t.Fatalf("%+v", r)
	}
	if got := readTrace(t, cfg); got != "on_failure partial copied\n" {
		t.Fatalf("trace %q", got)
	}
	tt.Equal(t, filepath.Join(dir, "src"), filepath.Join(dir, "dst"), tt.Options{})
	if rec := disk.Sets["db"]; rec.LastRun.Outcome != state.Partial || rec.LastSuccess != nil {
		t.Fatalf("state %+v", rec.LastRun)
	}
}

// A refused set runs on_failure only: before and after never ran.
func TestHooksRefusedRunsOnFailure(t *testing.T) {
	cfg, p, dir := hookSetup(t, "before = "+trace+"\nafter = "+trace+"\non_failure = "+trace)
	os.RemoveAll(filepath.Join(dir, "src"))
	p, err := plan.Build(context.Background(), plan.Input{Config: cfg, Refresh: true, Engines: engines{native.New()}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := runHooks(t, cfg, p, context.Background())
	if r.Outcome != state.Refused || len(r.Hooks) != 1 {
		t.Fatalf("%+v", r)
	}
	if got := readTrace(t, cfg); got != "on_failure refused absent\n" {
		t.Fatalf("trace %q", got)
	}
}

// An interrupt during before kills it; on_failure still runs (it is not
// bound to the cancelled context), so cleanup happens on a service stop.
func TestHooksInterruptedBefore(t *testing.T) {
	cfg, p, dir := hookSetup(t, `before = ["sleep", "30"]
on_failure = `+trace)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	r, _ := runHooks(t, cfg, p, ctx)
	if r.Outcome != state.Interrupted || r.Hooks[0].Error != "interrupted: killed" {
		t.Fatalf("%+v %+v", r, r.Hooks)
	}
	if got := readTrace(t, cfg); got != "on_failure interrupted absent\n" {
		t.Fatalf("trace %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "dst")); !os.IsNotExist(err) {
		t.Fatal("destination touched")
	}
}

// Hooks count in the set's configuration digest: changing one makes the
// next plan an update and a saved plan stale.
func TestHooksInDigest(t *testing.T) {
	cfg, _, _ := hookSetup(t, `before = ["true"]`)
	b := cfg.Backup("db")
	d1 := plan.SetDigest(cfg, b)
	b.Hooks.Before = []string{"false"}
	if plan.SetDigest(cfg, b) == d1 {
		t.Fatal("digest ignores the before hook")
	}
	b.Hooks = schema.Hooks{Timeout: schema.DefaultHookTimeout}
	b2 := *b
	b2.Hooks = schema.Hooks{}
	if plan.SetDigest(cfg, b) != plan.SetDigest(cfg, &b2) {
		t.Fatal("a set without hooks has a digest that depends on hook_timeout")
	}
}
