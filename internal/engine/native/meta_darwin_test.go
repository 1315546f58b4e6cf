//go:build darwin

package native_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
)

// On macOS the copy letter E copies extended attributes (com.apple.* as
// any other), compares them (a changed one is a Tweaked update) and sets
// them on the destination. Built and vetted on every commit; only a macOS
// host runs it.
func TestMetaXattrsDarwin(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(src, "a.txt")
	if err := os.WriteFile(f, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(f, "com.apple.quarantine", []byte("0081;00000000;robo;"), 0); err != nil {
		t.Skipf("setxattr: %v", err)
	}
	sp := engine.Spec{Name: "meta", Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 2,
		Copy: "DATE", DirCopy: "DATE"}
	e := native.New()
	apply := func(want int) {
		t.Helper()
		sc, err := e.Scan(context.Background(), sp)
		if err != nil || len(sc.Errors) > 0 {
			t.Fatalf("scan: %v %v", err, sc.Errors)
		}
		if sc.Changes.Len() != want {
			t.Fatalf("%d changes, want %d: %+v", sc.Changes.Len(), want, sc.Changes.Slice())
		}
		if err := engine.ValidateChanges(&sp, sc.Changes.Slice(), true); err != nil {
			t.Fatalf("the plan does not validate: %v", err)
		}
		res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, engine.Discard)
		if err != nil || !res.OK() || len(res.Skipped) > 0 {
			t.Fatalf("apply: %v %v %v", err, res.Errors, res.Skipped)
		}
	}
	read := func(name string) string {
		t.Helper()
		buf := make([]byte, 256)
		n, err := unix.Getxattr(filepath.Join(dst, "a.txt"), name, buf)
		if err != nil {
			t.Fatalf("getxattr %s of the copy: %v", name, err)
		}
		return string(buf[:n])
	}
	apply(1) // the new file
	if got := read("com.apple.quarantine"); got != "0081;00000000;robo;" {
		t.Fatalf("copied quarantine %q", got)
	}
	// A changed attribute alone is a Tweaked update, then applied.
	if err := unix.Setxattr(f, "org.example.tag", []byte("blue"), 0); err != nil {
		t.Fatal(err)
	}
	sc, err := e.Scan(context.Background(), sp)
	if err != nil || sc.Changes.Len() != 1 || sc.Changes.Slice()[0].Class != engine.Tweaked {
		t.Fatalf("after a new xattr: %v %+v", err, sc.Changes.Slice())
	}
	apply(1)
	if got := read("org.example.tag"); got != "blue" {
		t.Fatalf("tweaked tag %q", got)
	}
	sc, err = e.Scan(context.Background(), sp)
	if err != nil || sc.Changes.Len() != 0 {
		t.Fatalf("not converged: %v %+v", err, sc.Changes.Slice())
	}
	// S (ACLs) is not supported on macOS: the plan says so.
	sp.Copy = "DATSE"
	sc, err = e.Scan(context.Background(), sp)
	if err != nil || !strings.Contains(strings.Join(sc.Warnings, "\n"), "cannot copy security (S: ACLs)") {
		t.Fatalf("no warning for S: %v %q", err, sc.Warnings)
	}
}
