package snapshot

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// Issue 17: snapshot = "required" on a file system robo cannot snapshot
// (t.TempDir is ext4 or tmpfs here) refuses, naming the source, its file
// system type and what would work; "auto" copies live and says why.
func TestUnsupportedFileSystem(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the file system types are Linux's")
	}
	dir := t.TempDir()
	m := NewManager(t.TempDir(), Events{})
	defer m.Close()
	_, err := m.Acquire(context.Background(), "x", dir, Required)
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		t.Fatalf("err %v, want an UnsupportedError", err)
	}
	msg := err.Error()
	for _, want := range []string{dir, "is on a file system of type " + ue.FSType, "btrfs subvolumes, LVM thin volumes and ZFS datasets", `snapshot = "auto"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if ue.FSType == "" || ue.FSType == "unknown" {
		t.Errorf("file system type %q not found", ue.FSType)
	}
	l, err := m.Acquire(context.Background(), "x", dir, Auto)
	if err != nil || l.Snapshot != nil || l.Path != dir || !strings.Contains(l.Live, ue.FSType) {
		t.Fatalf("auto: %+v %v, want a live lease saying why", l, err)
	}
	if l, err := m.Acquire(context.Background(), "x", dir, Never); err != nil || l.Path != dir || l.Live != "" {
		t.Fatalf("never: %+v %v", l, err)
	}
}

func TestParseMountinfo(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("mountinfo is Linux's")
	}
	testParseMountinfo(t)
}
