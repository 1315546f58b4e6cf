package vfs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Issue 16: a DACL and the owner read beneath the root and written on
// another file come back byte-for-byte.
func TestSecurityRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := NewLocal(dir)
	defer l.Close()
	cur, err := l.Security("a", SecOwner|SecDACL)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Owner == "" || len(cur.DACL) == 0 {
		t.Fatalf("no owner or DACL read: %+v", cur)
	}
	// A protected DACL that no default gives: the owner full control,
	// Everyone read.
	sd, err := windows.SecurityDescriptorFromString("O:" + cur.Owner + "D:P(A;;FA;;;" + cur.Owner + ")(A;;FR;;;WD)")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetSecurity("a", SecDACL, &Security{SD: unsafe.Slice((*byte)(unsafe.Pointer(sd)), sd.Length())}); err != nil {
		t.Fatal(err)
	}
	a, err := l.Security("a", SecOwner|SecDACL)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.DACL, cur.DACL) {
		// Measured under Wine 8.0 on ext4 (user xattrs available):
		// SetKernelObjectSecurity succeeds, and the DACL read back is
		// still the one Wine derives from the Unix mode.
		t.Skipf("the DACL set was accepted but not kept (Wine 8.0 derives a file's DACL from its Unix mode); a real Windows host runs this test: %q", cur.DACL)
	}
	if !bytes.HasPrefix(a.DACL, []byte("aclP")) {
		t.Errorf("DACL read back is not protected: %q", a.DACL)
	}
	if err := l.SetSecurity("b", SecOwner|SecDACL, a); err != nil {
		t.Fatal(err)
	}
	b, err := l.Security("b", SecOwner|SecDACL)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.DACL, b.DACL) || a.Owner != b.Owner {
		t.Errorf("copy differs:\n src %s %q\n dst %s %q", a.Owner, a.DACL, b.Owner, b.DACL)
	}
	if _, err := l.Security("../x", SecDACL); err == nil {
		t.Error("a name climbing out of the root was read")
	}
}

// Issue 16: named data streams travel with the file.
func TestCopyStreams(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "a:Zone.Identifier"), []byte("[ZoneTransfer]\r\nZoneId=3\r\n"), 0o644); err != nil {
		t.Skipf("this file system has no alternate data streams (Wine 8.0 refuses \"a:stream\"): %v", err)
	}
	l := NewLocal(dir)
	defer l.Close()
	n, err := l.CopyStreams(l, "a", "b")
	if errors.Is(err, ErrNoMeta) {
		// Measured under Wine 8.0: "a:Zone.Identifier" is created as a
		// file of that name, and FileStreamInformation is refused.
		t.Skipf("streams are not listed here (Wine 8.0 has no alternate data streams; a real Windows host runs this test): %v", err)
	}
	if err != nil || n != 1 {
		t.Fatalf("CopyStreams = %d, %v; want 1 stream", n, err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "b:Zone.Identifier"))
	if err != nil || string(got) != "[ZoneTransfer]\r\nZoneId=3\r\n" {
		t.Fatalf("b's stream = %q, %v", got, err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "b")); string(data) != "b" {
		t.Errorf("b's data changed: %q", data)
	}
}

func TestEnablePrivilegeUnknown(t *testing.T) {
	if err := EnablePrivilege("SeNoSuchPrivilegeRobo"); err == nil {
		t.Error("an unknown privilege was enabled")
	}
}
