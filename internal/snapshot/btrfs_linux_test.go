package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/robo-backup/robo/internal/snapshot/btrfstest"
)

func registryFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".json") || strings.HasSuffix(e.Name(), ".lock") {
			names = append(names, e.Name())
		}
	}
	return names
}

// Issue 17: a required snapshot of a btrfs subvolume is read-only, holds
// the tree as it was when it was taken, maps the source path into it, and
// is gone with its record and robo's directory after Close.
func TestBtrfsSnapshotFreezesTheSource(t *testing.T) {
	sub := btrfstest.Subvolume(t)
	src := filepath.Join(sub, "docs")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("before"), 0o644)
	reg := filepath.Join(t.TempDir(), "snapshots")
	var created, removed []string
	m := NewManager(reg, Events{Created: func(s *Snapshot, set string) { created = append(created, set+":"+s.Name) },
		Removed: func(s *Snapshot) { removed = append(removed, s.Name) }})
	l, err := m.Acquire(context.Background(), "docs", src, Required)
	if err != nil {
		t.Fatal(err)
	}
	if l.Snapshot == nil || l.Snapshot.Kind != KindBtrfs || l.Snapshot.Volume != sub {
		t.Fatalf("lease %+v, want a btrfs snapshot of %s", l, sub)
	}
	want := filepath.Join(sub, hiddenDir, l.Snapshot.Name, "docs")
	if l.Path != want {
		t.Fatalf("path %s, want %s", l.Path, want)
	}
	if len(l.ExcludeDirs) != 0 {
		t.Errorf("a source below the subvolume's root excludes %v", l.ExcludeDirs)
	}
	if got := registryFiles(t, reg); len(got) != 2 {
		t.Errorf("registry while held: %v, want the record and its lock", got)
	}
	fi, err := os.Stat(filepath.Join(sub, hiddenDir))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v %v, want mode 0700", hiddenDir, fi, err)
	}
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("after, and longer"), 0o644)
	os.WriteFile(filepath.Join(src, "new.txt"), []byte("new"), 0o644)
	if b, err := os.ReadFile(filepath.Join(l.Path, "a.txt")); err != nil || string(b) != "before" {
		t.Errorf("snapshot's a.txt: %q %v, want the content before the change", b, err)
	}
	if _, err := os.Stat(filepath.Join(l.Path, "new.txt")); !os.IsNotExist(err) {
		t.Errorf("a file made after the snapshot is in it: %v", err)
	}
	if err := os.WriteFile(filepath.Join(l.Path, "a.txt"), []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("writing into the snapshot: %v, want EROFS (read-only)", err)
	}
	// The same set gets the same lease again (plan, then apply).
	if l2, err := m.Acquire(context.Background(), "docs", src, Required); err != nil || l2 != l {
		t.Errorf("second acquire: %+v %v, want the same lease", l2, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(sub, hiddenDir)); !os.IsNotExist(err) {
		t.Errorf("%s left after Close: %v", hiddenDir, err)
	}
	if got := registryFiles(t, reg); len(got) != 0 {
		t.Errorf("registry after Close: %v", got)
	}
	if s := btrfstest.Subvolumes(t, sub); strings.Contains(s, "robo-") {
		t.Errorf("a snapshot subvolume is left:\n%s", s)
	}
	if len(created) != 1 || len(removed) != 1 || !strings.HasPrefix(created[0], "docs:") {
		t.Errorf("events: created %v, removed %v", created, removed)
	}
}

