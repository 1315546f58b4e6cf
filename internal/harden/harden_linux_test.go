package harden

import (
	"os"
	"regexp"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProcessLinux: after Process the test process itself is not dumpable
// and its core limit is 0, soft and hard (issue 13).
func TestProcessLinux(t *testing.T) {
	if err := Process(); err != nil {
		t.Fatal(err)
	}
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil || d != 0 {
		t.Fatalf("PR_GET_DUMPABLE = %d, %v; want 0", d, err)
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &rl); err != nil || rl.Cur != 0 || rl.Max != 0 {
		t.Fatalf("RLIMIT_CORE = %+v, %v; want 0 0", rl, err)
	}
	b, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Max core file size\s+0\s+0\s+bytes`).Match(b) {
		t.Fatalf("/proc/self/limits:\n%s", b)
	}
	// Idempotent.
	if err := Process(); err != nil {
		t.Fatal(err)
	}
}
