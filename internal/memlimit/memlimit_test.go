package memlimit

import (
	"math"
	"runtime/debug"
	"testing"
)

func limit() int64 { return debug.SetMemoryLimit(-1) }

// robo sets a soft memory limit unless GOMEMLIMIT is set (issue #22: the
// collector's heap goal took a 10M-file first copy past its bound), and
// reservations raise it and give it back.
func TestLimitAndReservations(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(old)

	Init(func(k string) (string, bool) { return "1GiB", k == "GOMEMLIMIT" })
	if got := limit(); got != math.MaxInt64 {
		t.Fatalf("limit %d with GOMEMLIMIT set, want the runtime's own", got)
	}
	Reserve(64 << 20)() // ignored: the user's limit stands
	if got := limit(); got != math.MaxInt64 {
		t.Fatalf("a reservation changed the user's limit to %d", got)
	}

	Init(func(string) (string, bool) { return "", false })
	if got := limit(); got != Base {
		t.Fatalf("limit %d, want %d", got, Base)
	}
	a := Reserve(80 << 20)
	b := Reserve(16 << 20)
	if got := limit(); got != Base+96<<20 {
		t.Fatalf("limit %d with 96 MiB reserved, want %d", got, Base+96<<20)
	}
	a()
	a() // twice: given back once
	if got := limit(); got != Base+16<<20 {
		t.Fatalf("limit %d after one release, want %d", got, Base+16<<20)
	}
	b()
	if got := limit(); got != Base {
		t.Fatalf("limit %d with nothing reserved, want %d", got, Base)
	}
	Reserve(0)()
	Reserve(-5)()
	if got := limit(); got != Base {
		t.Fatalf("limit %d after empty reservations, want %d", got, Base)
	}
}
