package native_test

// Fault tests for the data-safety issue: a full disk, a destination that
// turns read-only, source files that change or vanish while a set runs, and
// unreadable files. Each checks the same promise: every destination file at
// its final name is a complete version (the old one or the source's), the
// error is clear, permanent errors are not retried, and after an error the
// set's deletions are skipped. docs/safety.md lists them.

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/vfs/vfstest"
)

// faultyEngine wraps the source and/or destination root in a Faulty FS.
// It counts retry waits instead of sleeping.
func faultyEngine(src, dst string, setupSrc, setupDst func(f *vfstest.Faulty)) (*native.Engine, *atomic.Int32) {
	e := native.New()
	var sleeps atomic.Int32
	e.Sleep = func(time.Duration) { sleeps.Add(1) }
	e.Open = func(root string) (vfs.FS, error) {
		l, err := native.OpenLocal(root)
		if err != nil {
			return nil, err
		}
		f := vfstest.NewFaulty(l)
		switch {
		case root == src && setupSrc != nil:
			setupSrc(f)
		case root == dst && setupDst != nil:
			setupDst(f)
		default:
			return l, nil
		}
		return f, nil
	}
	return e, &sleeps
}

func scanApply(t *testing.T, e *native.Engine, spec engine.Spec) *engine.Result {
	t.Helper()
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// versions maps a path to the complete contents it may have.
type versions map[string][]string

// checkComplete fails unless every file under root at its final name holds
// one of its allowed versions. Temp files are counted and returned.
func checkComplete(t *testing.T, root string, allowed versions) (temps []string) {
	t.Helper()
	snap := tt.Snapshot(t, root)
	for p, en := range snap {
		if en.Kind != "file" {
			continue
		}
		if native.IsTemp(filepath.Base(p)) {
			temps = append(temps, p)
			continue
		}
		ok := false
		for _, v := range allowed[p] {
			if bytes.Equal(en.Content, []byte(v)) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s holds %d bytes that are no complete version of it", p, len(en.Content))
		}
	}
	return temps
}

func errorsContain(res *engine.Result, text string) bool {
	for _, e := range res.Errors {
		if strings.Contains(e.Err, text) {
			return true
		}
	}
	return false
}

func mirrorSpec(src, dst string) engine.Spec {
	return engine.Spec{Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 1, Retries: 2, RetryWait: time.Second}
}

// A destination disk that fills up in the middle of a set: the file being
// written fails with ENOSPC, is not retried (a full disk does not empty
// itself), its temp file is removed, the old versions stay, and the extra
// files are not deleted although deleting them would free space.
func TestFullDestinationDisk(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	big := strings.Repeat("n", 100_000)
	old := strings.Repeat("o", 50_000)
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: big}, "b": tt.File{Content: big + "b"}, "c": tt.File{Content: big + "c"}, "d/e": tt.File{Content: big + "e"}})
	tt.Create(t, dst, tt.Dir{"b": tt.File{Content: old, MTime: tt.Base.Add(-time.Hour)}, "extra": tt.File{Content: "x"}})
	e, sleeps := faultyEngine(src, dst, nil, func(f *vfstest.Faulty) { f.Capacity = 250_000 })
	res := scanApply(t, e, mirrorSpec(src, dst))
	if !errorsContain(res, "no space left on device") {
		t.Fatalf("want an ENOSPC error, got %+v", res.Errors)
	}
	if sleeps.Load() != 0 {
		t.Errorf("a full disk was retried %d times", sleeps.Load())
	}
	if res.DeletesSkipped != 1 {
		t.Errorf("deletes skipped %d, want 1", res.DeletesSkipped)
	}
	if _, err := os.Stat(filepath.Join(dst, "extra")); err != nil {
		t.Errorf("extra was deleted after a failed copy: %v", err)
	}
	temps := checkComplete(t, dst, versions{"a": {big}, "b": {old, big + "b"}, "c": {big + "c"}, "d/e": {big + "e"}, "extra": {"x"}})
	if len(temps) > 0 {
		t.Errorf("temp files left: %v", temps)
	}
}

