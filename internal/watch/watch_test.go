package watch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// fakeRunner records runs and keeps a state of last successes.
type fakeRunner struct {
	clock Clock
	mu    sync.Mutex
	runs  []string // "set:reason" is not known to the runner; set names
	st    *state.State
	block chan struct{} // when set, each run waits for a value
	ran   chan string
}

func newFakeRunner(c Clock) *fakeRunner {
	return &fakeRunner{clock: c, st: state.New(), ran: make(chan string, 10000)}
}

func (r *fakeRunner) Run(ctx context.Context, cfg *schema.Config, sets []string) []Outcome {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
		}
	}
	var out []Outcome
	r.mu.Lock()
	for _, s := range sets {
		r.runs = append(r.runs, s)
		now := r.clock.Now()
		r.st.Sets[s] = &state.Set{Name: s, LastSuccess: &now}
		out = append(out, Outcome{Set: s, Outcome: state.Success})
	}
	r.mu.Unlock()
	for _, s := range sets {
		r.ran <- s
	}
	return out
}

func (r *fakeRunner) readState(*schema.Config) (*state.State, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := state.New()
	for k, v := range r.st.Sets {
		vv := *v
		c.Sets[k] = &vv
	}
	return c, nil
}

func (r *fakeRunner) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.runs)
}

func (r *fakeRunner) setLast(set string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.Sets[set] = &state.Set{Name: set, LastSuccess: &at}
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Debug})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// stepWatcher builds a watcher driven by hand: tick is called directly, so
// the fake clock needs no goroutine to follow.
func stepWatcher(t *testing.T, cfg *schema.Config, c *fakeClock, r *fakeRunner) *Watcher {
	w := New(Options{Config: cfg, Runner: r, Clock: c, Log: testLogger(t), Host: "h", ReadState: r.readState,
		Load: func() (*schema.Config, string, error) { return cfg, "", nil }})
	w.q = newQueue(context.Background(), 2, w.runOne)
	w.mu.Lock()
	w.useConfig(cfg, true)
	w.wake.observe(c.Now(), c.Mono())
	w.mu.Unlock()
	return w
}

func TestScheduleAndCatchUpAfterThreeDaySleep(t *testing.T) {
	c := newFakeClock(mustTime(t, "2024-03-01T03:00:00Z"))
	r := newFakeRunner(c)
	cfg := schedCfg("0 2 * * *", "UTC", 0)
	r.setLast("docs", mustTime(t, "2024-03-01T02:05:00Z"))
	w := stepWatcher(t, cfg, c, r)

	w.startRuns("start")
	w.q.wait()
	if n := r.count(); n != 0 {
		t.Fatalf("%d runs at start, want 0: the last success is within the period", n)
	}
	// Ticks every 30s until the next 02:00: one scheduled run.
	for range 2*23*60 + 1 {
		c.Advance(30 * time.Second)
		w.tick()
	}
	w.q.wait()
	if n := r.count(); n != 1 {
		t.Fatalf("%d runs by %s, want 1 (the 02:00 run)", n, c.Now())
	}
	// The machine sleeps three days (the monotonic clock stands still) and
	// wakes at 10:00: one catch-up run, not three.
	c.Sleep(72*time.Hour + 8*time.Hour)
	c.Advance(30 * time.Second)
	w.tick()
	w.q.wait()
	if n := r.count(); n != 2 {
		t.Fatalf("%d runs after the wake, want 2", n)
	}
	// Awake again: nothing more until the next 02:00.
	for range 10 {
		c.Advance(30 * time.Second)
		w.tick()
	}
	w.q.wait()
	if n := r.count(); n != 2 {
		t.Fatalf("%d runs, want still 2", n)
	}
	if next := w.Status().Sets[0].Next; next == nil || !next.Equal(mustTime(t, "2024-03-06T02:00:00Z")) {
		t.Errorf("next run %v, want 2024-03-06T02:00:00Z", next)
	}
}

func TestCatchUpAtStart(t *testing.T) {
	c := newFakeClock(mustTime(t, "2024-03-04T09:00:00Z"))
	r := newFakeRunner(c)
	cfg := schedCfg("0 2 * * *", "Europe/Berlin", 10*time.Minute)
	cfg.Backups = append(cfg.Backups,
		&schema.Backup{Name: "recent", Enabled: true, Schedule: "0 2 * * *"},
		&schema.Backup{Name: "never", Enabled: true, Schedule: "@every 6h"},
		&schema.Backup{Name: "watched", Enabled: true, Watch: true, Source: t.TempDir(), Debounce: time.Hour, Rescan: time.Hour},
		&schema.Backup{Name: "manual", Enabled: true})
	r.setLast("docs", mustTime(t, "2024-03-01T01:05:00Z")) // three days ago: asleep since
	r.setLast("recent", mustTime(t, "2024-03-04T02:00:00Z"))
	w := stepWatcher(t, cfg, c, r)
	defer w.src.close()
	w.startRuns("start")
	w.q.wait()
	r.mu.Lock()
	got := fmt.Sprint(sortedCopy(r.runs))
	r.mu.Unlock()
	if want := "[docs never watched]"; got != want {
		t.Fatalf("runs at start %s, want %s", got, want)
	}
}

func TestOnceRunsDueAndWatchedSets(t *testing.T) {
	c := newFakeClock(mustTime(t, "2024-03-04T09:00:00Z"))
	r := newFakeRunner(c)
	cfg := schedCfg("@daily", "", 0)
	cfg.Backups = append(cfg.Backups, &schema.Backup{Name: "w", Enabled: true, Watch: true, Source: t.TempDir()})
	w := New(Options{Config: cfg, Runner: r, Clock: c, Log: testLogger(t), ReadState: r.readState})
	outs := w.Once(context.Background())
	if len(outs) != 2 || outs[0].Set != "docs" || outs[1].Set != "w" || !outs[0].OK() {
		t.Fatalf("outcomes %+v", outs)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

func TestChangedSets(t *testing.T) {
	mk := func(mut func(*schema.Config)) *schema.Config {
		cfg := &schema.Config{Settings: schema.Settings{StateFile: "/s", MaxParallel: 2}, Shares: map[string]*schema.Share{}}
		cfg.Backups = []*schema.Backup{
			{Name: "a", Source: "/a", Destination: "/x/a", Enabled: true},
			{Name: "b", Source: "/b", Destination: "/x/b", Enabled: true},
		}
		if mut != nil {
			mut(cfg)
		}
		return cfg
	}
	old := mk(nil)
	for _, tc := range []struct {
		name string
		mut  func(*schema.Config)
		want string
	}{
		{"same", nil, "[]"},
		{"moved lines only", func(c *schema.Config) { c.Backups[0].DeclRange.Start.Line = 40 }, "[]"},
		{"max_parallel only", func(c *schema.Config) { c.Settings.MaxParallel = 4 }, "[]"},
		{"one changed", func(c *schema.Config) { c.Backups[1].ExcludeFiles = []string{"*.tmp"} }, "[b]"},
		{"added and removed", func(c *schema.Config) { c.Backups[1] = &schema.Backup{Name: "c", Enabled: true} }, "[b c]"},
		{"engine default changed", func(c *schema.Config) { c.Settings.Engine = "native" }, "[a b]"},
	} {
		if got := fmt.Sprint(changedSets(old, mk(tc.mut))); got != tc.want {
			t.Errorf("%s: changed %s, want %s", tc.name, got, tc.want)
		}
	}
}
