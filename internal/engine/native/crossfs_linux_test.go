package native_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/testtree"
)

// TestCopyAcrossFileSystems applies a tree whose destination is on another
// file system (a tmpfs mounted for the test; the source is in t.TempDir),
// where copy_file_range is refused and the bytes take another route
// (sendfile, docs/engine.md "How the bytes travel"): contents byte for
// byte, modes and modification times exact, files and directories, for
// the first copy and for an update of some files. It skips only when not
// root (mounting needs it).
func TestCopyAcrossFileSystems(t *testing.T) {
	mnt := testtree.Tmpfs(t, "128m")
	e := native.New()
	sp, src, _ := metaSpec(t, "DAT")
	dst := filepath.Join(mnt, "backup")
	sp.Destination = dst
	if stat(t, src).Dev == stat(t, mnt).Dev {
		t.Fatal("the tmpfs has the source's device")
	}

	data := func(n, seed int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*seed + i>>11)
		}
		return b
	}
	files := map[string][]byte{}
	put := func(name string, b []byte, mode os.FileMode, ns int) {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		tm := time.Date(2023, 7, 8, 9, 10, 11, ns, time.UTC)
		if err := os.Chtimes(p, tm, tm); err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	put("empty", nil, 0o644, 1)
	put("one", []byte("x"), 0o600, 2)
	put("a/small", data(5000, 3), 0o640, 123456789)
	put("a/b/mid", data(300<<10+7, 5), 0o755, 999999999)
	put("a/b/big", data(9<<20+3, 7), 0o604, 42) // more than one chunk
	for i := range 50 {
		put(filepath.Join("many", string(rune('a'+i%26))+string(rune('a'+i/26))), data(100+i*97, i+1), 0o644, i)
	}
	// A sparse file: 8 KiB of data in 32 MiB.
	sparse := filepath.Join(src, "a/sparse")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data(8192, 11), 16<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(32 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tm := time.Date(2023, 7, 8, 9, 10, 11, 7, time.UTC)
	if err := os.Chtimes(sparse, tm, tm); err != nil {
		t.Fatal(err)
	}
	if files["a/sparse"], err = os.ReadFile(sparse); err != nil {
		t.Fatal(err)
	}
	dirTime := time.Date(2022, 1, 2, 3, 4, 5, 600000000, time.UTC)
	for _, d := range []string{"a/b", "a", "many"} {
		if err := os.Chtimes(filepath.Join(src, d), dirTime, dirTime); err != nil {
			t.Fatal(err)
		}
	}

	check := func(when string) {
		t.Helper()
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(dst, name))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s %s: contents differ (%d bytes of %d, %v)", when, name, len(got), len(want), err)
			}
		}
		err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			s, d := stat(t, p), stat(t, filepath.Join(dst, rel))
			if s.Mode != d.Mode || s.Mtim != d.Mtim {
				t.Errorf("%s %s: mode %o time %v, source %o %v", when, rel, d.Mode, d.Mtim, s.Mode, s.Mtim)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if st := stat(t, filepath.Join(dst, "a/sparse")); st.Blocks*512 >= 1<<20 {
			t.Errorf("%s: the sparse file takes %d bytes on the tmpfs", when, st.Blocks*512)
		}
	}
	res := applyMeta(t, e, sp, scanAll(t, e, sp).Changes.Slice())
	if res.Counters.Files.Copied != int64(len(files)) {
		t.Fatalf("copied %d files, want %d", res.Counters.Files.Copied, len(files))
	}
	check("first copy")

	// Updates across: the old files are replaced through a temporary name.
	put("a/small", data(7000, 13), 0o600, 5)
	put("a/b/big", data(2<<20, 17), 0o640, 6)
	for _, d := range []string{"a/b", "a"} {
		os.Chtimes(filepath.Join(src, d), dirTime, dirTime)
	}
	res = applyMeta(t, e, sp, scanAll(t, e, sp).Changes.Slice())
	if res.Counters.Files.Copied != 2 {
		t.Fatalf("the update copied %d files, want 2", res.Counters.Files.Copied)
	}
	check("update")
	if cs := scanAll(t, e, sp).Changes; cs.Len() != 0 {
		t.Fatalf("after the update: %v", tweaks(cs.Slice()))
	}
}