// A destination that turns read-only (EROFS) after a few operations: each
// later operation fails at once, nothing is retried, and the deletions are
// skipped. A temp file that could not be removed any more is cleaned up by
// the next run once the disk is writable again.
func TestDestinationTurnsReadOnly(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tree := tt.Dir{}
	allowed := versions{"extra": {"x"}}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		tree[n] = tt.File{Content: strings.Repeat(n, 70_000)}
		allowed[n] = []string{strings.Repeat(n, 70_000), "old " + n}
	}
	tt.Create(t, src, tree)
	tt.Create(t, dst, tt.Dir{"c": tt.File{Content: "old c", MTime: tt.Base.Add(-time.Hour)}, "extra": tt.File{Content: "x"}})
	for after := range 8 {
		t.Run("after"+string(rune('0'+after)), func(t *testing.T) {
			d := filepath.Join(dir, "dst"+string(rune('0'+after)))
			tt.Create(t, d, tt.Dir{"c": tt.File{Content: "old c", MTime: tt.Base.Add(-time.Hour)}, "extra": tt.File{Content: "x"}})
			e, sleeps := faultyEngine(src, d, nil, func(f *vfstest.Faulty) { f.ReadOnly, f.ReadOnlyAfter = syscall.EROFS, after })
			res := scanApply(t, e, mirrorSpec(src, d))
			if !errorsContain(res, "read-only file system") {
				t.Fatalf("want an EROFS error, got %+v", res.Errors)
			}
			if sleeps.Load() != 0 {
				t.Errorf("a read-only disk was retried %d times", sleeps.Load())
			}
			if _, err := os.Stat(filepath.Join(d, "extra")); err != nil {
				t.Errorf("extra was deleted after a failed copy: %v", err)
			}
			checkComplete(t, d, allowed)
			// The disk is writable again: the next run converges and
			// removes any temp file left behind.
			res = scanApply(t, native.New(), mirrorSpec(src, d))
			if len(res.Errors) > 0 {
				t.Fatalf("second run: %+v", res.Errors)
			}
			if diff := tt.Diff(tt.Snapshot(t, src), tt.Snapshot(t, d), tt.Options{}); diff != "" {
				t.Errorf("not converged:\n%s", diff)
			}
		})
	}
}

// A rename into place that fails permanently (EACCES) is not retried, its
// temp file is removed and the old version stays. (Transient errors are
// retried: TestRetriesTransientErrors.)
func TestRenameFails(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "new a"}, "b": tt.File{Content: "new b"}})
	tt.Create(t, dst, tt.Dir{"a": tt.File{Content: "old a", MTime: tt.Base.Add(-time.Hour)}, "extra": tt.File{Content: "x"}})
	e, sleeps := faultyEngine(src, dst, nil, func(f *vfstest.Faulty) { f.FailRename["a"] = syscall.EACCES })
	res := scanApply(t, e, mirrorSpec(src, dst))
	if len(res.Errors) != 1 || res.Errors[0].Path != "a" || !strings.HasSuffix(res.Errors[0].Err, "a: permission denied") {
		t.Fatalf("errors %+v", res.Errors)
	}
	if sleeps.Load() != 0 {
		t.Errorf("retried a permanent error %d times", sleeps.Load())
	}
	if temps := checkComplete(t, dst, versions{"a": {"old a"}, "b": {"new b"}, "extra": {"x"}}); len(temps) > 0 {
		t.Errorf("temp files left: %v", temps)
	}
}

// A source file rewritten while robo copies it (after the first chunk was
// read) is detected by its size and modification time afterwards; the mixed
// copy is discarded, and the retry at the end of the phase copies the new
// version whole (changing_test.go has the file that never settles).
func TestSourceChangesDuringCopy(t *testing.T) {
	for _, tc := range []struct{ name, rewrite string }{
		{"longer", strings.Repeat("B", 300_000)},
		{"same size", strings.Repeat("B", 200_000)},
		{"truncated", "B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			orig := strings.Repeat("A", 200_000)
			tt.Create(t, src, tt.Dir{"big": tt.File{Content: orig}})
			tt.Create(t, dst, tt.Dir{"big": tt.File{Content: "old", MTime: tt.Base.Add(-time.Hour)}})
			e, sleeps := faultyEngine(src, dst, func(f *vfstest.Faulty) {
				f.AfterRead["big"] = func() {
					if err := os.WriteFile(filepath.Join(src, "big"), []byte(tc.rewrite), 0o644); err != nil {
						t.Error(err)
					}
				}
			}, nil)
			res := scanApply(t, e, mirrorSpec(src, dst))
			// The first copy is discarded; the retry at the end of the
			// phase copies the file as it is then (#16).
			if len(res.Skipped) != 0 || len(res.Changing) != 0 || len(res.Errors) != 0 || sleeps.Load() != 1 {
				t.Fatalf("skipped %+v changing %+v errors %+v, %d waits", res.Skipped, res.Changing, res.Errors, sleeps.Load())
			}
			if temps := checkComplete(t, dst, versions{"big": {tc.rewrite}}); len(temps) > 0 {
				t.Errorf("temp files left: %v", temps)
			}
		})
	}
}

