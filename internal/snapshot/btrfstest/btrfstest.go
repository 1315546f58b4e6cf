// Package btrfstest makes a real btrfs file system for tests: a sparse
// image file, mkfs.btrfs, mounted through a loop device, with a subvolume
// in it. It needs root and btrfs-progs; without them the test is skipped
// with the reason, unless ROBO_REQUIRE_BTRFS=1 (set by .ci/run), which
// makes it fail instead.
package btrfstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Subvolume mounts a fresh btrfs file system and returns the path of a
// subvolume "data" in it (its root, inode 256). Everything is unmounted
// and removed at the end of the test.
func Subvolume(t testing.TB) string {
	t.Helper()
	need := func(why string) {
		if os.Getenv("ROBO_REQUIRE_BTRFS") == "1" {
			t.Fatalf("ROBO_REQUIRE_BTRFS=1 but %s", why)
		}
		t.Skip(why)
	}
	if runtime.GOOS != "linux" {
		need("btrfs is Linux's")
	}
	if os.Geteuid() != 0 {
		need("mounting a loop device needs root")
	}
	for _, tool := range []string{"mkfs.btrfs", "btrfs", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			need(tool + " is not installed (apt-get install btrfs-progs)")
		}
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "fs.img")
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(300 << 20)
	f.Close()
	run("mkfs.btrfs", "-q", img)
	run("mount", "-o", "loop", img, mnt)
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			// A lazy unmount so that the test's TempDir can go.
			exec.Command("umount", "-l", mnt).Run()
			t.Errorf("umount %s: %v\n%s", mnt, err, out)
		}
	})
	sub := filepath.Join(mnt, "data")
	run("btrfs", "-q", "subvolume", "create", sub)
	os.Chmod(sub, 0o755)
	return sub
}

// Subvolumes lists the subvolumes of the file system holding path
// (btrfs subvolume list), one path per line, for leftover checks.
func Subvolumes(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("btrfs", "subvolume", "list", "-o", path).CombinedOutput()
	if err != nil {
		t.Fatalf("btrfs subvolume list %s: %v\n%s", path, err, out)
	}
	return string(out)
}
