package native_test

// Attacks of issue 13 on the engine: a directory or a root swapped for a
// link between the plan and the apply, malformed jobs, names at the length
// limit, and special files. docs/safety.md lists them.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	tt "github.com/robo-backup/robo/internal/testtree"
)

var t1 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func scanOnly(t *testing.T, e *native.Engine, spec engine.Spec) *engine.ScanResult {
	t.Helper()
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func applyJob(t *testing.T, e *native.Engine, spec engine.Spec, sc *engine.ScanResult) *engine.Result {
	t.Helper()
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes, Roots: sc.Roots}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// swap replaces the directory dir by a link to target (the old directory
// is moved aside, to old).
func swap(t *testing.T, dir, target string) {
	t.Helper()
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	symlink(t, target, dir)
}

// symlink makes a real symbolic link, or skips the test where the OS (or
// wine) makes none.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Skip("this system does not make real symbolic links")
	}
}

func skippedAsChanged(t *testing.T, res *engine.Result, paths ...string) {
	t.Helper()
	got := map[string]string{}
	for _, s := range res.Skipped {
		got[s.Path] = s.Reason
	}
	for _, p := range paths {
		if !strings.Contains(got[p], "changed since the plan") {
			t.Errorf("%s: skip reason %q, want changed since the plan (skipped: %+v, errors: %+v)", p, got[p], res.Skipped, res.Errors)
		}
	}
}

// TestSwappedDestinationDirNotWrittenThrough (issue 13): after the plan,
// dst/sub becomes a link to a directory elsewhere that holds files with
// the planned sizes and times. The apply creates, overwrites and deletes
// nothing there: each change under sub is skipped as changed since the
// plan.
func TestSwappedDestinationDirNotWrittenThrough(t *testing.T) {
	root := t.TempDir()
	src, dst, other := filepath.Join(root, "src"), filepath.Join(root, "dst"), filepath.Join(root, "other")
	tt.Create(t, src, tt.Dir{"sub/new": tt.File{Content: "new"}, "sub/upd": tt.File{Content: "newer!", MTime: t1}, "top": tt.File{Content: "t"}})
	tt.Create(t, dst, tt.Dir{"sub/upd": tt.File{Content: "old"}, "sub/extra": tt.File{Content: "extra"}, "sub/xd/f": tt.File{Content: "f"}})
	// The attacker's directory mirrors what the plan saw in dst/sub.
	tt.Create(t, other, tt.Dir{"upd": tt.File{Content: "old"}, "extra": tt.File{Content: "extra"}, "xd/f": tt.File{Content: "f"}})
	before := tt.Snapshot(t, other)
	e := native.New()
	spec := mirrorSpec(src, dst)
	sc := scanOnly(t, e, spec)
	swap(t, filepath.Join(dst, "sub"), other)
	res := applyJob(t, e, spec, sc)
	if d := tt.Diff(before, tt.Snapshot(t, other), tt.Options{DirTimes: true}); d != "" {
		t.Fatalf("the directory behind the link changed:\n%s", d)
	}
	skippedAsChanged(t, res, "sub/new", "sub/upd", "sub/extra", "sub/xd/f")
	if b, err := os.ReadFile(filepath.Join(dst, "top")); err != nil || string(b) != "t" {
		t.Fatalf("the rest of the set was not applied: %q, %v", b, err)
	}
	if fi, err := os.Lstat(filepath.Join(dst, "sub")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("dst/sub: %v, %v", fi, err)
	}
}