// Issue 17: the sets of a run on one volume share one snapshot, removed
// when the last of them releases it; a source at the subvolume's root
// leaves robo's snapshot directory out.
func TestBtrfsOneSnapshotPerVolume(t *testing.T) {
	sub := btrfstest.Subvolume(t)
	os.MkdirAll(filepath.Join(sub, "a"), 0o755)
	reg := filepath.Join(t.TempDir(), "snapshots")
	m := NewManager(reg, Events{})
	defer m.Close()
	la, err := m.Acquire(context.Background(), "a", filepath.Join(sub, "a"), Required)
	if err != nil {
		t.Fatal(err)
	}
	lroot, err := m.Acquire(context.Background(), "root", sub, Auto)
	if err != nil {
		t.Fatal(err)
	}
	if la.Snapshot != lroot.Snapshot {
		t.Fatalf("two snapshots of one volume: %s and %s", la.Snapshot.Name, lroot.Snapshot.Name)
	}
	if lroot.Path != la.Snapshot.Root || len(lroot.ExcludeDirs) != 1 || lroot.ExcludeDirs[0] != hiddenDir {
		t.Errorf("root lease %+v", lroot)
	}
	m.Release("a")
	if _, err := os.Stat(la.Snapshot.Root); err != nil {
		t.Fatalf("the snapshot went while set root still holds it: %v", err)
	}
	m.Release("root")
	if _, err := os.Stat(la.Snapshot.Root); !os.IsNotExist(err) {
		t.Fatalf("the snapshot is left after the last release: %v", err)
	}
	if got := registryFiles(t, reg); len(got) != 0 {
		t.Errorf("registry: %v", got)
	}
}

// Issue 17: a snapshot whose owner died (its record unlocked, as the
// kernel unlocks it when a process is killed) is removed by Cleanup; one
// whose owner still holds it is left alone.
func TestBtrfsLeftoverCleanup(t *testing.T) {
	sub := btrfstest.Subvolume(t)
	reg := filepath.Join(t.TempDir(), "snapshots")
	dead := NewManager(reg, Events{})
	l, err := dead.Acquire(context.Background(), "x", sub, Required)
	if err != nil {
		t.Fatal(err)
	}
	live := NewManager(reg, Events{})
	sub2 := btrfstest.Subvolume(t)
	l2, err := live.Acquire(context.Background(), "y", sub2, Required)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	// The first owner "dies": its lock goes, its record and snapshot stay.
	dead.byKey = map[string]*held{}
	for _, sh := range dead.bySet {
		sh.h.reg.release()
	}
	got := Cleanup(reg)
	if len(got) != 1 || got[0].Err != nil || got[0].Snapshot.Name != l.Snapshot.Name {
		t.Fatalf("Cleanup: %+v, want the dead owner's snapshot removed", got)
	}
	if _, err := os.Stat(l.Snapshot.Root); !os.IsNotExist(err) {
		t.Errorf("leftover still there: %v", err)
	}
	if _, err := os.Stat(l2.Snapshot.Root); err != nil {
		t.Errorf("Cleanup removed a snapshot in use: %v", err)
	}
	if got := Cleanup(reg); len(got) != 0 {
		t.Errorf("second Cleanup: %+v", got)
	}
}

// Issue 17: robo's snapshot directory made beforehand by someone else (a
// user who can write to the subvolume's root) or replaced by a link is
// refused, never written through.
func TestBtrfsHostileSnapshotDirectory(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, sub string)
		want string
	}{
		{"other owner", func(t *testing.T, sub string) {
			p := filepath.Join(sub, hiddenDir)
			os.Mkdir(p, 0o700)
			os.Chown(p, 1234, 1234)
		}, "is not robo's (owner uid 1234"},
		{"open to others", func(t *testing.T, sub string) {
			p := filepath.Join(sub, hiddenDir)
			os.Mkdir(p, 0o777)
			os.Chmod(p, 0o777)
		}, "mode 0777"},
		{"link", func(t *testing.T, sub string) {
			os.Mkdir(filepath.Join(sub, "elsewhere"), 0o700)
			os.Symlink("elsewhere", filepath.Join(sub, hiddenDir))
		}, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := btrfstest.Subvolume(t)
			tc.make(t, sub)
			m := NewManager(filepath.Join(t.TempDir(), "snapshots"), Events{})
			defer m.Close()
			_, err := m.Acquire(context.Background(), "x", sub, Required)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if s := btrfstest.Subvolumes(t, sub); strings.Contains(s, "robo-") {
				t.Errorf("a snapshot was made:\n%s", s)
			}
		})
	}
}
