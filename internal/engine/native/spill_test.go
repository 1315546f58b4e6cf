package native_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/enginetest"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/vfs/vfstest"
)

// spillSmall makes every change list of the test spill after a few
// changes (engine.SpillBlockBytes).
func spillSmall(t *testing.T, n int) {
	old, oldR, oldB := engine.SpillBlockBytes, engine.SortedRunBytes, engine.SortedBlockBytes
	engine.SpillBlockBytes = n
	// The directory sets too (directory times and metadata to restore).
	engine.SortedRunBytes, engine.SortedBlockBytes = n, n/4
	t.Cleanup(func() { engine.SpillBlockBytes, engine.SortedRunBytes, engine.SortedBlockBytes = old, oldR, oldB })
}

// The conformance suite again, with change lists that spill after about
// two changes: every guard, phase and count holds when the plan is read
// back from its spill file (issue #22).
func TestConformanceSpilled(t *testing.T) {
	spillSmall(t, 128)
	enginetest.Run(t, func(t *testing.T) engine.Engine {
		e := native.New()
		e.Sleep = func(time.Duration) {}
		return e
	})
}

// spillTree writes n files of a few bytes, 50 to a directory.
func spillTree(t *testing.T, root string, n int, prefix string) {
	t.Helper()
	for i := range n {
		p := filepath.Join(root, fmt.Sprintf("d%03d", i/50), fmt.Sprintf("%s%05d", prefix, i))
		if i%50 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A mirror of 3,000 changes with 4 KiB blocks: the scan's list spills
// (a planner that held every change in memory again fails here), apply
// reads it back for each phase and converges the tree, copies before
// deletions, with counts that add up.
func TestSpilledMirrorConverges(t *testing.T) {
	spillSmall(t, 4096)
	dir := t.TempDir()
	engine.SetSpillDir(dir)
	t.Cleanup(func() { engine.SetSpillDir("") })
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	spillTree(t, src, 2000, "f")
	spillTree(t, dst, 1000, "extra")
	e := native.New()
	spec := engine.Spec{Source: src, Destination: dst, Mirror: true, Threads: 4}
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Changes.Close()
	if !sc.Changes.Spilled() {
		t.Fatalf("a list of %d changes with 4 KiB blocks did not spill", sc.Changes.Len())
	}
	spillNameless(t, dir, true)
	if n, d := sc.Changes.InPhase(engine.PhaseCopy), sc.Changes.Deletes(); n != 2000+20 || d != 1000 {
		t.Fatalf("%d copies (want 2020: 2000 files, 20 new dirs), %d deletions (want 1000)", n, d)
	}
	// The list reads back whole, in walk order: deletions of a directory
	// come after those of its files.
	var order []string
	if err := sc.Changes.RangeWhere(func(h engine.Head) bool { return h.Phase == engine.PhaseDelete }, func(_ int, c *engine.Change) error {
		order = append(order, c.Path)
		return nil
	}); err != nil || len(order) != 1000 || order[0] != "d000/extra00000" || order[999] != "d019/extra00999" {
		t.Fatalf("deletions read back: %d, %v", len(order), err)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Done != int64(sc.Changes.Len()) || res.Counters.Files.Copied != 2000 || res.DeletedFiles != 1000 {
		t.Fatalf("done %d of %d, copied %d, deleted %d, errors %v", res.Done, sc.Changes.Len(), res.Counters.Files.Copied, res.DeletedFiles, res.Errors)
	}
	again, err := e.Scan(context.Background(), spec)
	if err != nil || again.Changes.Len() != 0 {
		t.Fatalf("not converged: %v, %d changes", err, again.Changes.Len())
	}
	b, err := os.ReadFile(filepath.Join(dst, "d039", "f01999"))
	if err != nil || string(b) != filepath.Join(src, "d039", "f01999") {
		t.Fatalf("last file: %q %v", b, err)
	}
	// Closed, the spill file is gone on every platform.
	sc.Changes.Close()
	spillNameless(t, dir, false)
}

// With the sets of directories to restore spilling after every directory
// (and merging their runs), every destination directory still gets its
// source directory's time, deepest first (a parent set before a child is
// written would be changed again).
func TestSpilledDirTimes(t *testing.T) {
	spillSmall(t, 1)
	dir := t.TempDir()
	engine.SetSpillDir(dir)
	t.Cleanup(func() { engine.SetSpillDir("") })
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	var dirs []string
	for i := range 60 {
		d := filepath.Join(fmt.Sprintf("a%02d", i%7), fmt.Sprintf("b%02d", i))
		if i%2 == 0 {
			d = filepath.Join(d, "c", fmt.Sprintf("d%d", i))
		}
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			if err := os.WriteFile(filepath.Join(src, d, fmt.Sprintf("f%d", j)), []byte(d), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := filepath.WalkDir(src, func(p string, de os.DirEntry, err error) error {
		if err == nil && de.IsDir() {
			dirs = append(dirs, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, d := range dirs {
		mt := base.Add(time.Duration(i) * 1001 * time.Millisecond)
		if err := os.Chtimes(d, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	e := native.New()
	spec := engine.Spec{Source: src, Destination: dst, Mirror: true, Threads: 4}
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Changes.Close()
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v %v", err, res.Errors)
	}
	for _, d := range dirs {
		rel, _ := filepath.Rel(src, d)
		s, err1 := os.Stat(d)
		o, err2 := os.Stat(filepath.Join(dst, rel))
		if err1 != nil || err2 != nil || !o.ModTime().Equal(s.ModTime()) {
			t.Fatalf("%s: destination time %v, source %v (%v %v)", rel, o.ModTime(), s.ModTime(), err1, err2)
		}
	}
	sc.Changes.Close()
	spillNameless(t, dir, false)
}

// With a spilled list, one failed copy still keeps every deletion from
// running, and each is reported as skipped.
func TestSpilledFailedCopySkipsDeletions(t *testing.T) {
	spillSmall(t, 1024)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	spillTree(t, src, 300, "f")
	spillTree(t, dst, 100, "extra")
	e := withFaults(src, func(f *vfstest.Faulty) { f.FailOpen["d005/f00299"] = syscall.EACCES })
	spec := engine.Spec{Source: src, Destination: dst, Mirror: true, Threads: 3}
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Changes.Spilled() {
		t.Fatal("not spilled")
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Path != "d005/f00299" || res.DeletesSkipped != 100 || len(res.Skipped) != 100 || res.DeletedFiles != 0 {
		t.Fatalf("errors %v, deletes skipped %d, skipped %d, deleted %d", res.Errors, res.DeletesSkipped, len(res.Skipped), res.DeletedFiles)
	}
	if _, err := os.Stat(filepath.Join(dst, "d000", "extra00000")); err != nil {
		t.Fatalf("an extra was deleted after a failed copy: %v", err)
	}
}

// spillNameless checks that dir holds only src and dst beside the open
// spill file: on Unix the file has no name at all; on Windows it keeps
// its hidden .robo-changes-*.tmp name while open (FILE_FLAG_DELETE_ON_CLOSE
// removes it when the handle closes, however robo exits).
func spillNameless(t *testing.T, dir string, open bool) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		if n := e.Name(); n != "src" && n != "dst" {
			names = append(names, n)
		}
	}
	if runtime.GOOS == "windows" && open && len(names) == 1 && strings.HasPrefix(names[0], ".robo-changes-") && strings.HasSuffix(names[0], ".tmp") {
		return
	}
	if len(names) != 0 || len(ents) != 2 {
		t.Fatalf("the spill file has a name in the state directory: %v", ents)
	}
}
