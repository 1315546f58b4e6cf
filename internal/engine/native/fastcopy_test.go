package native_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
)

// TestFastCopyGuards checks the local-to-local copy path: the source guard
// on the open descriptor skips a file changed or replaced by a link since
// the plan, no temporary file stays behind, and the copies that run keep
// bytes, mode and time.
func TestFastCopyGuards(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	if err := os.MkdirAll(filepath.Join(src, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for _, n := range []string{"same", "changed", "linked"} {
		p := filepath.Join(src, "d", n)
		if err := os.WriteFile(p, []byte("data of "+n), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	e := native.New()
	spec := engine.Spec{Name: "t", Source: src, Destination: dst, Mirror: true, Threads: 4}
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "d", "changed"), []byte("new data, longer"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(src, "d", "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("same", filepath.Join(src, "d", "linked")); err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	skipped := map[string]string{}
	for _, s := range res.Skipped {
		skipped[s.Path] = s.Reason
	}
	if skipped["d/changed"] != "source file changed since the plan was made" || skipped["d/linked"] == "" || len(skipped) != 2 {
		t.Fatalf("skipped = %v", skipped)
	}
	list, err := os.ReadDir(filepath.Join(dst, "d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name() != "same" {
		t.Fatalf("destination holds %v, want only same", list)
	}
	fi, err := os.Lstat(filepath.Join(dst, "d", "same"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dst, "d", "same"))
	// The source's own mode and time as the OS keeps them: 0640 and mt on
	// Unix; on Windows 0666 (no mode bits) and mt in 100 ns steps.
	want, err := os.Lstat(filepath.Join(src, "d", "same"))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && (want.Mode().Perm() != 0o640 || !want.ModTime().Equal(mt)) {
		t.Fatalf("source: mode %v time %v", want.Mode(), want.ModTime())
	}
	if string(b) != "data of same" || fi.Mode().Perm() != want.Mode().Perm() || !fi.ModTime().Equal(want.ModTime()) {
		t.Fatalf("copy: %q mode %v time %v", b, fi.Mode(), fi.ModTime())
	}
}

// TestCreateRefusesNameThatAppeared: a file that appears at a create's name
// between plan and apply is neither replaced nor touched, and the create
// is skipped with the destination guard's reason.
func TestCreateRefusesNameThatAppeared(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	for _, d := range []string{src, dst} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(src, n), []byte("source "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := native.New()
	spec := engine.Spec{Name: "t", Source: src, Destination: dst, Mirror: true, Threads: 2}
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "b"), []byte("someone else's b"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Path != "b" ||
		res.Skipped[0].Reason != "destination now has a file here that the plan did not see" {
		t.Fatalf("skipped = %+v", res.Skipped)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "b")); string(b) != "someone else's b" {
		t.Fatalf("b = %q, want it untouched", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "a")); string(b) != "source a" {
		t.Fatalf("a = %q", b)
	}
	list, _ := os.ReadDir(dst)
	if len(list) != 2 {
		t.Fatalf("destination holds %v, want a and b only", list)
	}
}
