package native_test

// Files that change during the copy (#16, "Files that change during the
// copy"): a copy whose source changed while it was read is retried at the
// end of its phase with the source as it is then; one that changes on
// every try ends in Result.Changing, which blocks the set's deletions
// unless changing_files = "warn". A source that changed before its copy
// began (since the plan) stays an ordinary guard skip, not retried.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/vfs/vfstest"
)

// rewritingEngine returns an engine whose source root rewrites name during
// every copy (vfstest.Rewriter), and counters of the rewrites of the last
// apply and of the waits.
func rewritingEngine(src, name string) (e *native.Engine, rewrites func() int32, waits *atomic.Int32) {
	waits = new(atomic.Int32)
	e = native.New()
	e.Sleep = func(time.Duration) { waits.Add(1) }
	var last atomic.Pointer[vfstest.Rewriter]
	e.Open = func(root string) (vfs.FS, error) {
		l, err := native.OpenLocal(root)
		if err != nil || root != src {
			return l, err
		}
		rw := vfstest.NewRewriter(l, src, name)
		last.Store(rw)
		return rw, nil
	}
	return e, func() int32 { return last.Load().Rewrites.Load() }, waits
}

func TestKeepsChangingIsAFailureThatBlocksDeletions(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"live.db": tt.File{Content: strings.Repeat("A", 1000)}, "calm": tt.File{Content: "c"}})
	tt.Create(t, dst, tt.Dir{"live.db": tt.File{Content: "old", MTime: tt.Base.Add(-time.Hour)}, "extra": tt.File{Content: "x"}})
	e, rewrites, waits := rewritingEngine(src, "live.db")
	var (
		mu     sync.Mutex
		events []engine.Event
	)
	rep := reporterFunc(func(ev engine.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Done && ev.Change != nil && ev.Change.Path == "live.db" {
			events = append(events, ev)
		}
	})
	spec := mirrorSpec(src, dst)
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, rep)
	if err != nil {
		t.Fatal(err)
	}
	// Three copies (the first and two retries), one wait before each
	// retry round, then given up.
	if rewrites() != 3 || waits.Load() != 2 {
		t.Errorf("%d copies, %d waits; want 3 and 2", rewrites(), waits.Load())
	}
	if len(res.Changing) != 1 || res.Changing[0].Path != "live.db" || res.Changing[0].Op != "copy" ||
		res.Changing[0].Err != "the source file kept changing while it was copied, and still after 2 waits of 1s; the destination keeps what it had" {
		t.Fatalf("changing %+v", res.Changing)
	}
	if len(res.Errors) != 0 || res.OK() || res.ExitCode()&engine.ExitFailed == 0 || res.Counters.Files.Failed != 1 {
		t.Errorf("errors %+v, ok %v, exit %d, failed %d", res.Errors, res.OK(), res.ExitCode(), res.Counters.Files.Failed)
	}
	// One final event, with the error.
	if len(events) != 1 || events[0].Err != engine.ErrChanging {
		t.Errorf("events for live.db: %+v", events)
	}
	// The deletion did not run; the destination keeps its old version.
	if res.DeletesSkipped != 1 || len(res.Skipped) != 1 || res.Skipped[0].Path != "extra" ||
		res.Skipped[0].Reason != "not attempted: a file of this set kept changing while it was copied, so its deletions are skipped" {
		t.Errorf("deletes skipped %d, skipped %+v", res.DeletesSkipped, res.Skipped)
	}
	if temps := checkComplete(t, dst, versions{"live.db": {"old"}, "calm": {"c"}, "extra": {"x"}}); len(temps) > 0 {
		t.Errorf("temp files left: %v", temps)
	}
	if _, err := os.Stat(filepath.Join(dst, "extra")); err != nil {
		t.Errorf("extra was deleted: %v", err)
	}
}

