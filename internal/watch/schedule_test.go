package watch

import (
	"fmt"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func schedCfg(expr, tz string, jitter time.Duration) *schema.Config {
	cfg := &schema.Config{Schedules: map[string]*schema.Schedule{}}
	b := &schema.Backup{Name: "docs", Enabled: true, Schedule: expr}
	if tz != "" || jitter > 0 {
		cfg.Schedules["s"] = &schema.Schedule{Name: "s", Cron: expr, Timezone: tz, Jitter: jitter}
		b.ScheduleName = "s"
	}
	cfg.Backups = []*schema.Backup{b}
	return cfg
}

func TestEntryNext(t *testing.T) {
	for _, tc := range []struct {
		expr, tz, from, want string
	}{
		{"0 2 * * *", "UTC", "2024-03-01T00:00:00Z", "2024-03-01T02:00:00Z"},
		{"0 2 * * *", "UTC", "2024-03-01T02:00:00Z", "2024-03-02T02:00:00Z"},
		// 02:00 in Berlin is 01:00 UTC in winter and 00:00 UTC in summer.
		{"0 2 * * *", "Europe/Berlin", "2024-03-01T00:00:00Z", "2024-03-01T01:00:00Z"},
		{"0 2 * * *", "Europe/Berlin", "2024-06-01T00:30:00Z", "2024-06-02T00:00:00Z"},
		{"0 2 * * *", "America/New_York", "2024-03-01T00:00:00Z", "2024-03-01T07:00:00Z"},
		{"30 1 * * 1-5", "UTC", "2024-03-01T02:00:00Z", "2024-03-04T01:30:00Z"}, // Friday → Monday
		{"@every 6h", "UTC", "2024-03-01T00:00:00Z", "2024-03-01T06:00:00Z"},
		{"@hourly", "UTC", "2024-03-01T00:10:00Z", "2024-03-01T01:00:00Z"},
	} {
		t.Run(tc.expr+" "+tc.tz+" "+tc.from, func(t *testing.T) {
			cfg := schedCfg(tc.expr, tc.tz, 0)
			e, err := NewEntry(cfg, cfg.Backups[0], "host")
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Next(mustTime(t, tc.from)); !got.Equal(mustTime(t, tc.want)) {
				t.Errorf("Next = %s, want %s", got.UTC(), tc.want)
			}
		})
	}
}

func TestEntryPeriod(t *testing.T) {
	for _, tc := range []struct {
		expr, at string
		want     time.Duration
	}{
		{"0 2 * * *", "2024-03-01T00:00:00Z", 24 * time.Hour},
		{"0 2 * * 1-5", "2024-03-01T12:00:00Z", 24 * time.Hour}, // Friday noon: Monday 02:00, then Tuesday 02:00
		{"@every 6h", "2024-03-01T00:00:00Z", 6 * time.Hour},
		{"@weekly", "2024-03-01T00:00:00Z", 7 * 24 * time.Hour},
	} {
		cfg := schedCfg(tc.expr, "UTC", 0)
		e, err := NewEntry(cfg, cfg.Backups[0], "h")
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Period(mustTime(t, tc.at)); got != tc.want {
			t.Errorf("%s at %s: period %s, want %s", tc.expr, tc.at, got, tc.want)
		}
	}
	// Thursday noon: next is Friday 02:00, then Monday 02:00.
	cfg := schedCfg("0 2 * * 1-5", "UTC", 0)
	e, _ := NewEntry(cfg, cfg.Backups[0], "h")
	if got := e.Period(mustTime(t, "2024-02-29T12:00:00Z")); got != 72*time.Hour {
		t.Errorf("weekday schedule over a weekend: period %s, want 72h", got)
	}
}

func TestJitterBounds(t *testing.T) {
	const max = 10 * time.Minute
	seen := map[time.Duration]bool{}
	for h := 0; h < 50; h++ {
		for s := 0; s < 20; s++ {
			host, set := fmt.Sprintf("host%02d", h), fmt.Sprintf("set%d", s)
			j := Jitter(host, set, max)
			if j < 0 || j >= max {
				t.Fatalf("Jitter(%s, %s) = %s, outside [0, %s)", host, set, j, max)
			}
			if j != Jitter(host, set, max) {
				t.Fatalf("Jitter(%s, %s) is not stable", host, set)
			}
			seen[j/time.Minute] = true
		}
	}
	if len(seen) < 10 {
		t.Errorf("1000 host/set pairs fell into only %d of 10 minutes: the jitter does not spread", len(seen))
	}
	if Jitter("a", "b", 0) != 0 {
		t.Error("no jitter configured must mean no delay")
	}
	// A host and set pair ("ab","c") must not collide with ("a","bc").
	if Jitter("ab", "c", time.Hour) == Jitter("a", "bc", time.Hour) {
		t.Error("host and set are not separated in the hash")
	}
}

func TestNextWithJitter(t *testing.T) {
	cfg := schedCfg("0 2 * * *", "UTC", 30*time.Minute)
	e, err := NewEntry(cfg, cfg.Backups[0], "nas-client-7")
	if err != nil {
		t.Fatal(err)
	}
	if e.Offset <= 0 || e.Offset >= 30*time.Minute {
		t.Fatalf("offset %s outside (0, 30m)", e.Offset)
	}
	want := mustTime(t, "2024-03-01T02:00:00Z").Add(e.Offset)
	if got := e.Next(mustTime(t, "2024-03-01T01:00:00Z")); !got.Equal(want) {
		t.Errorf("Next = %s, want %s", got, want)
	}
	// Between 02:00 and 02:00+offset the run of today is still ahead.
	if got := e.Next(mustTime(t, "2024-03-01T02:00:00Z")); !got.Equal(want) {
		t.Errorf("Next at 02:00 = %s, want %s", got, want)
	}
	if got := e.Next(want); !got.Equal(want.Add(24 * time.Hour)) {
		t.Errorf("Next at the run = %s, want the day after", got)
	}
}

func TestSchedulerDueCollapsesMissedRuns(t *testing.T) {
	cfg := schedCfg("@hourly", "UTC", 0)
	start := mustTime(t, "2024-03-01T00:30:00Z")
	s, errs := NewScheduler(cfg, "h", start)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if due := s.Due(start.Add(20 * time.Minute)); len(due) != 0 {
		t.Fatalf("due before the hour: %v", due)
	}
	// Five hours without looking: one run, then the next hour.
	now := start.Add(5 * time.Hour)
	if due := s.Due(now); len(due) != 1 || due[0] != "docs" {
		t.Fatalf("due = %v, want [docs]", due)
	}
	if due := s.Due(now); len(due) != 0 {
		t.Fatalf("due twice: %v", due)
	}
	if got, want := s.NextOf("docs"), mustTime(t, "2024-03-01T06:00:00Z"); !got.Equal(want) {
		t.Errorf("next = %s, want %s", got, want)
	}
}

func TestOverdue(t *testing.T) {
	cfg := schedCfg("0 2 * * *", "UTC", 0)
	cfg.Backups = append(cfg.Backups,
		&schema.Backup{Name: "fresh", Enabled: true, Schedule: "0 2 * * *"},
		&schema.Backup{Name: "never", Enabled: true, Schedule: "0 2 * * *"},
		&schema.Backup{Name: "off", Enabled: false, Schedule: "0 2 * * *"},
		&schema.Backup{Name: "unscheduled", Enabled: true})
	now := mustTime(t, "2024-03-04T10:00:00Z")
	old, recent := now.Add(-25*time.Hour), now.Add(-8*time.Hour)
	st := state.New()
	st.Sets["docs"] = &state.Set{LastSuccess: &old}
	st.Sets["fresh"] = &state.Set{LastSuccess: &recent}
	st.Sets["off"] = &state.Set{}
	s, _ := NewScheduler(cfg, "h", now)
	got := fmt.Sprint(s.Overdue(now, st))
	if want := "[docs never]"; got != want {
		t.Errorf("overdue = %s, want %s", got, want)
	}
	if got := fmt.Sprint(s.Overdue(now, nil)); got != "[docs fresh never]" {
		t.Errorf("without a state: %s", got)
	}
}

func TestWakeDetector(t *testing.T) {
	c := newFakeClock(mustTime(t, "2024-03-01T00:00:00Z"))
	w := wakeDetector{threshold: time.Minute}
	if _, woke := w.observe(c.Now(), c.Mono()); woke {
		t.Fatal("first observation cannot be a wake")
	}
	c.Advance(30 * time.Second)
	if gap, woke := w.observe(c.Now(), c.Mono()); woke || gap != 0 {
		t.Fatalf("steady clocks: gap %s woke %v", gap, woke)
	}
	c.Sleep(72 * time.Hour)
	c.Advance(30 * time.Second)
	gap, woke := w.observe(c.Now(), c.Mono())
	if !woke || gap != 72*time.Hour {
		t.Fatalf("after a 3-day sleep: gap %s woke %v", gap, woke)
	}
	c.Advance(30 * time.Second)
	if _, woke := w.observe(c.Now(), c.Mono()); woke {
		t.Fatal("a wake is reported once")
	}
	// A real time.Now carries a monotonic reading; only wall readings count.
	now := time.Now()
	w2 := wakeDetector{threshold: time.Minute}
	w2.observe(now, 0)
	if _, woke := w2.observe(now.Add(2*time.Minute), 0); !woke {
		t.Fatal("a 2-minute wall jump with no monotonic progress must be a wake")
	}
}