// The same with a real writer racing the copy: a goroutine keeps rewriting
// a multi-megabyte source file while the set runs. Whatever the timing, the
// destination holds a complete version or nothing.
func TestSourceRewrittenConcurrently(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	const size = 8 << 20
	orig := bytes.Repeat([]byte("A"), size)
	tt.Create(t, src, tt.Dir{"big": tt.File{Content: string(orig)}})
	spec := mirrorSpec(src, dst)
	e := native.New()
	allowed := versions{"big": {string(orig)}}
	for i := range 3 {
		allowed["big"] = append(allowed["big"], string(bytes.Repeat([]byte{byte('B' + i)}, size)))
	}
	for round := range 3 {
		os.RemoveAll(dst)
		os.WriteFile(filepath.Join(src, "big"), orig, 0o644)
		os.Chtimes(filepath.Join(src, "big"), tt.Base, tt.Base)
		sc, err := e.Scan(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// Rewrite in place (truncate, then write), as editors
				// that do not use a temp file do.
				os.WriteFile(filepath.Join(src, "big"), bytes.Repeat([]byte{byte('B' + i%3)}, size), 0o644)
				time.Sleep(time.Duration(round) * time.Millisecond)
			}
		}()
		res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Errors) > 0 {
			t.Fatalf("errors %+v", res.Errors)
		}
		// Copied (a version between two rewrites) or still changing
		// after the retries: never a mix.
		if len(res.Changing) > 0 && res.Counters.Files.Copied > 0 {
			t.Fatalf("copied and changing: %+v", res)
		}
		if temps := checkComplete(t, dst, allowed); len(temps) > 0 {
			t.Errorf("temp files left: %v", temps)
		}
	}
}

// A source file deleted between plan and apply: its copy is skipped with a
// reason, the destination's old version is kept, and the rest of the set
// (deletions included) runs, since nothing failed.
func TestSourceVanishesAfterPlan(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"gone": tt.File{Content: "new"}, "new": tt.File{Content: "n"}, "sub/gone2": tt.File{Content: "g"}})
	tt.Create(t, dst, tt.Dir{"gone": tt.File{Content: "old", MTime: tt.Base.Add(-time.Hour)}, "extra": tt.File{Content: "x"}})
	e := native.New()
	spec := mirrorSpec(src, dst)
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(src, "gone")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(src, "sub")); err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, s := range res.Skipped {
		reasons[s.Path] = s.Reason
	}
	if reasons["gone"] != "source file is gone since the plan was made" {
		t.Errorf("skips %+v", res.Skipped)
	}
	if len(res.Errors) > 0 {
		t.Errorf("errors %+v", res.Errors)
	}
	checkComplete(t, dst, versions{"gone": {"old"}, "new": {"n"}})
	if _, err := os.Stat(filepath.Join(dst, "extra")); err == nil {
		t.Error("extra not deleted although nothing failed")
	}
}

// An unreadable source file (EACCES; tests run as root, so the Faulty FS
// stands in for chmod 000) fails with a clear error, is not retried, and
// keeps the set's deletions from running. An unreadable source directory is
// TestUnreadableSourceDirLeavesDestinationAlone.
func TestUnreadableSourceFileSkipsDeletions(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"locked": tt.File{Content: "new"}, "ok": tt.File{Content: "ok"}})
	tt.Create(t, dst, tt.Dir{"locked": tt.File{Content: "old", MTime: tt.Base.Add(-time.Hour)}, "extra": tt.File{Content: "x"}})
	e, sleeps := faultyEngine(src, dst, func(f *vfstest.Faulty) { f.FailOpen["locked"] = syscall.EACCES }, nil)
	res := scanApply(t, e, mirrorSpec(src, dst))
	if len(res.Errors) != 1 || res.Errors[0].Path != "locked" || res.Errors[0].Err != "permission denied" {
		t.Fatalf("errors %+v", res.Errors)
	}
	if sleeps.Load() != 0 || res.DeletesSkipped != 1 {
		t.Errorf("sleeps %d, deletes skipped %d", sleeps.Load(), res.DeletesSkipped)
	}
	checkComplete(t, dst, versions{"locked": {"old"}, "ok": {"ok"}, "extra": {"x"}})
}
