package testtree

import (
	"os"
	"strings"
	"testing"
)

// OpenFDs counts this process's open file descriptors whose target, as
// /proc/self/fd names it (Linux only), contains substr: a nameless spill
// file shows as "/dir/.robo-changes-… (deleted)".
func OpenFDs(t testing.TB, substr string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.Contains(l, substr) {
			n++
		}
	}
	return n
}
