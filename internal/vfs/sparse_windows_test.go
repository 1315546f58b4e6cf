package vfs_test

// Sparse files on Windows (issue 16): CopySparse of a sparse file writes
// only its allocated ranges into a sparse copy, with the same contents.

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/robo-backup/robo/internal/vfs"
	"golang.org/x/sys/windows"
)

func TestCopySparseWindows(t *testing.T) {
	dir := t.TempDir()
	sp := filepath.Join(dir, "src.img")
	f, err := os.Create(sp)
	if err != nil {
		t.Fatal(err)
	}
	var ret uint32
	serr := windows.DeviceIoControl(windows.Handle(f.Fd()), windows.FSCTL_SET_SPARSE, nil, 0, nil, 0, &ret, nil)
	data := bytes.Repeat([]byte("data"), 16<<10) // 64 KiB
	const size = 64 << 20
	if _, err := f.WriteAt(data, 32<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, err := os.Open(sp)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := os.Create(filepath.Join(dir, "dst.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close() // a skip must not leave it open (Windows cannot remove an open file)
	n, err := vfs.CopySparse(w, r, size, 1<<20, func() error { return nil })
	if err == vfs.ErrNotSparse {
		fi, _ := r.Stat()
		attrs := fi.Sys().(*syscall.Win32FileAttributeData).FileAttributes
		t.Skipf("this file system keeps no sparse files (FSCTL_SET_SPARSE: %v; attributes %#x)", serr, attrs)
	}
	if err != nil || n != size {
		t.Fatalf("CopySparse: %d, %v", n, err)
	}
	w.Close()
	got, err := os.ReadFile(filepath.Join(dir, "dst.img"))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, size)
	copy(want[32<<20:], data)
	if !bytes.Equal(got, want) {
		t.Fatal("the copy's contents differ")
	}
	fi, _ := os.Stat(filepath.Join(dir, "dst.img"))
	if fi.Sys().(*syscall.Win32FileAttributeData).FileAttributes&windows.FILE_ATTRIBUTE_SPARSE_FILE == 0 {
		t.Fatal("the copy is not a sparse file")
	}
}
