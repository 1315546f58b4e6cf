package watch

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

func TestSetHealth(t *testing.T) {
	now := mustTime(t, "2024-03-04T12:00:00Z")
	at := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
	run := func(outcome string, ago time.Duration) *state.Run {
		return &state.Run{Started: now.Add(-ago), Outcome: outcome}
	}
	daily := schedCfg("0 2 * * *", "UTC", 0)
	entry, err := NewEntry(daily, daily.Backups[0], "h")
	if err != nil {
		t.Fatal(err)
	}
	alert := &schema.Backup{Name: "a", Enabled: true, AlertAfter: 26 * time.Hour}
	plain := &schema.Backup{Name: "p", Enabled: true}
	for _, tc := range []struct {
		name string
		b    *schema.Backup
		e    *Entry
		s    *state.Set
		want Health
	}{
		{"disabled", &schema.Backup{Name: "d"}, nil, &state.Set{LastRun: run(state.Failed, time.Hour)}, HealthDisabled},
		{"never: no record", alert, nil, nil, HealthNever},
		{"never: record without a run", alert, nil, &state.Set{}, HealthNever},
		{"ok", alert, nil, &state.Set{LastRun: run(state.Success, time.Hour), LastSuccess: at(time.Hour)}, HealthOK},
		{"failing", alert, nil, &state.Set{LastRun: run(state.Partial, time.Hour), LastSuccess: at(2 * time.Hour)}, HealthFailing},
		{"stale by alert_after", alert, nil, &state.Set{LastRun: run(state.Failed, time.Hour), LastSuccess: at(27 * time.Hour)}, HealthStale},
		{"alert_after wins over the schedule", alert, entry, &state.Set{LastRun: run(state.Success, 25*time.Hour), LastSuccess: at(25 * time.Hour)}, HealthOK},
		{"two periods of the schedule", daily.Backups[0], entry, &state.Set{LastRun: run(state.Success, 49*time.Hour), LastSuccess: at(49 * time.Hour)}, HealthStale},
		{"within two periods", daily.Backups[0], entry, &state.Set{LastRun: run(state.Success, 47*time.Hour), LastSuccess: at(47 * time.Hour)}, HealthOK},
		{"no limit: never stale", plain, nil, &state.Set{LastRun: run(state.Success, 900*time.Hour), LastSuccess: at(900 * time.Hour)}, HealthOK},
		{"never succeeded, recent", alert, nil, &state.Set{LastRun: run(state.Failed, time.Hour)}, HealthFailing},
		{"never succeeded, applied long ago", alert, nil, &state.Set{LastRun: run(state.Failed, time.Hour), AppliedAt: at(30 * time.Hour)}, HealthStale},
		{"state only", nil, nil, &state.Set{LastRun: run(state.Refused, time.Hour)}, HealthFailing},
	} {
		if got := SetHealth(tc.b, tc.e, tc.s, now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// staleRecorder records Options.Stale calls.
type staleRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *staleRecorder) stale(_ context.Context, _ *schema.Config, set string, last time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf("%s@%s", set, last.UTC().Format("15:04")))
}

func (r *staleRecorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func TestStaleAlertOncePerEpisode(t *testing.T) {
	start := mustTime(t, "2024-03-04T12:00:00Z")
	c := newFakeClock(start)
	r := newFakeRunner(c)
	cfg := &schema.Config{Backups: []*schema.Backup{
		{Name: "db", Enabled: true, AlertAfter: time.Hour},
		{Name: "off", AlertAfter: time.Hour},
		{Name: "new", Enabled: true, AlertAfter: time.Hour},
	}}
	succeed := func(set string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		now := c.Now()
		r.st.Sets[set] = &state.Set{Name: set, LastRun: &state.Run{Started: now, Outcome: state.Success}, LastSuccess: &now}
	}
	succeed("db")
	r.mu.Lock()
	old := start.Add(-48 * time.Hour)
	r.st.Sets["off"] = &state.Set{Name: "off", LastRun: &state.Run{Started: old, Outcome: state.Success}, LastSuccess: &old}
	r.mu.Unlock()

	rec := &staleRecorder{}
	w := stepWatcher(t, cfg, c, r)
	w.o.Stale = rec.stale
	w.checkHealth() // at start
	minutes := func(n int) {
		for range 2 * n {
			c.Advance(30 * time.Second)
			w.tick()
		}
		w.staleWG.Wait()
	}
	minutes(90) // half an hour of stale time, checked every minute
	if got := fmt.Sprint(rec.get()); got != "[db@12:00]" {
		t.Fatalf("stale calls %s, want one for db (not off: disabled, not new: never ran)", got)
	}
	succeed("db") // 13:30: recovered
	minutes(30)
	if got := len(rec.get()); got != 1 {
		t.Fatalf("%d stale calls within the hour after a success, want still 1", got)
	}
	minutes(60)
	if got := fmt.Sprint(rec.get()); got != "[db@12:00 db@13:30]" {
		t.Fatalf("stale calls %s, want a second episode reported once", got)
	}
}
