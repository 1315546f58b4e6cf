//go:build linux || darwin

package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func ino(t *testing.T, p string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(st.Ino)
}

// Link makes a hard link beneath the root, lets the check refuse, never
// replaces an entry, never links a symbolic link's target or through a
// linked directory, and refuses names that climb out; linkByName (macOS,
// and Linux without a descriptor route) links the inode it checked.
func TestLink(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "d"), 0o755)
	os.WriteFile(filepath.Join(root, "a"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(root, "taken"), []byte("t"), 0o644)
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, []byte("s"), 0o644)
	os.Symlink(outside, filepath.Join(root, "ln"))
	os.Symlink(filepath.Dir(outside), filepath.Join(root, "ldir"))
	l := NewLocal(root)
	ok := func(Entry) string { return "" }
	if skip, err := l.Link("a", "d/b", ok); skip != "" || err != nil {
		t.Fatalf("link: %q %v", skip, err)
	}
	if ino(t, filepath.Join(root, "d/b")) != ino(t, filepath.Join(root, "a")) {
		t.Fatal("d/b is not a")
	}
	if skip, err := l.Link("a", "c", func(e Entry) string {
		if e.Kind != File || e.Links != 2 {
			return "unexpected entry"
		}
		return "refused"
	}); skip != "refused" || err != nil {
		t.Fatalf("check: %q %v", skip, err)
	}
	if _, err := os.Lstat(filepath.Join(root, "c")); !os.IsNotExist(err) {
		t.Fatal("a refused link was made")
	}
	if _, err := l.Link("a", "taken", ok); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("over an entry: %v", err)
	}
	// A symbolic link is seen as one (the check refuses it), never followed.
	var seen Kind
	l.Link("ln", "x", func(e Entry) string { seen = e.Kind; return "not a file" })
	if seen != Symlink {
		t.Fatalf("the check saw a %s for a symbolic link", seen)
	}
	for _, bad := range [][2]string{{"../secret", "y"}, {"a", "../y"}, {"ldir/secret", "y"}, {"a", "ldir/y"}, {"/etc/passwd", "y"}} {
		if skip, err := l.Link(bad[0], bad[1], ok); err == nil && skip == "" {
			t.Errorf("Link(%q, %q) succeeded", bad[0], bad[1])
		}
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(outside), "y")); !os.IsNotExist(err) {
		t.Fatal("a link was made outside the root")
	}

	dfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dfd)
	if skip, err := linkByName(dfd, "a", dfd, "e", ok); skip != "" || err != nil {
		t.Fatalf("linkByName: %q %v", skip, err)
	}
	if ino(t, filepath.Join(root, "e")) != ino(t, filepath.Join(root, "a")) {
		t.Fatal("e is not a")
	}
	if skip, _ := linkByName(dfd, "ln", dfd, "f", func(e Entry) string {
		if e.Kind != File {
			return "not a file"
		}
		return ""
	}); skip != "not a file" {
		t.Fatalf("linkByName of a symbolic link: %q", skip)
	}
}
