package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/vfs/vfstest"
	"github.com/robo-backup/robo/schema"
)

// Issue 16: a file that keeps changing while it is copied makes the set
// partial under changing_files = "fail" (the default), named in the
// message and counted in the state; under "warn" the set succeeds with a
// warning naming it. The engine is the real native one, its source a real
// tree in which the file is rewritten during every copy.
func TestChangingFileOutcome(t *testing.T) {
	// The name is escaped where it is shown; Windows cannot hold a
	// newline in a name, so there it is a plain one.
	name, shown := "live\n.db", `"live\n.db"`
	if runtime.GOOS == "windows" {
		name, shown = "live.db", "live.db"
	}
	for _, tc := range []struct {
		choice, outcome, message string
		deleted                  bool
	}{
		{"", state.Partial, "1 file kept changing while it was copied and was not backed up: " + shown + "; 1 deletion skipped because of it", false},
		{`changing_files = "warn"`, state.Success, "warning: 1 file kept changing while it was copied and was not backed up: " + shown + " (changing_files = \"warn\")", true},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			tt.Create(t, src, tt.Dir{name: tt.File{Content: "v1"}, "calm": tt.File{Content: "c"}})
			tt.Create(t, filepath.Join(dir, "dst"), tt.Dir{"extra": tt.File{Content: "x"}, "calm": tt.File{Content: "c"}, "k1": tt.File{Content: "k"}, "k2": tt.File{Content: "k"}})
			tt.Create(t, src, tt.Dir{"k1": tt.File{Content: "k"}, "k2": tt.File{Content: "k"}})
			conf := filepath.Join(dir, "conf")
			os.MkdirAll(conf, 0o755)
			os.WriteFile(filepath.Join(conf, "main.hcl"), []byte("backup \"live\" {\n  source = \"../src\"\n  destination = \"../dst\"\n  "+tc.choice+"\n}\n"), 0o644)
			cfg, diags := schema.Load(conf, schema.Options{})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			e := native.New()
			e.Sleep = func(time.Duration) {}
			e.Open = func(root string) (vfs.FS, error) {
				l, err := native.OpenLocal(root)
				if err != nil || root != src {
					return l, err
				}
				return vfstest.NewRewriter(l, src, name), nil
			}
			st := state.New()
			p, err := plan.Build(context.Background(), plan.Input{Config: cfg, State: st, Refresh: true, Engines: engines{e}, Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			store := &state.Store{Path: cfg.Settings.StateFile}
			res, st, err := apply.Run(context.Background(), p, st, apply.Options{Store: store, Engines: engines{e}})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Sets[0]
			if r.Outcome != tc.outcome || r.Message != tc.message {
				t.Fatalf("outcome %s, message %q; want %s, %q", r.Outcome, r.Message, tc.outcome, tc.message)
			}
			if len(r.Result.Changing) != 1 || r.Result.Changing[0].Path != name {
				t.Fatalf("changing %+v", r.Result.Changing)
			}
			run := st.Sets["live"].LastRun
			if run.Outcome != tc.outcome || run.Changing != 1 || run.ExitCode&engine.ExitFailed == 0 || run.Message != tc.message {
				t.Errorf("state run %+v", run)
			}
			if (st.Sets["live"].LastSuccess != nil) != (tc.outcome == state.Success) {
				t.Errorf("last success %v after %s", st.Sets["live"].LastSuccess, tc.outcome)
			}
			_, err = os.Lstat(filepath.Join(dir, "dst", "extra"))
			if deleted := os.IsNotExist(err); deleted != tc.deleted {
				t.Errorf("extra deleted: %v, want %v", deleted, tc.deleted)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "dst", "calm")); err != nil || string(b) != "c" {
				t.Errorf("calm: %q %v", b, err)
			}
		})
	}
}