func TestKeepsChangingWarnRunsDeletions(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"live.db": tt.File{Content: strings.Repeat("A", 1000)}})
	tt.Create(t, dst, tt.Dir{"extra": tt.File{Content: "x"}})
	e, _, _ := rewritingEngine(src, "live.db")
	spec := mirrorSpec(src, dst)
	spec.ChangingFiles = engine.ChangingWarn
	res := scanApply(t, e, spec)
	if len(res.Changing) != 1 || res.DeletesSkipped != 0 || res.DeletedFiles != 1 || len(res.Errors) != 0 {
		t.Fatalf("changing %+v, deletes skipped %d, deleted %d, errors %+v", res.Changing, res.DeletesSkipped, res.DeletedFiles, res.Errors)
	}
	if _, err := os.Lstat(filepath.Join(dst, "extra")); !os.IsNotExist(err) {
		t.Errorf("extra not deleted: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "live.db")); !os.IsNotExist(err) {
		t.Errorf("a copy of the changing file is at its name: %v", err)
	}
}

// A file that changes once while it is copied is copied by the retry,
// byte for byte as it is after the change, with its new time; the
// deletions then run.
func TestChangesOnceIsRetried(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"doc": tt.File{Content: strings.Repeat("A", 300_000)}})
	tt.Create(t, dst, tt.Dir{"doc": tt.File{Content: "old", MTime: tt.Base.Add(-time.Hour)}, "extra": tt.File{Content: "x"}})
	final := []byte(strings.Repeat("B", 123_457))
	finalTime := tt.Base.Add(time.Minute)
	var once atomic.Bool
	e := native.New()
	var waits atomic.Int32
	e.Sleep = func(time.Duration) { waits.Add(1) }
	e.Open = func(root string) (vfs.FS, error) {
		l, err := native.OpenLocal(root)
		if err != nil || root != src {
			return l, err
		}
		return onceFS{FS: l, hook: func() {
			if once.CompareAndSwap(false, true) {
				p := filepath.Join(src, "doc")
				if err := os.WriteFile(p, final, 0o644); err != nil {
					t.Error(err)
				}
				os.Chtimes(p, finalTime, finalTime)
			}
		}}, nil
	}
	res := scanApply(t, e, mirrorSpec(src, dst))
	if len(res.Changing) != 0 || len(res.Skipped) != 0 || len(res.Errors) != 0 || !res.OK() || waits.Load() != 1 {
		t.Fatalf("changing %+v skipped %+v errors %+v, %d waits", res.Changing, res.Skipped, res.Errors, waits.Load())
	}
	got, err := os.ReadFile(filepath.Join(dst, "doc"))
	if err != nil || string(got) != string(final) {
		t.Fatalf("destination holds %d bytes (%v), want the %d of the final version", len(got), err, len(final))
	}
	if fi, _ := os.Stat(filepath.Join(dst, "doc")); !fi.ModTime().Equal(finalTime) {
		t.Errorf("time %v, want %v", fi.ModTime(), finalTime)
	}
	if res.Counters.Files.Copied != 1 || res.BytesCopied != int64(len(final)) || res.DeletedFiles != 1 {
		t.Errorf("counters %+v, bytes %d, deleted %d", res.Counters.Files, res.BytesCopied, res.DeletedFiles)
	}
}

// onceFS calls hook after the first read of each open file.
type onceFS struct {
	vfs.FS
	hook func()
}

// Close closes the wrapped tree (vfs.Close: on Windows an open root
// handle keeps the test's directory from being removed).
func (o onceFS) Close() error {
	vfs.Close(o.FS)
	return nil
}

func (o onceFS) Open(name string) (vfs.Reader, error) {
	f, err := o.FS.Open(name)
	if err != nil {
		return f, err
	}
	return &hookedReader{Reader: f, hook: o.hook}, nil
}

type hookedReader struct {
	vfs.Reader
	hook func()
}

func (h *hookedReader) Read(p []byte) (int, error) {
	n, err := h.Reader.Read(p)
	if n > 0 && h.hook != nil {
		h.hook()
		h.hook = nil
	}
	return n, err
}

