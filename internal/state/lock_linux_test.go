package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/robo-backup/robo/internal/testtree"
)

// Issue 13: taking a lock on a full or read-only file system reports the
// I/O error with the path, never "locked by another robo process".
func TestLockIOErrorsAreNotContention(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		cause string
	}{
		{"full", func(t *testing.T, dir string) {
			// The lock file and its directory exist (as after earlier
			// runs); the holder file no longer fits.
			os.MkdirAll(filepath.Join(dir, "locks"), 0o755)
			os.WriteFile(filepath.Join(dir, "locks", "docs.lock"), nil, 0o600)
			testtree.Fill(t, dir)
		}, "no space left on device"},
		{"full, no lock directory yet", func(t *testing.T, dir string) { testtree.Fill(t, dir) }, "no space left on device"},
		{"read-only", func(t *testing.T, dir string) {
			if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
				t.Skipf("remount read-only: %v", err)
			}
		}, "read-only file system"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testtree.Tmpfs(t, "64k")
			tc.setup(t, dir)
			st := &Store{Path: filepath.Join(dir, "state.json")}
			_, err := st.LockSet(context.Background(), "docs", CurrentLockInfo("apply"), 0)
			if err == nil {
				t.Fatal("the lock was taken on a full or read-only file system")
			}
			var le *LockedError
			if errors.As(err, &le) {
				t.Fatalf("reported as contention: %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.cause) || !strings.Contains(msg, filepath.Join(dir, "locks")) {
				t.Fatalf("error %q lacks the cause %q or the path", msg, tc.cause)
			}
			// Nothing is left behind that a later run would trip on.
			if ents, _ := os.ReadDir(filepath.Join(dir, "locks")); len(ents) > 1 {
				t.Errorf("leftovers in locks/: %v", fmt.Sprint(ents))
			}
		})
	}
}
