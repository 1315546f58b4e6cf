package watch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/robo-backup/robo/schema"
)

// These tests use the real clock and real fsnotify events, with short
// debounce values; they wait by polling with generous deadlines.

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func loader(dir string) Loader {
	return func() (*schema.Config, string, error) {
		cfg, diags := schema.Load(dir, schema.Options{})
		var buf bytes.Buffer
		if len(diags) > 0 {
			hcl.NewDiagnosticTextWriter(&buf, cfg.Files, 0, false).WriteDiagnostics(diags)
		}
		if diags.HasErrors() {
			return cfg, buf.String(), errors.New("the configuration has errors")
		}
		return cfg, buf.String(), nil
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type liveWatcher struct {
	w      *Watcher
	r      *fakeRunner
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	status Status
}

func (l *liveWatcher) lastStatus() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

// startLive starts Run on the configuration in dir.
func startLive(t *testing.T, dir string, budget int) *liveWatcher {
	t.Helper()
	cfg, diags, err := loader(dir)()
	if err != nil {
		t.Fatalf("%v\n%s", err, diags)
	}
	l := &liveWatcher{done: make(chan error, 1)}
	l.r = newFakeRunner(RealClock())
	l.w = New(Options{Config: cfg, Load: loader(dir), Runner: l.r, Log: testLogger(t), ReadState: l.r.readState,
		ConfigDebounce: 50 * time.Millisecond, WatchBudget: budget,
		OnStatus: func(s Status) { l.mu.Lock(); l.status = s; l.mu.Unlock() }})
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go func() { l.done <- l.w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-l.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return l
}

func watchConfig(src, dst string, debounce string) string {
	return fmt.Sprintf(`robo {
  state_file = "state/state.json"
}

backup "docs" {
  source      = %q
  destination = %q
  watch       = true
  debounce    = %q
}
`, src, dst, debounce)
}

// settle waits for the start run of the watched set and returns the count.
func settle(t *testing.T, l *liveWatcher, want int) {
	t.Helper()
	settleQuiet(t, l, want, 300*time.Millisecond)
}

// settleQuiet waits for want runs, then for quiet, and requires that no
// further run started.
func settleQuiet(t *testing.T, l *liveWatcher, want int, quiet time.Duration) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d runs", want), func() bool { return l.r.count() >= want })
	time.Sleep(quiet) // nothing more may follow
	if n := l.r.count(); n != want {
		t.Fatalf("%d runs, want %d", n, want)
	}
}

func TestSourceChangeRunsOnceAfterDebounce(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	writeFile(t, filepath.Join(src, "a.txt"), "a")
	// The debounce is wide enough that a burst written by a loaded CI
	// machine still falls inside one window (the burst takes ~20 ms here).
	const debounce = 500 * time.Millisecond
	writeFile(t, filepath.Join(root, "conf", "robo.hcl"), watchConfig(src, filepath.Join(root, "dst"), debounce.String()))
	l := startLive(t, filepath.Join(root, "conf"), 0)
	quiet := time.Second
	settleQuiet(t, l, 1, quiet) // reconciled once at start

	writeFile(t, filepath.Join(src, "b.txt"), "b")
	settleQuiet(t, l, 2, quiet)

	// A burst of 1,000 changes is one run, when it is written within the
	// debounce's bound (maxDebounceBursts intervals). A slower burst is a
	// stream of changes that never settles, which by design runs once per
	// bound: under Wine, on a loaded machine, writing the 1,000 files takes
	// 20 s or more, and the burst is then a few runs, never one per change.
	start := time.Now()
	for i := range 1000 {
		writeFile(t, filepath.Join(src, fmt.Sprintf("burst/%d.txt", i%10), fmt.Sprint(i)), "x")
	}
	took, bound := time.Since(start), maxDebounceBursts*debounce
	runs := 3
	if took < bound {
		settleQuiet(t, l, runs, quiet)
	} else {
		waitFor(t, "the burst's runs", func() bool { return l.r.count() >= runs })
		for n := -1; n != l.r.count(); time.Sleep(debounce + quiet) {
			n = l.r.count() // until no run starts for a debounce and a quiet
		}
		runs = l.r.count()
		// One run per bound while the writes last, one after them, and one
		// for events the OS delivers after the last write returned.
		if most := 2 + int(took/bound) + 2; runs > most {
			t.Fatalf("the burst, written in %v, ran %d times: more than once per %v (at most %d runs in all)", took, runs-2, bound, most)
		}
		t.Logf("the burst took %v, longer than the debounce's bound of %v: %d runs", took, bound, runs-2)
	}

	// A new subdirectory is watched: a file created in it later is seen.
	sub := filepath.Join(src, "new", "deeper")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	settleQuiet(t, l, runs+1, quiet)
	waitFor(t, "the new directories to be watched", func() bool { return l.w.Status().WatchedDirs >= 14 })
	writeFile(t, filepath.Join(sub, "c.txt"), "c")
	settleQuiet(t, l, runs+2, quiet)
}

func TestWatchBudgetWarnsOnceAndFallsBackToRescans(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	for i := range 8 {
		writeFile(t, filepath.Join(src, fmt.Sprint("d", i), "f"), "x")
	}
	writeFile(t, filepath.Join(root, "conf", "robo.hcl"), watchConfig(src, filepath.Join(root, "dst"), "100ms"))
	l := startLive(t, filepath.Join(root, "conf"), 4)
	settle(t, l, 1)
	st := l.w.Status()
	if st.WatchedDirs != 4 {
		t.Errorf("%d directories watched, want the budget of 4", st.WatchedDirs)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "max_user_watches") {
		t.Errorf("warnings %q, want one about the watch limit", st.Warnings)
	}
	// More directories: still one warning.
	if err := os.MkdirAll(filepath.Join(src, "more1", "more2"), 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(l.w.Status().Warnings); n != 1 {
		t.Errorf("%d warnings, want 1", n)
	}
}

func TestConfigReload(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	writeFile(t, filepath.Join(src, "a.txt"), "a")
	conf := filepath.Join(root, "conf")
	good := watchConfig(src, filepath.Join(root, "dst"), "1h")
	writeFile(t, filepath.Join(conf, "robo.hcl"), good)
	l := startLive(t, conf, 0)
	settle(t, l, 1)

	// A valid change of the set reloads and reconciles it.
	writeFile(t, filepath.Join(conf, "robo.hcl"), strings.Replace(good, `watch       = true`, "watch = true\n  exclude_files = [\"*.tmp\"]", 1))
	settle(t, l, 2)
	if got := l.w.Status(); got.ConfigError != "" {
		t.Fatalf("config error after a valid change: %s", got.ConfigError)
	}

	// A broken change keeps the running configuration and says why.
	writeFile(t, filepath.Join(conf, "robo.hcl"), strings.Replace(good, `watch       = true`, `watch = "often"`, 1))
	waitFor(t, "the status to report the broken configuration", func() bool { return l.lastStatus().ConfigError != "" })
	st := l.lastStatus()
	if !strings.Contains(st.ConfigError, "robo.hcl line 8") {
		t.Errorf("config error has no location:\n%s", st.ConfigError)
	}
	if st.ConfigErrorAt == nil {
		t.Error("no time for the config error")
	}
	// The old configuration keeps running, and nothing ran.
	l.w.mu.Lock()
	cfg := l.w.cfg
	l.w.mu.Unlock()
	if len(cfg.Backups) != 1 || len(cfg.Backups[0].ExcludeFiles) != 1 || !cfg.Backups[0].Watch {
		t.Fatal("the running configuration changed")
	}
	if n := l.r.count(); n != 2 {
		t.Fatalf("%d runs after the broken change, want 2", n)
	}

	// Adding a set reconciles only the new set; fixing the file clears the error.
	two := good + fmt.Sprintf("\nbackup \"more\" {\n  source = %q\n  destination = %q\n}\n", src, filepath.Join(root, "dst2"))
	writeFile(t, filepath.Join(conf, "robo.hcl"), strings.Replace(two, `watch       = true`, "watch = true\n  exclude_files = [\"*.tmp\"]", 1))
	waitFor(t, "the new set to run", func() bool {
		l.r.mu.Lock()
		defer l.r.mu.Unlock()
		return len(l.r.runs) > 0 && l.r.runs[len(l.r.runs)-1] == "more"
	})
	waitFor(t, "the error to clear", func() bool { return l.lastStatus().ConfigError == "" })
	settle(t, l, 3)
}
