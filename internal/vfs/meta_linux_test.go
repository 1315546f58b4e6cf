package vfs_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/robo-backup/robo/internal/vfs"
)

// The metadata calls of Local (issue 16) act on the entry beneath the
// root through an O_PATH descriptor: attributes round-trip, ACLs are their
// own class, and a link is refused, never followed.
func TestLocalMetaLinux(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := exec.Command("setfattr", "-n", "user.tag", "-v", "blue", filepath.Join(root, "a")).Run(); err != nil {
		t.Skipf("setfattr (user xattrs on %s): %v", root, err)
	}
	if out, err := exec.Command("setfacl", "-m", "u:65534:r", filepath.Join(root, "a")).CombinedOutput(); err != nil {
		t.Fatalf("setfacl: %v %s", err, out)
	}
	l := vfs.NewLocal(root)
	var m vfs.MetaFS = l
	other, err := m.Xattrs("a", vfs.XattrOther)
	if err != nil || len(other) != 1 || other[0].Name != "user.tag" || string(other[0].Value) != "blue" {
		t.Fatalf("xattrs of a: %v %v", other, err)
	}
	acl, err := m.Xattrs("a", vfs.XattrACL)
	if err != nil || len(acl) != 1 || acl[0].Name != vfs.ACLAccess {
		t.Fatalf("ACL of a: %v %v", acl, err)
	}
	if err := m.SetXattrs("b", vfs.XattrACL|vfs.XattrOther, append(acl, other...)); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("getfacl", "-cpn", filepath.Join(root, "b")).CombinedOutput()
	if err != nil || !contains(string(out), "user:65534:r--") {
		t.Fatalf("getfacl b: %v %s", err, out)
	}
	// SetXattrs makes the set exact: b's user.tag goes when not given.
	if err := m.SetXattrs("b", vfs.XattrOther, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Xattrs("b", vfs.XattrOther); len(got) != 0 {
		t.Fatalf("b kept %v", got)
	}
	if got, _ := m.Xattrs("b", vfs.XattrACL); len(got) != 1 {
		t.Fatalf("b lost its ACL: %v", got)
	}
	if err := m.Chmod("b", 0o4750); err != nil {
		t.Fatal(err)
	}
	if err := m.Chown("b", 65534, 65534); err != nil {
		t.Fatal(err)
	}
	en, err := l.Stat("b")
	if err != nil || en.Mode != 0o4750 && en.Mode != 0o750 || en.UID != 65534 || en.GID != 65534 {
		t.Fatalf("b: %+v %v", en, err)
	}
	// A link is refused at the last component and on the way.
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "l")); err != nil {
		t.Fatal(err)
	}
	if err := m.Chmod("l", 0o777); !errors.Is(err, vfs.ErrNoMeta) {
		t.Fatalf("chmod of a link: %v", err)
	}
	if _, err := m.Xattrs("l", vfs.XattrOther); !errors.Is(err, vfs.ErrNoMeta) {
		t.Fatalf("xattrs of a link: %v", err)
	}
	if err := os.Symlink("/etc", filepath.Join(root, "d")); err != nil {
		t.Fatal(err)
	}
	if err := m.Chmod("d/passwd", 0o777); !errors.Is(err, vfs.ErrNotFollowed) {
		t.Fatalf("chmod through a link: %v", err)
	}
	if err := m.Chown("l", 65534, 65534); err != nil {
		t.Fatalf("lchown of a link: %v", err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/etc/passwd", &st); err != nil || st.Uid == 65534 || st.Mode&0o777 == 0o777 {
		t.Fatalf("/etc/passwd was touched: %+v", st)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// A scan holds listings of many entries: the metadata fields (issue 16)
// fit in the 64 bytes an Entry took, and the hard-link identity (links,
// device, inode) adds 24, without padding elsewhere (88 bytes on 64-bit).
func TestEntrySize(t *testing.T) {
	if n := unsafe.Sizeof(vfs.Entry{}); unsafe.Sizeof(uintptr(0)) == 8 && n > 88 {
		t.Errorf("vfs.Entry is %d bytes", n)
	}
}
