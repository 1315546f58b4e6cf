package enginetest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// Options adapt the suite to an engine whose trees live somewhere special,
// such as an SMB share whose backing directory the test can reach locally.
// The zero value is what Run uses.
type Options struct {
	// Dirs returns the local directories that hold one case's source and
	// destination trees (neither exists yet). The suite creates, changes
	// and inspects the trees there with the os package. Default: src and
	// dst in a fresh t.TempDir().
	Dirs func(t *testing.T) (src, dst string)
	// Root maps such a directory to the root the engine gets in its Spec
	// (for example a UNC path). Default: the directory itself.
	Root func(dir string) string
	// Skip names cases that cannot work on this kind of tree, with the
	// reason (for example "Symlinks": "SMB shares hold no symlinks").
	Skip map[string]string
	// NoModes: permission bits are not preserved (SMB keeps only the
	// read-only attribute), so trees are compared without them.
	NoModes bool
	// TimeResolution, when set, compares modification times truncated to
	// it (SMB keeps 100ns; the local trees keep nanoseconds).
	TimeResolution time.Duration
	// NoFileTimes: the destination's modification times are not those of
	// its files on disk (a WebDAV remote records the times robo gave
	// them, docs/offsite.md), so trees are compared without file times.
	// The cases that converge still check times through the engine: its
	// second scan must be empty.
	NoFileTimes bool
	// Dst, when set, reaches the destination trees where the os package
	// cannot (an object store keeps no files in a local directory): the
	// suite creates, changes and reads every destination through it. Its
	// paths are the destination directory from Dirs and paths under it.
	Dst Tree
}

// Tree creates, changes and reads trees the suite cannot reach with the os
// package. Paths are slash- or OS-separated paths under a directory that
// Dirs returned.
type Tree interface {
	Create(t *testing.T, root string, tree tt.Dir)
	Snapshot(t *testing.T, root string) map[string]tt.Entry
	// WriteFile writes a file with the time now.
	WriteFile(t *testing.T, path, content string)
	RemoveAll(t *testing.T, path string)
	Exists(t *testing.T, path string) bool
}

// The destination side of a case, through Options.Dst or the os package.

func (s *suite) create(t *testing.T, root string, tree tt.Dir) {
	t.Helper()
	if s.o.Dst != nil {
		s.o.Dst.Create(t, root, tree)
		return
	}
	tt.Create(t, root, tree)
}

func (s *suite) snapshot(t *testing.T, root string) map[string]tt.Entry {
	t.Helper()
	if s.o.Dst != nil {
		return s.o.Dst.Snapshot(t, root)
	}
	return tt.Snapshot(t, root)
}

func (s *suite) writeFile(t *testing.T, path, content string) {
	t.Helper()
	if s.o.Dst != nil {
		s.o.Dst.WriteFile(t, path, content)
		return
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s *suite) removeAll(t *testing.T, path string) {
	t.Helper()
	if s.o.Dst != nil {
		s.o.Dst.RemoveAll(t, path)
		return
	}
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

func (s *suite) exists(t *testing.T, path string) bool {
	t.Helper()
	if s.o.Dst != nil {
		return s.o.Dst.Exists(t, path)
	}
	_, err := os.Lstat(path)
	return err == nil
}

// spec returns a case's Spec and the local directories of its trees.
func (s *suite) spec(t *testing.T, mirror bool) (engine.Spec, string, string) {
	var src, dst string
	if s.o.Dirs != nil {
		src, dst = s.o.Dirs(t)
	} else {
		dir := t.TempDir()
		src, dst = filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	}
	root := func(d string) string { return d }
	if s.o.Root != nil {
		root = s.o.Root
	}
	return engine.Spec{Name: "t", Source: root(src), Destination: root(dst), Mirror: mirror, CopyEmptyDirs: true, Threads: 4, Retries: 0}, src, dst
}

// equal compares a local tree with a destination tree like tt.Equal, without permission bits
// when NoModes is set.
func (s *suite) equal(t *testing.T, want, got string, o tt.Options) {
	t.Helper()
	if d := s.diff(tt.Snapshot(t, want), s.snapshot(t, got), o); d != "" {
		t.Fatalf("trees differ (%s vs %s):\n%s", want, got, d)
	}
}

// diff is tt.Diff, without permission bits when NoModes is set and with
// times truncated to TimeResolution.
func (s *suite) diff(want, got map[string]tt.Entry, o tt.Options) string {
	for _, m := range []map[string]tt.Entry{want, got} {
		for k, e := range m {
			if s.o.NoModes {
				e.Mode = 0
			}
			if s.o.NoFileTimes {
				e.MTime = time.Time{}
			}
			if s.o.TimeResolution > 0 {
				e.MTime = e.MTime.Truncate(s.o.TimeResolution)
			}
			m[k] = e
		}
	}
	return tt.Diff(want, got, o)
}
