//go:build linux || darwin

package native_test

// Sparse files (issue 16): a file with holes keeps them at the destination,
// on the fast local path (new files and updates) and on the portable path
// (a source that is not a plain local tree, as robo restore's is).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/vfs"
)

// makeSparse writes a file of size bytes holding data (random bytes) at
// each of offsets and holes elsewhere, and returns its SHA-256.
func makeSparse(t *testing.T, p string, size int64, data int, offsets ...int64) [32]byte {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(uint64(size), uint64(data)))
	buf := make([]byte, data)
	for _, off := range offsets {
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		if _, err := f.WriteAt(buf, off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	return hashFile(t, p)
}

func hashFile(t *testing.T, p string) [32]byte {
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
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// allocated is the bytes a file takes on disk (st_blocks).
func allocated(t *testing.T, p string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Blocks) * 512
}

// holesSupported reports whether dir's file system keeps holes at all.
func holesSupported(t *testing.T, dir string) bool {
	p := filepath.Join(dir, "probe")
	makeSparse(t, p, 8<<20, 4096, 0)
	defer os.Remove(p)
	return allocated(t, p) < 1<<20
}

// hidden wraps a local tree so the engine sees no *vfs.Local: it copies
// through the portable Open/CreateTemp path.
type hidden struct{ vfs.FS }

func TestSparseFilesStaySparse(t *testing.T) {
	root := t.TempDir()
	if !holesSupported(t, root) {
		t.Skip("the temporary directory's file system keeps no holes")
	}
	const size, data = 256 << 20, 512 << 10
	for _, tc := range []struct {
		name     string
		portable bool
	}{{"fast path", false}, {"portable path", true}} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := filepath.Join(root, tc.name, "src"), filepath.Join(root, tc.name, "dst")
			os.MkdirAll(src, 0o755)
			// Data at the start and in the middle, a hole at the end; and a
			// file that is all hole; and a plain file.
			sum := makeSparse(t, filepath.Join(src, "disk.img"), size, data, 0, 100<<20)
			empty := makeSparse(t, filepath.Join(src, "empty.img"), 64<<20, 0)
			plain := bytes.Repeat([]byte("plain"), 1000)
			os.WriteFile(filepath.Join(src, "plain.txt"), plain, 0o644)
			e := testEngine()
			if tc.portable {
				e.Open = func(r string) (vfs.FS, error) {
					l, err := native.OpenLocal(r)
					if r == src {
						return hidden{l}, err
					}
					return l, err
				}
			}
			spec := engine.Spec{Name: "sparse", Source: src, Destination: dst, Mirror: true, Threads: 2}
			check := func(what string) {
				t.Helper()
				got := filepath.Join(dst, "disk.img")
				if a := allocated(t, got); a > 2*data+(1<<20) {
					t.Fatalf("%s: disk.img takes %d bytes at the destination, want about %d", what, a, 2*data)
				}
				if fi, _ := os.Stat(got); fi.Size() != size {
					t.Fatalf("%s: size %d", what, fi.Size())
				}
				if hashFile(t, got) != sum {
					t.Fatalf("%s: disk.img differs from the source", what)
				}
				if a := allocated(t, filepath.Join(dst, "empty.img")); a > 64<<10 {
					t.Fatalf("%s: empty.img takes %d bytes", what, a)
				}
				if hashFile(t, filepath.Join(dst, "empty.img")) != empty {
					t.Fatalf("%s: empty.img differs", what)
				}
				if b, _ := os.ReadFile(filepath.Join(dst, "plain.txt")); !bytes.Equal(b, plain) {
					t.Fatalf("%s: plain.txt differs", what)
				}
			}
			sc, err := e.Scan(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
			if err != nil || !res.OK() || len(res.Skipped) > 0 {
				t.Fatalf("apply: %v %+v", err, res)
			}
			check("new file")
			// An update goes through a temporary name.
			sum = makeSparse(t, filepath.Join(src, "disk.img"), size, data, 10<<20, 200<<20)
			os.Chtimes(filepath.Join(src, "disk.img"), time.Now(), time.Now())
			sc, err = e.Scan(context.Background(), spec)
			if err != nil || sc.Changes.Len() != 1 || sc.Changes.Slice()[0].Action != engine.Update {
				t.Fatalf("update plan: %v %v", err, sc.Changes.Slice())
			}
			res, err = e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
			if err != nil || !res.OK() || len(res.Skipped) > 0 {
				t.Fatalf("apply: %v %+v", err, res)
			}
			check("update")
		})
	}
}
