package shares_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/shares"
	"github.com/robo-backup/robo/internal/shares/sambatest"
	"github.com/robo-backup/robo/internal/vfs"
)

func server(t *testing.T) *sambatest.Server {
	t.Helper()
	// Each test gets its own server: they are cheap (~0.2s) and a test that
	// kills its server cannot disturb another.
	return sambatest.Start(t)
}

func creds(s *sambatest.Server) shares.Credentials {
	return shares.Credentials{User: s.User, Password: []byte(s.Password)}
}

func target(s *sambatest.Server, share string) shares.Target {
	return shares.Target{Server: s.Host, Port: s.Port, Share: share}
}

func dial(t *testing.T, s *sambatest.Server, share string, opts shares.Options) *shares.Conn {
	t.Helper()
	c, err := shares.Dial(context.Background(), target(s, share), creds(s), opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestVFS(t *testing.T) {
	s := server(t)
	c := dial(t, s, "data", shares.Options{})
	if err := os.MkdirAll(filepath.Join(s.DataDir, "root"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := c.FS("root")
	if got, want := f.String(), `\\127.0.0.1\data\root`; got != want {
		t.Errorf("String %q, want %q", got, want)
	}
	root, err := f.Stat("")
	if err != nil || root.Kind != vfs.Dir {
		t.Fatalf("stat root: %+v %v", root, err)
	}

	// mkdir, idempotent; MkdirAll
	if err := f.Mkdir("d", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := f.Mkdir("d", 0o755); err != nil {
		t.Fatalf("mkdir of an existing dir: %v", err)
	}
	if err := f.MkdirAll("x/y/z"); err != nil {
		t.Fatal(err)
	}
	if err := f.MkdirAll("x/y/z"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(s.DataDir, "root/x/y/z")); err != nil || !fi.IsDir() {
		t.Fatalf("MkdirAll did not create the dirs: %v", err)
	}

	// temp + write + chtimes + rename
	content := bytes.Repeat([]byte("0123456789abcdef"), 200000) // 3.2 MB, several chunks
	w, tmp, err := f.CreateTemp("d", ".robo-f.", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tmp, "d/.robo-f.") || !strings.HasSuffix(tmp, ".tmp") {
		t.Errorf("temp name %q", tmp)
	}
	if _, err := w.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	mt := time.Date(2021, 5, 6, 7, 8, 9, 123456789, time.UTC)
	if err := f.Chtimes(tmp, mt); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename(tmp, "d/f.bin"); err != nil {
		t.Fatal(err)
	}
	e, err := f.Stat("d/f.bin")
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != vfs.File || e.Size != int64(len(content)) || e.Name != "f.bin" {
		t.Errorf("stat %+v", e)
	}
	if !e.ModTime.Equal(mt.Truncate(100 * time.Nanosecond)) {
		t.Errorf("mtime %v, want %v (100ns)", e.ModTime, mt.Truncate(100*time.Nanosecond))
	}
	fi, err := os.Stat(filepath.Join(s.DataDir, "root/d/f.bin"))
	if err != nil || !fi.ModTime().Equal(mt.Truncate(100*time.Nanosecond)) {
		t.Errorf("backing mtime %v %v", fi.ModTime(), err)
	}
	if at, ok := atime(fi); ok && time.Since(at) > time.Hour {
		t.Errorf("atime not set to now: %v", at)
	}
	// read back
	r, err := f.Open("d/f.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("read back %d bytes, err %v", len(got), err)
	}
	rfi, err := r.Stat()
	if err != nil || rfi.Size() != int64(len(content)) || !rfi.ModTime().Equal(e.ModTime) {
		t.Errorf("reader stat %v %v", rfi, err)
	}
	r.Close()

	// rename replaces an existing (read-only) file
	os.WriteFile(filepath.Join(s.DataDir, "root/d/g.txt"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(s.DataDir, "root/d/new.txt"), []byte("new!"), 0o644)
	if err := f.Rename("d/new.txt", "d/g.txt"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.DataDir, "root/d/g.txt")); string(b) != "new!" {
		t.Errorf("rename did not replace: %q", b)
	}

	// mtime of a directory
	if err := f.Chtimes("d", mt); err != nil {
		t.Fatal(err)
	}
	if e, _ := f.Stat("d"); !e.ModTime.Equal(mt.Truncate(100*time.Nanosecond)) || e.Kind != vfs.Dir {
		t.Errorf("dir %+v", e)
	}

	// unicode and long names
	uni := "Größe – 日本語 😀.txt"
	long := strings.Repeat("l", 200)
	deep := strings.Repeat("deep-directory-name/", 30) + long
	for _, n := range []string{uni, long, deep} {
		if err := f.MkdirAll(pathDir(n)); err != nil {
			t.Fatal(err)
		}
		w, tmp, err := f.CreateTemp(pathDir(n), ".robo-u.", 0o644)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		w.Write([]byte(n))
		w.Close()
		if err := f.Rename(tmp, n); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(s.DataDir, "root", n)); err != nil || string(b) != n {
			t.Errorf("%s: %q %v", n, b, err)
		}
	}

	// ReadDir sorted, kinds
	for _, n := range []string{"b", "A", "a", "Z", "_"} {
		os.WriteFile(filepath.Join(s.DataDir, "root/x", n+".f"), nil, 0o644)
	}
	list, err := f.ReadDir("x")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name+":"+e.Kind.String())
	}
	if got, want := strings.Join(names, " "), "A.f:file Z.f:file _.f:file a.f:file b.f:file y:dir"; got != want {
		t.Errorf("ReadDir %q, want %q", got, want)
	}

	// errors: missing, exists, invalid names
	if _, err := f.Stat("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat missing: %v", err)
	} else if !strings.Contains(err.Error(), `\\127.0.0.1\data\root\nope`) {
		t.Errorf("error does not name the UNC path: %v", err)
	}
	if _, err := f.ReadDir("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("readdir missing: %v", err)
	}
	if _, err := f.Open("nope/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open missing: %v", err)
	}
	for _, bad := range []string{"../x", "/x", "a//b", `a\b`, "."} {
		if _, err := f.Stat(bad); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("stat %q: %v", bad, err)
		}
	}
	if _, _, err := f.CreateTemp("", "a:b", 0o644); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("create a:b: %v", err)
	}

	// remove: file, read-only file, empty dir, non-empty dir
	if err := os.Chmod(filepath.Join(s.DataDir, "root/d/g.txt"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove("d/g.txt"); err != nil {
		t.Errorf("remove read-only: %v", err)
	}
	if err := f.Remove("x"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("remove non-empty dir: %v", err)
	}
	if err := f.Remove("x/y/z"); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "root/x/y/z")); !os.IsNotExist(err) {
		t.Error("dir not removed")
	}
	if err := f.Remove(""); err == nil {
		t.Error("removed the root")
	}

	// symlinks
	if err := f.Symlink("t", "l"); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "not supported on SMB shares") {
		t.Errorf("symlink: %v", err)
	}
	if _, err := f.Readlink("l"); !errors.Is(err, shares.ErrSymlinksUnsupported) {
		t.Errorf("readlink: %v", err)
	}
}

func pathDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}
