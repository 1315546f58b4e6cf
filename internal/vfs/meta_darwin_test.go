//go:build darwin

package vfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/robo-backup/robo/internal/vfs"
)

// The extended attributes of Local on macOS (issue 16) are read and
// written on a descriptor opened beneath the root: com.apple.* and other
// names round-trip as the class XattrOther, none is an ACL, SetXattrs
// makes the set exact, and a link, a FIFO or a link on the way is refused,
// never followed. Built and vetted on every commit (GOOS=darwin go vet);
// only a macOS host runs it.
func TestLocalMetaDarwin(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := filepath.Join(root, "a")
	if err := unix.Setxattr(a, "com.apple.quarantine", []byte("0081;00000000;robo;"), 0); err != nil {
		t.Skipf("setxattr on %s: %v", root, err)
	}
	if err := unix.Setxattr(a, "org.example.tag", []byte("blue"), 0); err != nil {
		t.Fatal(err)
	}
	l := vfs.NewLocal(root)
	var m vfs.MetaFS = l
	xs, err := m.Xattrs("a", vfs.XattrOther)
	if err != nil || len(xs) != 2 || xs[0].Name != "com.apple.quarantine" || xs[1].Name != "org.example.tag" || string(xs[1].Value) != "blue" {
		t.Fatalf("xattrs of a: %q %v", xs, err)
	}
	if acl, err := m.Xattrs("a", vfs.XattrACL); err != nil || len(acl) != 0 {
		t.Fatalf("ACL class of a: %q %v", acl, err)
	}
	if err := m.SetXattrs("b", vfs.XattrOther, xs); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := unix.Getxattr(filepath.Join(root, "b"), "org.example.tag", buf)
	if err != nil || string(buf[:n]) != "blue" {
		t.Fatalf("b's org.example.tag: %q %v", buf[:n], err)
	}
	if got, err := m.Xattrs("b", vfs.XattrOther); err != nil || len(got) != 2 {
		t.Fatalf("xattrs of b: %q %v", got, err)
	}
	// SetXattrs makes the set exact: b's attributes go when not given.
	if err := m.SetXattrs("b", vfs.XattrOther, xs[1:]); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Xattrs("b", vfs.XattrOther); err != nil || len(got) != 1 || got[0].Name != "org.example.tag" {
		t.Fatalf("b after removing the quarantine: %q %v", got, err)
	}
	// The root itself has attributes too.
	if err := m.SetXattrs("", vfs.XattrOther, xs[1:]); err != nil {
		t.Fatal(err)
	}
	if got, err := m.Xattrs("", vfs.XattrOther); err != nil || len(got) != 1 {
		t.Fatalf("xattrs of the root: %q %v", got, err)
	}
	// A link is refused at the last component and on the way; a FIFO is
	// not opened.
	if err := os.Symlink(filepath.Join(root, "a"), filepath.Join(root, "l")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Xattrs("l", vfs.XattrOther); !errors.Is(err, vfs.ErrNoMeta) {
		t.Fatalf("xattrs of a link: %v", err)
	}
	if err := m.SetXattrs("l", vfs.XattrOther, nil); !errors.Is(err, vfs.ErrNoMeta) {
		t.Fatalf("setxattrs of a link: %v", err)
	}
	if got, _ := m.Xattrs("a", vfs.XattrOther); len(got) != 2 {
		t.Fatalf("a was changed through the link: %q", got)
	}
	if err := os.Symlink(root, filepath.Join(root, "d")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Xattrs("d/a", vfs.XattrOther); !errors.Is(err, vfs.ErrNotFollowed) {
		t.Fatalf("xattrs through a link: %v", err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Xattrs("fifo", vfs.XattrOther); !errors.Is(err, vfs.ErrNoMeta) {
		t.Fatalf("xattrs of a FIFO: %v", err)
	}
}
