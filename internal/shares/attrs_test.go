package shares_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/shares"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
)

type attrFS interface {
	vfs.FS
	SetAttrs(name string, attrs, mask uint32) error
}

func attrsOf(t *testing.T, f vfs.FS, name string) uint32 {
	t.Helper()
	e, err := f.Stat(name)
	if err != nil {
		t.Fatalf("stat %s: %v", name, err)
	}
	return uint32(e.Attrs)
}

// SetAttrs sets and clears the attributes in its mask only, leaves the
// times, and Stat and ReadDir report what Samba stored (store dos
// attributes, its default).
func TestSetAttrs(t *testing.T) {
	s := server(t)
	c := dial(t, s, "data", shares.Options{})
	if err := os.MkdirAll(filepath.Join(s.DataDir, "attrs", "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.DataDir, "attrs", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := c.FS("attrs").(attrFS)
	mt := time.Date(2021, 3, 4, 5, 6, 7, 800, time.UTC)
	if err := f.Chtimes("f", mt); err != nil {
		t.Fatal(err)
	}
	if a := attrsOf(t, f, "f"); a == 0 || a&(shares.AttrHidden|shares.AttrReadOnly) != 0 {
		t.Fatalf("a plain file's attributes %#x: want non-zero (NORMAL or ARCHIVE), neither hidden nor read-only", a)
	}
	hr := uint32(shares.AttrHidden | shares.AttrReadOnly)
	if err := f.SetAttrs("f", hr, hr); err != nil {
		t.Fatal(err)
	}
	e, err := f.Stat("f")
	if err != nil || uint32(e.Attrs)&hr != hr || e.Mode != 0o444 || !e.ModTime.Equal(mt) {
		t.Fatalf("after setting hidden and read-only: %+v %v (attrs %#x)", e, err, e.Attrs)
	}
	list, err := f.ReadDir("")
	if err != nil {
		t.Fatal(err)
	}
	for _, le := range list {
		if le.Name == "f" && uint32(le.Attrs)&hr != hr {
			t.Fatalf("listing shows attributes %#x, want hidden and read-only", le.Attrs)
		}
	}
	// Only the mask is touched: clearing read-only keeps hidden.
	if err := f.SetAttrs("f", 0, shares.AttrReadOnly); err != nil {
		t.Fatal(err)
	}
	if a := attrsOf(t, f, "f"); a&hr != shares.AttrHidden {
		t.Fatalf("after clearing read-only: %#x, want hidden alone", a)
	}
	if err := f.SetAttrs("f", 0, uint32(engine.AttrsCopied)); err != nil {
		t.Fatal(err)
	}
	e, err = f.Stat("f")
	if err != nil || uint32(e.Attrs)&engine.AttrsCopied != 0 || e.Attrs == 0 || e.Mode != 0o644 || !e.ModTime.Equal(mt) {
		t.Fatalf("after clearing them all: %+v %v (attrs %#x)", e, err, e.Attrs)
	}
	// A directory keeps its directory bit whatever the mask says.
	if err := f.SetAttrs("d", shares.AttrHidden, 0xffff); err != nil {
		t.Fatal(err)
	}
	e, err = f.Stat("d")
	if err != nil || e.Kind != vfs.Dir || uint32(e.Attrs)&(shares.AttrHidden|0x10) != shares.AttrHidden|0x10 {
		t.Fatalf("hidden directory: %+v %v (attrs %#x)", e, err, e.Attrs)
	}
	if err := f.SetAttrs("missing", shares.AttrHidden, shares.AttrHidden); err == nil || !strings.Contains(err.Error(), `\missing`) {
		t.Fatalf("setting a missing file's attributes: %v", err)
	}
	if err := f.SetAttrs("../f", shares.AttrHidden, shares.AttrHidden); err == nil {
		t.Fatal("a name outside the root was accepted")
	}
}

func attrEngine(pool *shares.Pool) *native.Engine {
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

func run(t *testing.T, e *native.Engine, sp engine.Spec) []engine.Change {
	t.Helper()
	sc, err := e.Scan(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, nil)
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v errors %v skipped %v", err, res.Errors, res.Skipped)
	}
	return sc.Changes.Slice()
}

func rescan(t *testing.T, e *native.Engine, sp engine.Spec) []engine.Change {
	t.Helper()
	sc, err := e.Scan(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	return sc.Changes.Slice()
}

// A set between two trees on a share copies the attributes (copy "DAT"),
// and an attribute-only change on the source is a Tweaked update.
func TestEngineAttrsShareToShare(t *testing.T) {
	s := server(t)
	pool := shares.NewPool(context.Background(), shares.Options{},
		shares.Mount{Name: "data", UNC: shares.UNC{Server: s.Host, Share: "data"}, Port: s.Port, Credentials: creds(s)})
	t.Cleanup(func() { pool.Close() })
	tt.Create(t, filepath.Join(s.DataDir, "set", "src"), tt.Dir{"h": tt.File{Content: "hidden"}, "f": tt.File{Content: "plain"},
		"d/g": tt.File{Content: "g"}})
	c := dial(t, s, "data", shares.Options{})
	src := c.FS(`set\src`).(attrFS)
	dst := c.FS(`set\dst`)
	hr := uint32(shares.AttrHidden | shares.AttrReadOnly)
	if err := src.SetAttrs("h", hr, hr); err != nil {
		t.Fatal(err)
	}
	if err := src.SetAttrs("d", shares.AttrHidden, shares.AttrHidden); err != nil {
		t.Fatal(err)
	}
	e := attrEngine(pool)
	sp := engine.Spec{Name: "t", Source: s.UNC("data") + `\set\src`, Destination: s.UNC("data") + `\set\dst`, Mirror: true, Threads: 1}
	run(t, e, sp)
	if a := attrsOf(t, dst, "h"); a&hr != hr {
		t.Fatalf("destination h attributes %#x, want hidden and read-only", a)
	}
	if a := attrsOf(t, dst, "d"); a&shares.AttrHidden == 0 {
		t.Fatalf("destination d attributes %#x, want hidden", a)
	}
	if a := attrsOf(t, dst, "f"); a&hr != 0 {
		t.Fatalf("destination f attributes %#x, want neither hidden nor read-only", a)
	}
	if ch := rescan(t, e, sp); len(ch) != 0 {
		for _, c := range ch {
			t.Logf("%s src %#x dst %#x", c.Path, *c.Src.X.Attrs, *c.Dst.X.Attrs)
		}
		t.Fatalf("second scan: %+v", ch)
	}
	// An attribute-only change.
	if err := src.SetAttrs("f", shares.AttrHidden, shares.AttrHidden); err != nil {
		t.Fatal(err)
	}
	ch := run(t, e, sp)
	if len(ch) != 1 || ch[0].Path != "f" || ch[0].Action != engine.Update || ch[0].Class != engine.Tweaked ||
		strings.Join(ch[0].Differs, ",") != engine.DiffAttrs {
		t.Fatalf("plan after hiding f: %+v", ch)
	}
	if a := attrsOf(t, dst, "f"); a&shares.AttrHidden == 0 {
		t.Fatalf("destination f attributes %#x after the Tweaked update, want hidden", a)
	}
	if ch := rescan(t, e, sp); len(ch) != 0 {
		t.Fatalf("scan after the update: %+v", ch)
	}
	if got := tt.Snapshot(t, filepath.Join(s.DataDir, "set", "dst")); string(got["f"].Content) != "plain" || string(got["h"].Content) != "hidden" {
		t.Fatalf("destination %v", got)
	}
}

// A local Unix source reports no attributes (0): the share's (never 0) are
// not compared with it, so a destination file hidden on the share is no
// change, and a copy sends no attributes.
func TestEngineAttrsLocalToShare(t *testing.T) {
	s := server(t)
	pool := shares.NewPool(context.Background(), shares.Options{},
		shares.Mount{Name: "data", UNC: shares.UNC{Server: s.Host, Share: "data"}, Port: s.Port, Credentials: creds(s)})
	t.Cleanup(func() { pool.Close() })
	srcDir := t.TempDir()
	tt.Create(t, srcDir, tt.Dir{"f": tt.File{Content: "f"}, "d/g": tt.File{Content: "g"}})
	e := attrEngine(pool)
	sp := engine.Spec{Name: "t", Source: srcDir, Destination: s.UNC("data") + `\l2s`, Mirror: true, Threads: 1}
	run(t, e, sp)
	if ch := rescan(t, e, sp); len(ch) != 0 {
		t.Fatalf("second scan: %+v", ch)
	}
	dst := dial(t, s, "data", shares.Options{}).FS("l2s").(attrFS)
	if a := attrsOf(t, dst, "f"); a == 0 {
		t.Fatal("a share file reports no attributes: this test would prove nothing")
	}
	if err := dst.SetAttrs("f", shares.AttrHidden, shares.AttrHidden); err != nil {
		t.Fatal(err)
	}
	if err := dst.SetAttrs("d", shares.AttrHidden, shares.AttrHidden); err != nil {
		t.Fatal(err)
	}
	if ch := rescan(t, e, sp); len(ch) != 0 {
		t.Fatalf("scan after hiding destination entries: %+v", ch)
	}
}
