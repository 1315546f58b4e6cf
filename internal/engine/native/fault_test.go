package native_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/vfs/vfstest"
)

func withFaults(src string, setup func(f *vfstest.Faulty)) *native.Engine {
	e := native.New()
	e.Sleep = func(time.Duration) {}
	e.Open = func(root string) (vfs.FS, error) {
		l, err := native.OpenLocal(root)
		if err != nil || root != src {
			return l, err
		}
		f := vfstest.NewFaulty(l)
		setup(f)
		return f, nil
	}
	return e
}

func TestUnreadableSourceDirLeavesDestinationAlone(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"ok/a": tt.File{Content: "a"}, "locked/b": tt.File{Content: "b"}})
	tt.Create(t, dst, tt.Dir{"locked/b": tt.File{Content: "b"}, "locked/only-in-dst": tt.File{Content: "x"}})
	e := withFaults(src, func(f *vfstest.Faulty) { f.FailReadDir["locked"] = syscall.EACCES })
	sc, err := e.Scan(context.Background(), engine.Spec{Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Errors) != 1 || sc.Errors[0].Path != "locked" || sc.Errors[0].Op != "read source dir" {
		t.Fatalf("errors %+v", sc.Errors)
	}
	for _, c := range sc.Changes.Slice() {
		if c.Action == engine.Delete {
			t.Fatalf("deletion planned under an unreadable source dir: %+v", c)
		}
	}
}

func TestRetriesTransientErrors(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"flaky": tt.File{Content: "f"}, "denied": tt.File{Content: "d"}})
	e := withFaults(src, func(f *vfstest.Faulty) {
		f.FailOpen["flaky"], f.FailTimes["flaky"] = syscall.EIO, 2
		f.FailOpen["denied"] = syscall.EACCES
	})
	var slept []time.Duration
	e.Sleep = func(d time.Duration) { slept = append(slept, d) }
	spec := engine.Spec{Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 1, Retries: 3, RetryWait: 7 * time.Second}
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// flaky failed twice with EIO and was copied on the third try; denied
	// is permanent and not retried.
	if len(slept) != 2 || slept[0] != 7*time.Second {
		t.Errorf("slept %v, want two waits of 7s", slept)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "flaky")); err != nil || string(b) != "f" {
		t.Errorf("flaky: %q %v", b, err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Path != "denied" {
		t.Fatalf("errors %+v", res.Errors)
	}
	if res.Errors[0].Err != "permission denied" || res.Counters.Files.Failed != 1 || res.ExitCode()&engine.ExitFailed == 0 {
		t.Fatalf("result %+v", res)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dst)
	for _, en := range entries {
		if native.IsTemp(en.Name()) {
			t.Errorf("temp file left: %s", en.Name())
		}
	}
}
