package main

// Issue 16, as a user sees it: a sparse file of 1 GiB with 1 MiB of data
// takes about 1 MiB in the backup and again after robo restore, byte for
// byte the same; files hard-linked in the source are one file in the
// backup and in the restored tree.

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func fileStat(t *testing.T, p string) syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func sha(t *testing.T, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

func TestSparseAndHardLinksBackupAndRestore(t *testing.T) {
	dir := t.TempDir()
	conf, src, dst := filepath.Join(dir, "conf"), filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	os.MkdirAll(conf, 0o755)
	os.MkdirAll(filepath.Join(src, "vm"), 0o755)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte("backup \"vm\" {\n  source = \"../src\"\n  destination = \"../dst\"\n  hard_links = true\n}\n"), 0o644)

	// 1 GiB, 1 MiB of data in four 256 KiB pieces, the rest holes.
	const size, piece = 1 << 30, 256 << 10
	img := filepath.Join(src, "vm", "disk.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(16, 16))
	buf := make([]byte, piece)
	for _, off := range []int64{0, 300 << 20, 700 << 20, size - piece} {
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		if _, err := f.WriteAt(buf, off); err != nil {
			t.Fatal(err)
		}
	}
	f.Truncate(size)
	f.Close()
	mt := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(img, mt, mt)
	if a := fileStat(t, img).Blocks * 512; a > 2<<20 {
		t.Skipf("the temporary directory's file system keeps no holes (%d bytes allocated)", a)
	}
	want := sha(t, img)
	// Two more names of one small file.
	os.WriteFile(filepath.Join(src, "a.conf"), []byte(strings.Repeat("conf\n", 100)), 0o644)
	os.Chtimes(filepath.Join(src, "a.conf"), mt, mt)
	os.Link(filepath.Join(src, "a.conf"), filepath.Join(src, "vm", "b.conf"))
	os.Link(filepath.Join(src, "a.conf"), filepath.Join(src, "vm", "c.conf"))

	code, out, errb := runRobo(t, "", false, "-chdir", conf, "plan")
	if code != exitOK || !strings.Contains(out, "Hard Link          0 B  vm/b.conf => a.conf") ||
		!strings.Contains(out, "Summary: 2 new files, 2 hard links, 1 new dir; 1.0 GiB to copy") {
		t.Fatalf("plan: exit %d:\n%s%s", code, out, errb)
	}
	if code, out, errb := runRobo(t, "", false, "-chdir", conf, "apply", "-auto-approve"); code != exitOK {
		t.Fatalf("apply: exit %d:\n%s%s", code, out, errb)
	}
	checkTree := func(what, root string) {
		t.Helper()
		p := filepath.Join(root, "vm", "disk.img")
		st := fileStat(t, p)
		if st.Size != size || st.Blocks*512 > 2<<20 {
			t.Fatalf("%s: disk.img is %d bytes and takes %d on disk, want %d and about 1 MiB", what, st.Size, st.Blocks*512, size)
		}
		if sha(t, p) != want {
			t.Fatalf("%s: disk.img differs from the source", what)
		}
		a := fileStat(t, filepath.Join(root, "a.conf"))
		for _, n := range []string{"vm/b.conf", "vm/c.conf"} {
			if st := fileStat(t, filepath.Join(root, n)); st.Ino != a.Ino || st.Nlink != 3 {
				t.Fatalf("%s: %s is inode %d with %d links, want a.conf's %d with 3", what, n, st.Ino, st.Nlink, a.Ino)
			}
		}
	}
	checkTree("backup", dst)
	if code, out, _ := runRobo(t, "", false, "-chdir", conf, "plan", "-detailed-exitcode"); code != exitOK {
		t.Fatalf("second plan: exit %d:\n%s", code, out)
	}

	to := filepath.Join(dir, "restored")
	if code, out, errb := runRobo(t, "", false, "-chdir", conf, "restore", "vm", "-to", to, "-auto-approve"); code != exitOK {
		t.Fatalf("restore: exit %d:\n%s%s", code, out, errb)
	}
	checkTree("restore", to)
}
