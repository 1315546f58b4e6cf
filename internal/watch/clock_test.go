package watch

import (
	"sort"
	"sync"
	"time"
)

// fakeClock is a Clock that moves only when told. Advance moves both
// clocks and fires due timers; Sleep moves only the wall clock, as a
// suspended machine does.
type fakeClock struct {
	mu     sync.Mutex
	wall   time.Time
	mono   time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Duration
	f       func()
	stopped bool
}

func newFakeClock(wall time.Time) *fakeClock { return &fakeClock{wall: wall} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

func (c *fakeClock) Mono() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.mono + max(d, 0), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Sleep moves the wall clock only.
func (c *fakeClock) Sleep(d time.Duration) {
	c.mu.Lock()
	c.wall = c.wall.Add(d)
	c.mu.Unlock()
}

// Advance moves both clocks by d, firing the timers that come due in order
// (each at its own time), synchronously.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.mono + d
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at < c.timers[j].at })
		var next *fakeTimer
		for i, t := range c.timers {
			if t.stopped {
				continue
			}
			if t.at <= end {
				next = t
				c.timers = append(c.timers[:i:i], c.timers[i+1:]...)
			}
			break
		}
		if next == nil {
			c.wall = c.wall.Add(end - c.mono)
			c.mono = end
			c.timers = compact(c.timers)
			c.mu.Unlock()
			return
		}
		c.wall = c.wall.Add(next.at - c.mono)
		c.mono = next.at
		next.stopped = true
		c.mu.Unlock()
		next.f()
	}
}

func compact(ts []*fakeTimer) []*fakeTimer {
	out := ts[:0]
	for _, t := range ts {
		if !t.stopped {
			out = append(out, t)
		}
	}
	return out
}
