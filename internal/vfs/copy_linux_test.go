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

// TestCopyNewFile copies through an anonymous file by both link routes
// (AT_EMPTY_PATH, which needs CAP_DAC_READ_SEARCH, and /proc/self/fd):
// bytes, mode and time arrive, no other name appears, and an existing name
// is refused with fs.ErrExist and left as it was.
func TestCopyNewFile(t *testing.T) {
	for _, route := range []string{"empty-path", "proc"} {
		t.Run(route, func(t *testing.T) {
			was := noEmptyPathLink.Load()
			noEmptyPathLink.Store(route == "proc")
			defer noEmptyPathLink.Store(was)

			root := t.TempDir()
			src, dst := NewLocal(filepath.Join(root, "src")), NewLocal(filepath.Join(root, "dst"))
			for _, d := range []string{src.Path("d"), dst.Path("d")} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			data := make([]byte, 3<<20+17)
			for i := range data {
				data[i] = byte(i * 7)
			}
			if err := os.WriteFile(src.Path("d/f"), data, 0o640); err != nil {
				t.Fatal(err)
			}
			mt := time.Date(2023, 5, 6, 7, 8, 9, 987654321, time.UTC)
			skip, err := dst.CopyNewFile(src, "d/f", 0o640, mt, testChecks())
			if errors.Is(err, ErrNoFastCopy) {
				t.Skip("no O_TMPFILE here:", err)
			}
			if skip != "" || err != nil {
				t.Fatalf("CopyNewFile = %q, %v", skip, err)
			}
			got, err := os.ReadFile(dst.Path("d/f"))
			if err != nil || string(got) != string(data) {
				t.Fatalf("copy differs (%d bytes, %v)", len(got), err)
			}
			fi, _ := os.Lstat(dst.Path("d/f"))
			if fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(mt) {
				t.Fatalf("mode %v time %v", fi.Mode(), fi.ModTime())
			}
			if list, _ := os.ReadDir(dst.Path("d")); len(list) != 1 {
				t.Fatalf("destination holds %v", list)
			}

			// The name exists now: refused, nothing replaced.
			if err := os.WriteFile(dst.Path("d/f"), []byte("other"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = dst.CopyNewFile(src, "d/f", 0o640, mt, testChecks())
			if !errors.Is(err, fs.ErrExist) {
				t.Fatalf("over an existing name: err = %v, want fs.ErrExist", err)
			}
			if b, _ := os.ReadFile(dst.Path("d/f")); string(b) != "other" {
				t.Fatalf("existing file became %q", b)
			}

			// A skip after the copy leaves no name behind.
			if err := os.WriteFile(src.Path("d/g"), []byte("g"), 0o640); err != nil {
				t.Fatal(err)
			}
			checks := testChecks()
			checks.After = func(int64, Entry) string { return "changed" }
			if skip, err := dst.CopyNewFile(src, "d/g", 0o640, mt, checks); skip != "changed" || err != nil {
				t.Fatalf("skip = %q, %v", skip, err)
			}
			if _, err := os.Lstat(dst.Path("d/g")); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("d/g after a skip: %v", err)
			}
			if list, _ := os.ReadDir(dst.Path("d")); len(list) != 1 {
				t.Fatalf("destination holds %v", list)
			}
		})
	}
}
