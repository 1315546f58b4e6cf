package watch

import "time"

// Clock is the watcher's source of time.
type Clock interface {
	// Now is the wall clock, which jumps forward after the machine sleeps.
	Now() time.Time
	// Mono is a monotonic reading. On Linux and macOS it does not advance
	// while the machine sleeps, so its gap to the wall clock reveals a wake.
	Mono() time.Duration
	// AfterFunc calls f in its own goroutine after d of monotonic time.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call; it reports whether it did.
	Stop() bool
}

// RealClock is the system clock.
func RealClock() Clock { return realClock{start: time.Now()} }

type realClock struct{ start time.Time }

func (realClock) Now() time.Time                            { return time.Now() }
func (c realClock) Mono() time.Duration                     { return time.Since(c.start) }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
