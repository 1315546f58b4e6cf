package watch

import (
	"fmt"
	"hash/fnv"
	"sort"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// Entry is one scheduled set: when it runs on this host.
type Entry struct {
	Set  string
	Expr string
	// Loc is the schedule's time zone (the host's local time when the
	// schedule names none).
	Loc   *time.Location
	sched cron.Schedule
	// Offset is the set's jitter on this host, in [0, jitter).
	Offset time.Duration
}

// Jitter returns the delay of set on host within [0, max): a hash of both,
// so that a fleet spreads its runs while each host keeps a stable time.
func Jitter(host, set string, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(host))
	h.Write([]byte{0})
	h.Write([]byte(set))
	return time.Duration(h.Sum64() % uint64(max))
}

// NewEntry resolves the schedule of b, or returns nil when b has none or is
// disabled.
func NewEntry(cfg *schema.Config, b *schema.Backup, host string) (*Entry, error) {
	if b.Schedule == "" || !b.Enabled {
		return nil, nil
	}
	sc, err := schema.ParseCron(b.Schedule)
	if err != nil {
		return nil, fmt.Errorf("set %s: schedule %q: %w", b.Name, b.Schedule, err)
	}
	e := &Entry{Set: b.Name, Expr: b.Schedule, Loc: time.Local, sched: sc}
	if s := cfg.Schedules[b.ScheduleName]; b.ScheduleName != "" && s != nil {
		if s.Timezone != "" {
			if e.Loc, err = time.LoadLocation(s.Timezone); err != nil {
				return nil, fmt.Errorf("set %s: schedule %s: %w", b.Name, s.Name, err)
			}
		}
		e.Offset = Jitter(host, b.Name, s.Jitter)
	}
	return e, nil
}

// Next returns the first run time strictly after t (the zero time when the
// expression never matches again).
func (e *Entry) Next(t time.Time) time.Time {
	n := e.sched.Next(t.Add(-e.Offset).In(e.Loc))
	if n.IsZero() {
		return n
	}
	return n.Add(e.Offset)
}

// Period is the schedule's interval around t: the second run after t minus
// the first. For "0 2 * * 1-5" it is a day on weekdays and three days over
// a weekend.
func (e *Entry) Period(t time.Time) time.Duration {
	n1 := e.sched.Next(t.In(e.Loc))
	if n1.IsZero() {
		return 0
	}
	n2 := e.sched.Next(n1)
	if n2.IsZero() {
		return 0
	}
	return n2.Sub(n1)
}

// Overdue reports whether a set that last succeeded at last (nil: never)
// missed a run by now: its last success is older than one period.
func (e *Entry) Overdue(now time.Time, last *time.Time) bool {
	if last == nil {
		return true
	}
	p := e.Period(now)
	return p > 0 && now.Sub(*last) > p
}

// Scheduler keeps the next run time of every scheduled set.
type Scheduler struct {
	entries map[string]*Entry
	next    map[string]time.Time
}

// NewScheduler schedules every enabled set of cfg that has a schedule, each
// at its first run after now. Sets whose schedule cannot be resolved are
// left out and reported.
func NewScheduler(cfg *schema.Config, host string, now time.Time) (*Scheduler, []error) {
	s := &Scheduler{entries: map[string]*Entry{}, next: map[string]time.Time{}}
	var errs []error
	for _, b := range cfg.Backups {
		e, err := NewEntry(cfg, b, host)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if e == nil {
			continue
		}
		s.entries[b.Name] = e
		if n := e.Next(now); !n.IsZero() {
			s.next[b.Name] = n
		}
	}
	return s, errs
}

// Entry returns the schedule of set, or nil.
func (s *Scheduler) Entry(set string) *Entry { return s.entries[set] }

// NextOf returns the next run time of set (zero when none).
func (s *Scheduler) NextOf(set string) time.Time { return s.next[set] }

// Due returns, in name order, the sets whose run time has come by now, and
// moves each to its next run after now: runs missed while the process could
// not look (a sleep) collapse into one.
func (s *Scheduler) Due(now time.Time) []string {
	var due []string
	for name, t := range s.next {
		if !now.Before(t) {
			due = append(due, name)
			if n := s.entries[name].Next(now); !n.IsZero() {
				s.next[name] = n
			} else {
				delete(s.next, name)
			}
		}
	}
	sort.Strings(due)
	return due
}

// Earliest returns the earliest next run time, and false when nothing is
// scheduled.
func (s *Scheduler) Earliest() (time.Time, bool) {
	var min time.Time
	for _, t := range s.next {
		if min.IsZero() || t.Before(min) {
			min = t
		}
	}
	return min, !min.IsZero()
}

// Overdue returns, in name order, the scheduled sets whose last success in
// st (nil: no state yet) is older than one period of their schedule.
func (s *Scheduler) Overdue(now time.Time, st *state.State) []string {
	var out []string
	for name, e := range s.entries {
		var last *time.Time
		if st != nil && st.Sets[name] != nil {
			last = st.Sets[name].LastSuccess
		}
		if e.Overdue(now, last) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// wakeDetector notices that the machine slept (or the wall clock was set
// forward): between two observations the wall clock moved more than the
// monotonic clock by at least threshold.
type wakeDetector struct {
	threshold time.Duration
	wall      time.Time
	mono      time.Duration
	primed    bool
}

// observe records a reading and returns the unexplained wall-clock gap when
// it is at least the threshold.
func (w *wakeDetector) observe(wall time.Time, mono time.Duration) (time.Duration, bool) {
	wall = wall.Round(0) // compare wall readings, not the monotonic ones
	defer func() { w.wall, w.mono, w.primed = wall, mono, true }()
	if !w.primed {
		return 0, false
	}
	gap := wall.Sub(w.wall) - (mono - w.mono)
	return gap, gap >= w.threshold
}
