package watch

import (
	"time"

	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// Health is how a set is doing, as robo status shows it and robo watch
// alerts on it.
type Health string

// The health values.
const (
	// HealthOK: the last run succeeded, and a success is recent enough.
	HealthOK Health = "ok"
	// HealthFailing: the last run did not succeed (but the set is not
	// stale yet).
	HealthFailing Health = "failing"
	// HealthStale: no successful run within the set's stale limit.
	HealthStale Health = "stale"
	// HealthNever: the state records no run of the set.
	HealthNever Health = "never"
	// HealthDisabled: the set is disabled (enabled = false).
	HealthDisabled Health = "disabled"
)

// StaleAfter is how long set b may go without a successful run before it
// is stale: its alert_after; when that is unset and the set is scheduled
// (e non-nil), two periods of its schedule around now; otherwise 0
// (never stale).
func StaleAfter(b *schema.Backup, e *Entry, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	if b.AlertAfter > 0 {
		return b.AlertAfter
	}
	if e != nil {
		return 2 * e.Period(now)
	}
	return 0
}

// StaleSince is the time staleness is counted from: the set's last
// success, or for a set that never succeeded, when it was last applied
// or else its last run started. ok is false when the state records none.
func StaleSince(s *state.Set) (t time.Time, ok bool) {
	switch {
	case s == nil:
		return time.Time{}, false
	case s.LastSuccess != nil:
		return *s.LastSuccess, true
	case s.AppliedAt != nil:
		return *s.AppliedAt, true
	case s.LastRun != nil:
		return s.LastRun.Started, true
	}
	return time.Time{}, false
}

// SetHealth returns the health of a set at now. b is the set's
// configuration (nil for a set only in the state), e its schedule on this
// host (nil when it has none), s its state record (nil when none).
//
// The rule, in order: disabled when b is disabled; never when the state
// records no run; stale when staleAfter is set and more than it has passed
// since StaleSince; failing when the last run was not a success; else ok.
func SetHealth(b *schema.Backup, e *Entry, s *state.Set, now time.Time) Health {
	if b != nil && !b.Enabled {
		return HealthDisabled
	}
	if s == nil || s.LastRun == nil {
		return HealthNever
	}
	if limit := StaleAfter(b, e, now); limit > 0 {
		if since, ok := StaleSince(s); ok && now.Sub(since) > limit {
			return HealthStale
		}
	}
	if s.LastRun.Outcome != state.Success {
		return HealthFailing
	}
	return HealthOK
}
