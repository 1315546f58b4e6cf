package remote

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when the limiter sleeps: the
// limiter's accounting is checked exactly, with no measured time.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
	naps  int
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept += d
	c.naps++
}
func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func limited(c *fakeClock, rate func(time.Time) int64) *limiter {
	return &limiter{rate: rate, now: c.now, sleep: c.sleep}
}

func constRate(r int64) func(time.Time) int64 { return func(time.Time) int64 { return r } }

// A limit of 1000 bytes a second: 3000 bytes written take 3 s of the
// clock less the quarter-second burst, whatever the write sizes; an idle
// hour earns no more than the burst; the writer delivers every byte.
func TestLimiterAccounting(t *testing.T) {
	start := time.Date(2026, 1, 5, 12, 0, 0, 0, time.Local)
	for _, chunk := range []int{1, 100, 1000, 3000} {
		c := &fakeClock{t: start}
		l := limited(c, constRate(1000))
		var got bytes.Buffer
		w := pacedWriter{Writer: &got, l: l}
		data := bytes.Repeat([]byte("x"), 3000)
		for i := 0; i < len(data); i += chunk {
			if _, err := w.Write(data[i:min(i+chunk, len(data))]); err != nil {
				t.Fatal(err)
			}
		}
		if got.Len() != 3000 {
			t.Fatalf("chunk %d: %d bytes delivered", chunk, got.Len())
		}
		if want := 3*time.Second - burst; c.slept != want {
			t.Errorf("chunk %d: slept %v, want %v", chunk, c.slept, want)
		}
		// An idle hour: the next second's worth of bytes waits all but
		// the burst again, not zero.
		c.advance(time.Hour)
		before := c.slept
		w.Write(make([]byte, 1000))
		if d := c.slept - before; d != time.Second-burst {
			t.Errorf("chunk %d: after an idle hour 1000 bytes slept %v, want %v", chunk, d, time.Second-burst)
		}
	}
}

// The rate in force is the timetable's at each moment: unlimited before
// 08:00, 1000 B/s from 08:00; a big write is paced in chunks so a change
// of rate takes effect within one chunk.
func TestLimiterTimetable(t *testing.T) {
	eight := time.Date(2026, 1, 5, 8, 0, 0, 0, time.Local)
	rate := func(at time.Time) int64 {
		if at.Before(eight) {
			return 0
		}
		return 1000
	}
	c := &fakeClock{t: eight.Add(-time.Minute)}
	l := limited(c, rate)
	w := pacedWriter{Writer: io.Discard, l: l}
	if n, err := w.Write(make([]byte, 1<<20)); n != 1<<20 || err != nil {
		t.Fatal(n, err)
	}
	if c.slept != 0 {
		t.Fatalf("slept %v before 08:00 (unlimited)", c.slept)
	}
	c.advance(time.Minute) // 08:00
	w.Write(make([]byte, 2*pacedChunk))
	if c.naps != 2 {
		t.Errorf("a write of two chunks slept %d times, want 2 (paced per chunk)", c.naps)
	}
	want := time.Duration(float64(2*pacedChunk)/1000*float64(time.Second)) - burst
	if c.slept != want {
		t.Errorf("slept %v, want %v", c.slept, want)
	}
	// The reader is paced the same way.
	c2 := &fakeClock{t: eight}
	r := pacedReader{Reader: bytes.NewReader(make([]byte, 5000)), l: limited(c2, constRate(1000))}
	if n, _ := io.Copy(io.Discard, r); n != 5000 {
		t.Fatalf("read %d", n)
	}
	if want := 5*time.Second - burst; c2.slept != want {
		t.Errorf("reader slept %v, want %v", c2.slept, want)
	}
}

// With no limit nothing sleeps.
func TestLimiterUnlimited(t *testing.T) {
	c := &fakeClock{t: time.Now()}
	for _, l := range []*limiter{nil, {now: c.now, sleep: c.sleep}, limited(c, constRate(0))} {
		l.wait(1 << 30)
	}
	if c.slept != 0 {
		t.Fatalf("slept %v without a limit", c.slept)
	}
}
