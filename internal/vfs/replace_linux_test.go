//go:build linux

package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReplaceFile replaces a file through a temporary name in its
// directory: the guard sees the old entry before anything is written, a
// skip from it or from Ready leaves the old file and no temporary file,
// Ready runs with the copy complete and the old file still in place, and
// with NoReplace a name taken after the guard is left alone and the copy
// skipped with the guard's reason.
func TestReplaceFile(t *testing.T) {
	root := t.TempDir()
	src, dst := NewLocal(filepath.Join(root, "src")), NewLocal(filepath.Join(root, "dst"))
	for _, d := range []string{src.Path("d"), dst.Path("d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	newData := []byte("the new contents, longer than the old")
	if err := os.WriteFile(src.Path("d/f"), newData, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst.Path("d/f"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2020, 2, 3, 4, 5, 6, 7, time.UTC)
	only := func(want ...string) {
		t.Helper()
		list, err := os.ReadDir(dst.Path("d"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range list {
			got = append(got, e.Name())
		}
		if len(got) != len(want) {
			t.Fatalf("destination holds %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("destination holds %v, want %v", got, want)
			}
		}
	}
	content := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(dst.Path(name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// A guard that refuses: nothing written.
	var saw *Entry
	steps := ReplaceSteps{Guard: func(now *Entry) string {
		saw = now
		if now != nil && now.Size == 3 {
			return "changed"
		}
		return ""
	}}
	if skip, err := dst.ReplaceFile(src, "d/f", "d/.t1", 0o640, mt, testChecks(), steps); skip != "changed" || err != nil {
		t.Fatalf("refused by the guard: %q, %v", skip, err)
	}
	if saw == nil || saw.Kind != File || saw.Name != "f" || saw.Size != 3 {
		t.Fatalf("the guard saw %+v", saw)
	}
	only("f")
	if content("d/f") != "old" {
		t.Fatal("the old file changed")
	}

	// Ready runs with the copy complete under the temporary name and the
	// old file in place; its skip removes the copy.
	steps = ReplaceSteps{Guard: func(*Entry) string { return "" }, Ready: func() (string, error) {
		only(".t2", "f")
		if content("d/.t2") != string(newData) || content("d/f") != "old" {
			t.Error("Ready ran before the copy was complete or after the rename")
		}
		return "keep", nil
	}}
	if skip, err := dst.ReplaceFile(src, "d/f", "d/.t2", 0o640, mt, testChecks(), steps); skip != "keep" || err != nil {
		t.Fatalf("skipped by Ready: %q, %v", skip, err)
	}
	only("f")
	boom := errors.New("boom")
	steps.Ready = func() (string, error) { return "", boom }
	if _, err := dst.ReplaceFile(src, "d/f", "d/.t3", 0o640, mt, testChecks(), steps); !errors.Is(err, boom) {
		t.Fatalf("Ready's error: %v", err)
	}
	only("f")

	// The replace: bytes, mode and time of the source, no other name.
	steps.Ready = nil
	if skip, err := dst.ReplaceFile(src, "d/f", "d/.t4", 0o640, mt, testChecks(), steps); skip != "" || err != nil {
		t.Fatalf("replace: %q, %v", skip, err)
	}
	only("f")
	fi, err := os.Lstat(dst.Path("d/f"))
	if err != nil || content("d/f") != string(newData) || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(mt) {
		t.Fatalf("replaced file: %q mode %v time %v (%v)", content("d/f"), fi.Mode(), fi.ModTime(), err)
	}

	// NoReplace: a name that is free at the guard but taken before the
	// rename (here by Ready) is left alone, and the guard, asked again,
	// gives the reason.
	if err := os.WriteFile(src.Path("d/g"), newData, 0o640); err != nil {
		t.Fatal(err)
	}
	calls := 0
	steps = ReplaceSteps{
		Guard: func(now *Entry) string {
			calls++
			if now != nil {
				return "appeared"
			}
			return ""
		},
		NoReplace: true,
		Ready:     func() (string, error) { return "", os.WriteFile(dst.Path("d/g"), []byte("theirs"), 0o600) },
	}
	skip, err := dst.ReplaceFile(src, "d/g", "d/.t5", 0o640, mt, testChecks(), steps)
	if dst.noRenameNoReplace.Load() {
		t.Skip("this file system has no RENAME_NOREPLACE")
	}
	if skip != "appeared" || err != nil || calls != 2 {
		t.Fatalf("a name taken before the rename: %q, %v (guard asked %d times)", skip, err, calls)
	}
	only("f", "g")
	if content("d/g") != "theirs" {
		t.Fatalf("the file that appeared became %q", content("d/g"))
	}
	// And a free name is taken.
	os.Remove(dst.Path("d/g"))
	steps.Ready = nil
	if skip, err := dst.ReplaceFile(src, "d/g", "d/.t6", 0o640, mt, testChecks(), steps); skip != "" || err != nil {
		t.Fatalf("a free name: %q, %v", skip, err)
	}
	only("f", "g")
	if content("d/g") != string(newData) {
		t.Fatalf("new file holds %q", content("d/g"))
	}

	// A temporary name in another directory is refused; a source that is
	// not a regular file is left to the portable path.
	if _, err := dst.ReplaceFile(src, "d/f", ".t7", 0o640, mt, testChecks(), ReplaceSteps{}); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("temporary name elsewhere: %v", err)
	}
	if err := os.Symlink("f", src.Path("d/l")); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.ReplaceFile(src, "d/l", "d/.t8", 0o640, mt, testChecks(), ReplaceSteps{}); !errors.Is(err, ErrNoFastCopy) {
		t.Fatalf("a link as source: %v", err)
	}
	only("f", "g")
}
