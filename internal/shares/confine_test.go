package shares_test

// Issue 13 on a share: a directory swapped for a server-side symbolic link
// between the plan and the apply is never written, deleted or read through.
// Samba follows such links itself (follow symlinks = yes, its default) and
// shows nothing of them; robo recognises the swap by the directory's file
// id (see confine.go).

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
	"github.com/robo-backup/robo/internal/shares"
	"github.com/robo-backup/robo/internal/shares/sambatest"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
)

var tPlan = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// shareEngine is a native engine whose UNC roots are opened through pool.
func shareEngine(pool *shares.Pool) *native.Engine {
	e := native.New()
	e.Sleep = func(time.Duration) {}
	e.FoldCase = true
	e.Open = func(root string) (vfs.FS, error) {
		if shares.IsUNC(root) {
			return pool.Open(root)
		}
		return native.OpenLocal(root)
	}
	return e
}

func newPool(t *testing.T, s *sambatest.Server) *shares.Pool {
	pool := shares.NewPool(context.Background(), shares.Options{},
		shares.Mount{UNC: shares.UNC{Server: s.Host, Share: "data"}, Port: s.Port, Credentials: creds(s)})
	t.Cleanup(func() { pool.Close() })
	return pool
}

// swapDir moves dir aside and puts a symbolic link to target in its place,
// on the server's disk.
func swapDir(t *testing.T, dir, target string) {
	t.Helper()
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
}

func skippedChanged(t *testing.T, res *engine.Result, paths ...string) {
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
	if len(res.Errors) > 0 {
		t.Errorf("errors: %+v", res.Errors)
	}
}

// followsLinks checks the premise: this Samba follows the link for the
// client and shows no sign of it (a connection that never listed the
// directory sees the attacker's file as dst/sub's).
func followsLinks(t *testing.T, s *sambatest.Server, root, name string) {
	t.Helper()
	c := dial(t, s, "data", shares.Options{})
	e, err := c.FS(root).Stat(name)
	if err != nil || e.Kind != vfs.File {
		t.Fatalf("premise: the server does not show %s through the link: %+v, %v", name, e, err)
	}
}

// TestSwappedShareDirNotWrittenThrough: a mirror from a local tree to a
// share; after the plan, dst/sub on the share becomes a link to a
// directory holding files with the planned sizes and times, elsewhere in
// the share (Samba's default wide links = no) or, with wide links = yes,
// outside it. Nothing there is created, overwritten or deleted: every
// change under sub is skipped, and the rest of the set is applied.
func TestSwappedShareDirNotWrittenThrough(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    sambatest.Options
		outside bool
	}{
		{name: "in-share"},
		{name: "wide-links", outside: true, opts: sambatest.Options{
			Global: []string{"allow insecure wide links = yes"}, Data: []string{"wide links = yes"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sambatest.StartWith(t, tc.opts)
			pool := newPool(t, s)
			src, dst := filepath.Join(t.TempDir(), "src"), filepath.Join(s.DataDir, "set", "dst")
			other := filepath.Join(s.DataDir, "elsewhere")
			if tc.outside {
				other = filepath.Join(t.TempDir(), "outside")
			}
			tt.Create(t, src, tt.Dir{"sub/new": tt.File{Content: "new"}, "sub/upd": tt.File{Content: "newer!", MTime: tPlan},
				"sub/deep/x": tt.File{Content: "x"}, "top": tt.File{Content: "t"}})
			planned := tt.Dir{"upd": tt.File{Content: "old"}, "extra": tt.File{Content: "extra"}, "xd/f": tt.File{Content: "f"}, "deep/y": tt.File{Content: "y"}}
			tt.Create(t, filepath.Join(dst, "sub"), planned)
			tt.Create(t, other, planned)
			before := tt.Snapshot(t, other)
			e := shareEngine(pool)
			spec := engine.Spec{Source: src, Destination: s.UNC("data") + `\set\dst`, Mirror: true, CopyEmptyDirs: true, Threads: 2, Retries: 1}
			sc, err := e.Scan(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			swapDir(t, filepath.Join(dst, "sub"), other)
			followsLinks(t, s, `set\dst`, "sub/upd")
			res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes, Roots: sc.Roots}, engine.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if d := tt.Diff(before, tt.Snapshot(t, other), tt.Options{}); d != "" {
				t.Fatalf("the directory behind the link changed:\n%s", d)
			}
			skippedChanged(t, res, "sub/new", "sub/upd", "sub/extra", "sub/xd/f", "sub/deep/x", "sub/deep/y")
			if b, err := os.ReadFile(filepath.Join(dst, "top")); err != nil || string(b) != "t" {
				t.Fatalf("the rest of the set was not applied: %q, %v", b, err)
			}
			if fi, err := os.Lstat(filepath.Join(dst, "sub")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("dst/sub: %v, %v", fi, err)
			}
		})
	}
}

