package native_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/robo-backup/robo/internal/engine/native"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// TestBusyDestinationFileRetried (issue 14 item 3): a destination file
// that another program holds open without sharing it (a virus scanner, an
// editor) makes the update fail with a sharing violation or access
// denied. robo retries it with the set's retries, as robocopy does, and
// the update succeeds once the other program lets go.
func TestBusyDestinationFileRetried(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	tt.Create(t, src, tt.Dir{"f": tt.File{Content: "new", MTime: t1}})
	tt.Create(t, dst, tt.Dir{"f": tt.File{Content: "old"}})
	p, err := windows.UTF16PtrFromString(filepath.Join(dst, "f"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ, 0, nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			windows.CloseHandle(h)
		}
	}()
	e := native.New()
	sleeps := 0
	e.Sleep = func(time.Duration) {
		sleeps++
		if sleeps == 2 && !closed {
			windows.CloseHandle(h)
			closed = true
		}
	}
	spec := mirrorSpec(src, dst)
	spec.Retries = 5
	res := scanApply(t, e, spec)
	if !res.OK() || res.Counters.Files.Copied != 1 || sleeps < 2 {
		t.Fatalf("copied %d after %d retries; errors %+v", res.Counters.Files.Copied, sleeps, res.Errors)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "new" {
		t.Fatalf("dst/f = %q", b)
	}
}

// TestReadOnlyDestinationCleared (issue 14 item 3): a read-only
// destination file (FILE_ATTRIBUTE_READONLY) is updated and a read-only
// extra is deleted by a mirror: the attribute is cleared and the operation
// retried, as robocopy and robo's SMB client do.
func TestReadOnlyDestinationCleared(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	tt.Create(t, src, tt.Dir{"f": tt.File{Content: "new", MTime: t1}})
	tt.Create(t, dst, tt.Dir{"f": tt.File{Content: "old"}, "extra": tt.File{Content: "e"}})
	for _, n := range []string{"f", "extra"} {
		if err := os.Chmod(filepath.Join(dst, n), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	e := native.New()
	e.Sleep = func(time.Duration) {}
	spec := mirrorSpec(src, dst)
	res := scanApply(t, e, spec)
	if !res.OK() || res.Counters.Files.Copied != 1 || res.DeletedFiles != 1 {
		t.Fatalf("copied %d deleted %d; errors %+v", res.Counters.Files.Copied, res.DeletedFiles, res.Errors)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "new" {
		t.Fatalf("dst/f = %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dst, "extra")); !os.IsNotExist(err) {
		t.Fatalf("extra: %v", err)
	}
}