// A source that changed after the plan but before its copy began, and
// holds still, is a guard skip ("changed since the plan"), not a changing
// file: one look at it after the wait, no copy, no failure, and the
// deletions run.
func TestChangedBeforeTheCopyIsASkip(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "one"}})
	tt.Create(t, dst, tt.Dir{"extra": tt.File{Content: "x"}})
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprintf("fast=%v", fast), func(t *testing.T) {
			os.RemoveAll(dst)
			tt.Create(t, dst, tt.Dir{"extra": tt.File{Content: "x"}})
			os.WriteFile(filepath.Join(src, "a"), []byte("one"), 0o644)
			os.Chtimes(filepath.Join(src, "a"), tt.Base, tt.Base)
			e := native.New()
			var waits atomic.Int32
			e.Sleep = func(time.Duration) { waits.Add(1) }
			if !fast {
				e.Open = func(root string) (vfs.FS, error) {
					l, err := native.OpenLocal(root)
					if err != nil {
						return nil, err
					}
					return onceFS{FS: l}, nil // not a *vfs.Local: the portable path
				}
			}
			spec := mirrorSpec(src, dst)
			sc, err := e.Scan(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(src, "a"), []byte("two!"), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Skipped) != 1 || res.Skipped[0].Path != "a" || res.Skipped[0].Reason != "source file changed since the plan was made" {
				t.Fatalf("skipped %+v", res.Skipped)
			}
			if len(res.Changing) != 0 || !res.OK() || waits.Load() != 1 || res.DeletedFiles != 1 || res.Counters.Files.Copied != 0 {
				t.Errorf("changing %+v, ok %v, %d waits, deleted %d", res.Changing, res.OK(), waits.Load(), res.DeletedFiles)
			}
		})
	}
}

type reporterFunc func(engine.Event)

func (f reporterFunc) Report(ev engine.Event) { f(ev) }

// A source that is not as planned when its copy begins and changes again
// during the run (here: during the first wait) is being written: once it
// holds still for a wait it is copied as it is then, byte for byte. If it
// changes again within every wait, it is a changing file, and is never
// copied.
func TestChangedBeforeAndDuringTheRun(t *testing.T) {
	for _, always := range []bool{false, true} {
		t.Run(fmt.Sprintf("always=%v", always), func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			tt.Create(t, src, tt.Dir{"log": tt.File{Content: "one"}})
			tt.Create(t, dst, tt.Dir{"extra": tt.File{Content: "x"}})
			p := filepath.Join(src, "log")
			e := native.New()
			n := 0
			e.Sleep = func(time.Duration) {
				if n++; n == 1 || always {
					os.WriteFile(p, []byte(strings.Repeat("w", 10+n)), 0o644)
				}
			}
			spec := mirrorSpec(src, dst)
			sc, err := e.Scan(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(p, []byte("two, after the plan"), 0o644)
			res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if always {
				if len(res.Changing) != 1 || res.Changing[0].Path != "log" || len(res.Skipped) != 1 || res.DeletesSkipped != 1 {
					t.Fatalf("changing %+v skipped %+v", res.Changing, res.Skipped)
				}
				if _, err := os.Lstat(filepath.Join(dst, "log")); !os.IsNotExist(err) {
					t.Errorf("the changing file was copied: %v", err)
				}
				return
			}
			if len(res.Changing) != 0 || len(res.Skipped) != 0 || !res.OK() || n != 2 || res.DeletedFiles != 1 {
				t.Fatalf("changing %+v skipped %+v errors %+v, %d waits", res.Changing, res.Skipped, res.Errors, n)
			}
			if b, err := os.ReadFile(filepath.Join(dst, "log")); err != nil || string(b) != strings.Repeat("w", 11) {
				t.Fatalf("destination holds %q (%v)", b, err)
			}
		})
	}
}
