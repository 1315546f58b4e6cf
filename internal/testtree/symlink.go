package testtree

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Symlink makes name a symbolic link to target. On Windows, where making
// links needs a privilege (or developer mode), and under Wine 8.0, whose
// CreateSymbolicLink reports success and creates nothing, the test is
// skipped when no link appears; elsewhere that is a failure.
func Symlink(t testing.TB, target, name string) {
	t.Helper()
	err := os.Symlink(target, name)
	if err == nil {
		fi, lerr := os.Lstat(name)
		if lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return
		}
		if runtime.GOOS == "windows" {
			t.Skipf("os.Symlink(%s) reported success but made no link (Wine 8.0's CreateSymbolicLink creates nothing): this test needs real symbolic links", name)
		}
		t.Fatalf("os.Symlink(%s) reported success but made no link: %v", name, lerr)
	}
	if runtime.GOOS == "windows" {
		t.Skipf("no symbolic links on this Windows (they need a privilege or developer mode): %v", err)
	}
	t.Fatal(err)
}

// NeedSymlinks skips the test when symbolic links cannot be made here (as
// Symlink does), for tests that make their link later, where a skip is no
// longer possible (in a callback or another goroutine).
func NeedSymlinks(t testing.TB) {
	t.Helper()
	Symlink(t, "target", filepath.Join(t.TempDir(), "link"))
}
