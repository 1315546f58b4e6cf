//go:build linux

package vfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/robo-backup/robo/internal/testtree"
)

func devOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(st.Dev)
}

// TestCopyRoutes copies files from one file system to another (the source
// in t.TempDir, the destination on a tmpfs mounted for the test): the
// first file finds the route the kernel allows (sendfile, where
// copy_file_range is refused between the two, as Linux 5.19 and later do
// between two mounts of local file systems), the destination remembers it
// for that source device, and every route, the remembered one, a forced
// read/write and a sparse file, delivers the bytes exactly.
func TestCopyRoutes(t *testing.T) {
	srcRoot := t.TempDir()
	dstRoot := testtree.Tmpfs(t, "64m")
	src, dst := NewLocal(srcRoot), NewLocal(filepath.Join(dstRoot, "d"))
	if err := os.Mkdir(dst.Path(""), 0o755); err != nil {
		t.Fatal(err)
	}
	dev := devOf(t, srcRoot)
	if dev == devOf(t, dstRoot) {
		t.Fatal("the tmpfs has the source's device")
	}

	// What the kernel does with copy_file_range between these two.
	probe := func() error {
		a, err := os.Open(filepath.Join(srcRoot, "probe"))
		if err != nil {
			return err
		}
		defer a.Close()
		b, err := os.Create(filepath.Join(dstRoot, "probe"))
		if err != nil {
			return err
		}
		defer b.Close()
		_, err = unix.CopyFileRange(int(a.Fd()), nil, int(b.Fd()), nil, 1, 0)
		return err
	}
	if err := os.WriteFile(filepath.Join(srcRoot, "probe"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfrErr := probe()
	os.Remove(filepath.Join(srcRoot, "probe"))
	os.Remove(filepath.Join(dstRoot, "probe"))

	data := func(n, seed int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*seed + i>>9)
		}
		return b
	}
	mt := time.Date(2022, 3, 4, 5, 6, 7, 123456789, time.UTC)
	check := func(name string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(dst.Path(name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: copy differs (%d bytes of %d, %v)", name, len(got), len(want), err)
		}
		fi, err := os.Lstat(dst.Path(name))
		if err != nil || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(mt) {
			t.Fatalf("%s: mode %v time %v (%v)", name, fi.Mode(), fi.ModTime(), err)
		}
	}
	copyOne := func(name string, b []byte, viaTemp bool) {
		t.Helper()
		if err := os.WriteFile(src.Path(name), b, 0o640); err != nil {
			t.Fatal(err)
		}
		if viaTemp {
			skip, err := dst.ReplaceFile(src, name, name+".tmp", 0o640, mt, testChecks(), ReplaceSteps{})
			if skip != "" || err != nil {
				t.Fatalf("ReplaceFile %s = %q, %v", name, skip, err)
			}
		} else {
			skip, err := dst.CopyNewFile(src, name, 0o640, mt, testChecks())
			if skip != "" || err != nil {
				t.Fatalf("CopyNewFile %s = %q, %v", name, skip, err)
			}
		}
		check(name, b)
	}

	if got := dst.routes.get(dev); got != routeCFR {
		t.Fatalf("a new destination starts at %v", got)
	}
	first := data(3<<20+5, 3) // more than one chunk (testChecks: 1 MiB)
	copyOne("first", first, false)
	want := routeCFR
	if cfrErr != nil && errSticky(cfrErr) {
		want = routeSendfile // refused across: the copy moved on and remembers it
	}
	if got := dst.routes.get(dev); got != want {
		t.Fatalf("after the first copy (copy_file_range across: %v) the route is %v, want %v", cfrErr, got, want)
	}
	// The next files start from the remembered route, through both calls.
	copyOne("second", data(10000, 5), false)
	copyOne("third", data(1<<20, 7), true)
	if got := dst.routes.get(dev); got != want {
		t.Fatalf("the route changed to %v", got)
	}
	// Another source device has its own entry.
	if got := dst.routes.get(dev + 1); got != routeCFR {
		t.Fatalf("another device starts at %v", got)
	}

	// The last route: read and write through the pooled buffer.
	dst.routes.set(dev, routeRW)
	copyOne("rw", data(600<<10+1, 11), false)
	copyOne("rw-empty", nil, false)
	if got := dst.routes.get(dev); got != routeRW {
		t.Fatalf("read/write became %v", got)
	}

	// A sparse file across: holes stay holes whatever the route.
	for _, r := range []copyRoute{want, routeRW} {
		dst.routes.set(dev, r)
		name := "sparse-" + string(rune('0'+r))
		f, err := os.OpenFile(src.Path(name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		chunk := data(4096, 13)
		if _, err := f.WriteAt(chunk, 8<<20); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(16 << 20); err != nil {
			t.Fatal(err)
		}
		f.Close()
		whole, err := os.ReadFile(src.Path(name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(src.Path(name), 0o640); err != nil {
			t.Fatal(err)
		}
		skip, err := dst.CopyNewFile(src, name, 0o640, mt, testChecks())
		if skip != "" || err != nil {
			t.Fatalf("CopyNewFile %s = %q, %v", name, skip, err)
		}
		check(name, whole)
		var st unix.Stat_t
		if err := unix.Stat(dst.Path(name), &st); err != nil {
			t.Fatal(err)
		}
		if st.Blocks*512 >= 1<<20 {
			t.Fatalf("%s: %d bytes allocated for 4 KiB of data: the holes were written", name, st.Blocks*512)
		}
	}
}

// TestCopyRoutesSameFS: within one file system copy_file_range works and
// stays the route; sendfile, forced, copies exactly too.
func TestCopyRoutesSameFS(t *testing.T) {
	root := t.TempDir()
	src, dst := NewLocal(filepath.Join(root, "s")), NewLocal(filepath.Join(root, "d"))
	for _, d := range []string{src.Path(""), dst.Path("")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dev := devOf(t, root)
	b := make([]byte, 2<<20+3)
	for i := range b {
		b[i] = byte(i * 17)
	}
	mt := time.Date(2021, 1, 2, 3, 4, 5, 6, time.UTC)
	for i, r := range []copyRoute{routeCFR, routeSendfile} {
		dst.routes.set(dev, r)
		name := string(rune('a' + i))
		if err := os.WriteFile(src.Path(name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if skip, err := dst.CopyNewFile(src, name, 0o600, mt, testChecks()); skip != "" || err != nil {
			t.Fatalf("%v: %q, %v", r, skip, err)
		}
		if got, err := os.ReadFile(dst.Path(name)); err != nil || !bytes.Equal(got, b) {
			t.Fatalf("%v: copy differs (%d bytes, %v)", r, len(got), err)
		}
		if got := dst.routes.get(dev); got != r {
			t.Fatalf("%v became %v on one file system", r, got)
		}
	}
}