// TestSwappedShareSourceDirNotReadThrough: a backup from a share to a local
// tree; after the plan, src/sub on the share becomes a link to a directory
// elsewhere in the share holding a secret with the planned size and time.
// The secret never reaches the backup.
func TestSwappedShareSourceDirNotReadThrough(t *testing.T) {
	s := server(t)
	pool := newPool(t, s)
	src, dst, secret := filepath.Join(s.DataDir, "src"), filepath.Join(t.TempDir(), "dst"), filepath.Join(s.DataDir, "secret")
	tt.Create(t, src, tt.Dir{"sub/f": tt.File{Content: "public", MTime: tPlan}, "sub/g": tt.File{Content: "public", MTime: tPlan}})
	tt.Create(t, dst, tt.Dir{"sub/g": tt.File{Content: "older", MTime: tt.Base}})
	tt.Create(t, secret, tt.Dir{"f": tt.File{Content: "SECRET", MTime: tPlan}, "g": tt.File{Content: "SECRET", MTime: tPlan}})
	e := shareEngine(pool)
	spec := engine.Spec{Source: s.UNC("data") + `\src`, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 1, Retries: 1}
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	swapDir(t, filepath.Join(src, "sub"), secret)
	followsLinks(t, s, "src", "sub/f")
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes, Roots: sc.Roots}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	skippedChanged(t, res, "sub/f", "sub/g")
	for p, en := range tt.Snapshot(t, dst) {
		if strings.Contains(string(en.Content), "SECRET") {
			t.Fatalf("the secret reached the backup as %s", p)
		}
	}
}

// TestSwappedShareRootRefused: the destination root on the share replaced
// by a link to another directory of the share after the plan, applied
// through a new connection (as a saved plan is, by another process): the
// plan recorded the root's file id, and the apply refuses the set.
func TestSwappedShareRootRefused(t *testing.T) {
	s := server(t)
	src, dst, other := filepath.Join(t.TempDir(), "src"), filepath.Join(s.DataDir, "dst"), filepath.Join(s.DataDir, "other")
	tt.Create(t, src, tt.Dir{"new": tt.File{Content: "new"}, "upd": tt.File{Content: "newer", MTime: tPlan}})
	tt.Create(t, dst, tt.Dir{"upd": tt.File{Content: "old"}, "extra": tt.File{Content: "e"}})
	tt.Create(t, other, tt.Dir{"upd": tt.File{Content: "old"}, "extra": tt.File{Content: "e"}})
	spec := engine.Spec{Source: src, Destination: s.UNC("data") + `\dst`, Mirror: true, CopyEmptyDirs: true, Threads: 1}
	sc, err := shareEngine(newPool(t, s)).Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Roots == nil || sc.Roots.Destination == nil || !sc.Roots.Destination.Exists || sc.Roots.Destination.Ino == 0 {
		t.Fatalf("the scan recorded no identity for the share root: %+v", sc.Roots)
	}
	before := tt.Snapshot(t, other)
	swapDir(t, dst, "other")
	_, err = shareEngine(newPool(t, s)).Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes, Roots: sc.Roots}, engine.Discard)
	var rc *engine.RootChangedError
	if !errors.As(err, &rc) || !strings.Contains(err.Error(), "changed since the plan") {
		t.Fatalf("apply: err = %v, want a RootChangedError", err)
	}
	if d := tt.Diff(before, tt.Snapshot(t, other), tt.Options{}); d != "" {
		t.Fatalf("the directory behind the link changed:\n%s", d)
	}
}
