package native_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/vfs"
)

// Issue 16, Windows: with copy = "DATSO" the owner and group SIDs and the
// DACL are read on both sides, written on the copies, and an unchanged
// tree plans nothing (no endless tweak); the destination's descriptor is
// the source's.
func TestWindowsSecurityCopied(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	if err := os.MkdirAll(filepath.Join(src, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.txt", `d\b.txt`} {
		if err := os.WriteFile(filepath.Join(src, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sp := engine.Spec{Name: "sec", Source: src, Destination: dst, Mirror: true, Threads: 2, Copy: "DATSO"}
	e := native.New()
	scan, err := e.Scan(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range scan.Warnings {
		if strings.Contains(w, "security") || strings.Contains(w, "owner") {
			t.Errorf("warned that S or O is not copied: %s", w)
		}
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: scan.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("apply: %v", res.Errors)
	}
	again, err := e.Scan(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changes.Len() > 0 || len(again.Errors) > 0 {
		t.Fatalf("an unchanged tree plans %+v (errors %v)", again.Changes, again.Errors)
	}
	ls, ld := vfs.NewLocal(src), vfs.NewLocal(dst)
	defer ls.Close()
	defer ld.Close()
	for _, n := range []string{"a.txt", "d/b.txt", "d"} {
		s, err := ls.Security(n, vfs.SecOwner|vfs.SecDACL)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ld.Security(n, vfs.SecOwner|vfs.SecDACL)
		if err != nil {
			t.Fatal(err)
		}
		if s.Owner == "" || s.Owner != d.Owner || s.Group != d.Group || string(s.DACL) != string(d.DACL) {
			t.Errorf("%s: source %s:%s %q, destination %s:%s %q", n, s.Owner, s.Group, s.DACL, d.Owner, d.Group, d.DACL)
		}
	}
}
