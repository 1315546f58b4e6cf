//go:build unix

package plan_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	tt "github.com/robo-backup/robo/internal/testtree"
)

// FIFOs and sockets in a source are never copied; the plan says how many and
// names one, escaped (issue 20: they used to be skipped silently).
func TestPlanWarnsOfSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "a"}, "sub/b": tt.File{Content: "b"}})
	for _, p := range []string{filepath.Join(src, "pipe\x1b[2K"), filepath.Join(src, "sub", "pipe2")} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := load(t, filepath.Join(dir, "conf"), "backup \"x\" {\n source = \"../src\"\n destination = \"../dst\"\n}\n")
	s := build(t, cfg, nil, nil).Sets[0]
	var found string
	for _, w := range s.Warnings {
		if strings.Contains(w, "special files") {
			found = w
		}
	}
	if !strings.HasPrefix(found, "2 special files in the source (FIFOs, sockets or devices) are never copied, e.g. ") {
		t.Fatalf("warnings %q", s.Warnings)
	}
	if strings.ContainsRune(found, 0x1b) {
		t.Fatalf("warning holds a raw escape: %q", found)
	}
	for _, c := range s.Changes.Slice() {
		if strings.Contains(c.Path, "pipe") {
			t.Fatalf("a FIFO is planned: %+v", c)
		}
	}
}
