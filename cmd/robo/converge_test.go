package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/state"
	tt "github.com/robo-backup/robo/internal/testtree"
)

func twoSetConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		tt.Create(t, filepath.Join(dir, "src-"+n), tt.Dir{n + ".txt": tt.File{Content: n}})
	}
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(`
backup "a" {
  source      = "../src-a"
  destination = "../dst-a"
}
backup "b" {
  source      = "../src-b"
  destination = "../dst-b"
}
`), 0o644)
	return conf
}

// Two runs of different sets overlap (robo watch's max_parallel): each
// records its own entry and neither loses the other's.
func TestConvergeRunsSetsInParallel(t *testing.T) {
	conf := twoSetConfig(t)
	e, _, _ := testEnv("", false)
	e.dir = conf
	cfg, err := loadConfig(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, set := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, res, err := converge(context.Background(), e, cfg, []string{set}, "watch", 10*time.Second, hclog.NewNullLogger())
			if err == nil && !res.OK() {
				err = os.ErrInvalid
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	st, err := (&state.Store{Path: cfg.Settings.StateFile}).Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if s := st.Sets[n]; s == nil || s.LastRun == nil || s.LastRun.Outcome != state.Success {
			t.Errorf("set %s: %+v", n, s)
		}
	}
}

// A set being converged by another process (its set lock held) is left
// alone by robo apply, which applies the other sets.
func TestApplySkipsALockedSet(t *testing.T) {
	conf := twoSetConfig(t)
	store := &state.Store{Path: filepath.Join(conf, ".robo", "state.json")}
	lock, err := store.LockSet(context.Background(), "a", state.CurrentLockInfo("watch a"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	code, out := runCapture(func() *env { e, _, _ := testEnv("", false); return e }(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitError {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "a: failed") || !strings.Contains(out, "set a is being applied by another robo process") || !strings.Contains(out, "b: success") {
		t.Fatalf("output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(conf, "..", "dst-a")); !os.IsNotExist(err) {
		t.Fatal("the locked set was touched")
	}
}