// TestSwappedSourceDirNotReadThrough (issue 13): after the plan, src/sub
// becomes a link to a directory holding a secret with the planned size
// and time. The secret never reaches the backup.
func TestSwappedSourceDirNotReadThrough(t *testing.T) {
	root := t.TempDir()
	src, dst, secret := filepath.Join(root, "src"), filepath.Join(root, "dst"), filepath.Join(root, "secret")
	tt.Create(t, src, tt.Dir{"sub/f": tt.File{Content: "public", MTime: t1}, "sub/g": tt.File{Content: "public", MTime: t1}})
	tt.Create(t, dst, tt.Dir{"sub/g": tt.File{Content: "older", MTime: tt.Base}})
	tt.Create(t, secret, tt.Dir{"f": tt.File{Content: "SECRET", MTime: t1, Mode: 0o600}, "g": tt.File{Content: "SECRET", MTime: t1, Mode: 0o600}})
	for _, threads := range []int{1, 4} {
		e := native.New()
		spec := mirrorSpec(src, dst)
		spec.Threads = threads
		sc := scanOnly(t, e, spec)
		swap(t, filepath.Join(src, "sub"), secret)
		res := applyJob(t, e, spec, sc)
		skippedAsChanged(t, res, "sub/f", "sub/g")
		for p, en := range tt.Snapshot(t, dst) {
			if strings.Contains(string(en.Content), "SECRET") {
				t.Fatalf("threads %d: the secret reached the backup as %s", threads, p)
			}
		}
		os.Remove(filepath.Join(src, "sub"))
		os.Rename(filepath.Join(src, "sub.old"), filepath.Join(src, "sub"))
	}
}

// TestSwappedRootRefused (issue 13): the destination root (or the source
// root) replaced by a link, or by another directory, after the plan: the
// apply refuses the whole set, naming the root, and touches nothing. A
// destination that was absent at plan time and is a link now is refused
// too.
func TestSwappedRootRefused(t *testing.T) {
	for _, side := range []string{"destination", "source", "destination-absent", "destination-replaced"} {
		t.Run(side, func(t *testing.T) {
			root := t.TempDir()
			src, dst, other := filepath.Join(root, "src"), filepath.Join(root, "dst"), filepath.Join(root, "other")
			tt.Create(t, src, tt.Dir{"new": tt.File{Content: "new"}, "upd": tt.File{Content: "newer", MTime: t1}})
			if side != "destination-absent" {
				tt.Create(t, dst, tt.Dir{"upd": tt.File{Content: "old"}, "extra": tt.File{Content: "e"}})
			}
			tt.Create(t, other, tt.Dir{"upd": tt.File{Content: "old"}, "extra": tt.File{Content: "e"}})
			e := native.New()
			spec := mirrorSpec(src, dst)
			sc := scanOnly(t, e, spec)
			if sc.Roots == nil || sc.Roots.Source == nil || sc.Roots.Destination == nil {
				t.Fatalf("the scan recorded no roots: %+v", sc.Roots)
			}
			switch side {
			case "source":
				tt.Create(t, other, tt.Dir{"new": tt.File{Content: "new"}, "upd": tt.File{Content: "newer", MTime: t1}})
				swap(t, src, other)
			case "destination-absent":
				symlink(t, other, dst)
			case "destination-replaced":
				os.Rename(dst, dst+".old")
				if err := os.Mkdir(dst, 0o755); err != nil {
					t.Fatal(err)
				}
			default:
				swap(t, dst, other)
			}
			before := tt.Snapshot(t, other)
			_, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes, Roots: sc.Roots}, engine.Discard)
			var rc *engine.RootChangedError
			if !errors.As(err, &rc) || !strings.Contains(err.Error(), "changed since the plan") {
				t.Fatalf("apply: err = %v, want a RootChangedError", err)
			}
			if d := tt.Diff(before, tt.Snapshot(t, other), tt.Options{DirTimes: true}); d != "" {
				t.Fatalf("the directory behind the link changed:\n%s", d)
			}
			// A plan saved before roots were recorded pins nothing, but
			// still follows no link as the root's last component.
			if side == "destination" || side == "destination-absent" {
				_, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
				if err == nil {
					t.Fatal("apply without recorded roots wrote through a destination root that is a link")
				}
				if d := tt.Diff(before, tt.Snapshot(t, other), tt.Options{DirTimes: true}); d != "" {
					t.Fatalf("the directory behind the link changed:\n%s", d)
				}
			}
		})
	}
}

