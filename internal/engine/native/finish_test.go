package native_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/vfs/vfstest"
)

// finishing is a destination with the two optional abilities of an SMB
// share (vfs.TempWriter, vfs.Finisher), built from the ordinary calls, so
// the engine's path for them runs on a local tree.
type finishing struct {
	vfs.FS
	writes, finishes *int
}

// Close closes the wrapped tree (vfs.Close).
func (f finishing) Close() error {
	vfs.Close(f.FS)
	return nil
}

func (f finishing) WriteTemp(dir, prefix string, perm fs.FileMode, data []byte) (vfs.Writer, string, error) {
	w, tmp, err := f.CreateTemp(dir, prefix, perm)
	if err != nil {
		return nil, "", err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		f.Remove(tmp)
		return nil, "", err
	}
	*f.writes++
	return &finisher{Writer: w, fs: f, tmp: tmp}, tmp, nil
}

type finisher struct {
	vfs.Writer
	fs  finishing
	tmp string
}

func (w *finisher) Finish(mtime time.Time, newname string) error {
	*w.fs.finishes++
	if err := w.Close(); err != nil {
		return err
	}
	if err := w.fs.Chtimes(w.tmp, mtime); err != nil {
		return err
	}
	return w.fs.Rename(w.tmp, newname)
}

// Issue 22: a small file bound for a destination that can create a file
// with its data and finish it in one request (an SMB share) is read whole
// first. A source rewritten while it is read is still detected and the copy
// discarded (the retry copies the new version whole); a quiet one arrives
// whole through WriteTemp and Finish.
func TestSmallFileReadWhole(t *testing.T) {
	for _, tc := range []struct{ name, rewrite string }{
		{"longer", strings.Repeat("B", 300_000)},
		{"same size", strings.Repeat("B", 200_000)},
		{"truncated", "B"},
		{"unchanged", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			orig := strings.Repeat("A", 200_000)
			tt.Create(t, src, tt.Dir{"small": tt.File{Content: orig}})
			tt.Create(t, dst, tt.Dir{"small": tt.File{Content: "old", MTime: tt.Base.Add(-time.Hour)}})
			var writes, finishes int
			e, _ := faultyEngine(src, dst, func(f *vfstest.Faulty) {
				if tc.rewrite == "" {
					return
				}
				f.AfterRead["small"] = func() {
					if err := os.WriteFile(filepath.Join(src, "small"), []byte(tc.rewrite), 0o644); err != nil {
						t.Error(err)
					}
				}
			}, nil)
			open := e.Open
			e.Open = func(root string) (vfs.FS, error) {
				f, err := open(root)
				if root == dst && err == nil {
					return finishing{FS: f, writes: &writes, finishes: &finishes}, nil
				}
				return f, err
			}
			res := scanApply(t, e, mirrorSpec(src, dst))
			if tc.rewrite == "" {
				if !res.OK() || writes != 1 || finishes != 1 {
					t.Fatalf("skipped %+v errors %+v; %d WriteTemp, %d Finish, want 1 and 1", res.Skipped, res.Errors, writes, finishes)
				}
				if b, err := os.ReadFile(filepath.Join(dst, "small")); err != nil || string(b) != orig {
					t.Fatalf("destination: %d bytes (%v)", len(b), err)
				}
				return
			}
			// The first copy is discarded; the retry at the end of the
			// phase (issue 16: changing files) copies the new version,
			// whole, through WriteTemp and Finish again.
			// (A new version too large to be read whole goes through
			// CreateTemp.)
			wantWrites, wantFinishes := 2, 1
			if len(tc.rewrite) > 256<<10 {
				wantWrites, wantFinishes = 1, 0
			}
			if !res.OK() || len(res.Skipped) != 0 || len(res.Changing) != 0 || writes != wantWrites || finishes != wantFinishes {
				t.Fatalf("skipped %+v errors %+v changing %+v; %d WriteTemp, %d Finish, want %d and %d", res.Skipped, res.Errors, res.Changing, writes, finishes, wantWrites, wantFinishes)
			}
			if temps := checkComplete(t, dst, versions{"small": {tc.rewrite}}); len(temps) > 0 {
				t.Errorf("temp files left: %v", temps)
			}
		})
	}
}
