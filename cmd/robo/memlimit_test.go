package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// robo sets a soft memory limit unless GOMEMLIMIT is set (issue #22: the
// collector's heap goal took a 10M-file first copy past its bound).
func TestRoboSetsASoftMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(old)
	setMemoryLimit(func(k string) (string, bool) { return "1GiB", k == "GOMEMLIMIT" })
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit %d with GOMEMLIMIT set", got)
	}
	setMemoryLimit(func(string) (string, bool) { return "", false })
	if got := debug.SetMemoryLimit(-1); got != memoryLimit {
		t.Fatalf("limit %d, want %d", got, memoryLimit)
	}
}