// TestMalformedJobDoesNotPanic (issue 13): changes a hand-edited plan
// may hold fail one by one with a message; the set's deletions are then
// skipped; nothing panics.
func TestMalformedJobDoesNotPanic(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "a"}})
	tt.Create(t, dst, tt.Dir{"extra": tt.File{Content: "e"}})
	m := &engine.Meta{Kind: engine.KindFile, Size: 1, MTime: tt.Base.UnixNano()}
	bad := []engine.Change{
		{Action: engine.Create, Kind: engine.KindFile, Path: "a", Phase: engine.PhaseCopy},
		{Action: engine.Create, Kind: engine.KindDir, Path: "d", Phase: engine.PhaseCopy},
		{Action: engine.Update, Kind: engine.KindFile, Path: "a", Phase: engine.PhaseCopy, Src: m},
		{Action: engine.Replace, Kind: engine.KindFile, Path: "a", Phase: engine.PhaseReplace, Dst: m},
		{Action: 9, Kind: engine.KindFile, Path: "a", Phase: engine.PhaseCopy, Src: m},
		{Action: engine.Create, Kind: 9, Path: "a", Phase: engine.PhaseCopy, Src: m},
		{Action: engine.Create, Kind: engine.KindFile, Path: "a", Phase: 9, Src: m},
		{Action: engine.Delete, Kind: engine.KindFile, Path: "extra", Phase: engine.PhaseCopy, Dst: m},
		{Action: engine.Delete, Kind: engine.KindFile, Path: "../x", Phase: engine.PhaseDelete, Dst: m},
		{Action: engine.Create, Kind: engine.KindDir, Path: "a", Phase: engine.PhaseCopy, Src: m},
		{Action: engine.Delete, Kind: engine.KindFile, Path: "extra", Phase: engine.PhaseDelete},
		{Action: engine.Delete, Kind: engine.KindFile, Path: "extra", Phase: engine.PhaseDelete, Dst: &engine.Meta{Kind: engine.KindFile, Size: 1, MTime: tt.Base.UnixNano()}},
	}
	res, err := native.New().Apply(context.Background(), engine.Job{Spec: mirrorSpec(src, dst), Changes: engine.ChangeListOf(bad)}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != len(bad)-1 {
		t.Fatalf("%d errors for %d malformed changes: %+v", len(res.Errors), len(bad)-1, res.Errors)
	}
	if res.DeletesSkipped != 1 || res.OK() {
		t.Fatalf("deletes skipped %d, ok %v", res.DeletesSkipped, res.OK())
	}
	if _, err := os.Stat(filepath.Join(dst, "extra")); err != nil {
		t.Fatal("extra deleted by a malformed plan")
	}
}

// TestNamesAtTheLimit (issue 13): files whose names are 250 and 255 bytes
// (ASCII, and 3-byte characters) are created, then updated, and a mirror
// deletes another long name in the same run: the temporary names fit.
func TestNamesAtTheLimit(t *testing.T) {
	names := []string{strings.Repeat("a", 250), strings.Repeat("b", 255), strings.Repeat("€", 85), strings.Repeat("c", 254) + "d"}
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	tree := tt.Dir{}
	for _, n := range names {
		tree[n] = tt.File{Content: "v1", MTime: tt.Base}
		tree["sub/"+n] = tt.File{Content: "v1", MTime: tt.Base}
	}
	tt.Create(t, src, tree)
	for _, threads := range []int{1, 4} {
		e := native.New()
		spec := mirrorSpec(src, dst)
		spec.Threads = threads
		if res := scanApply(t, e, spec); !res.OK() || len(res.Skipped) > 0 {
			t.Fatalf("first run: %+v", res)
		}
		// Update every file, and drop one so the mirror deletes it in the
		// same run.
		for _, n := range names {
			for _, p := range []string{n, "sub/" + n} {
				if err := os.WriteFile(filepath.Join(src, p), []byte("v2-"+n[:3]), 0o644); err != nil {
					t.Fatal(err)
				}
				mt := t1.Add(time.Duration(threads) * time.Hour)
				os.Chtimes(filepath.Join(src, p), mt, mt)
			}
		}
		os.Remove(filepath.Join(src, "sub", names[1]))
		res := scanApply(t, e, spec)
		if !res.OK() || res.Counters.Files.Copied != int64(2*len(names)-1) || res.DeletedFiles != 1 {
			t.Fatalf("update run (threads %d): copied %d, deleted %d, errors %+v", threads, res.Counters.Files.Copied, res.DeletedFiles, res.Errors)
		}
		if d := tt.Diff(tt.Snapshot(t, src), tt.Snapshot(t, dst), tt.Options{DirTimes: true}); d != "" {
			t.Fatalf("trees differ:\n%s", d)
		}
		tt.Create(t, src, tt.Dir{"sub/" + names[1]: tt.File{Content: "v1"}})
	}
}
