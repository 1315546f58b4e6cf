package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// confineModes runs f once per way this OS resolves names beneath a root
// (on Linux: openat2, and the component walk used where openat2 is
// missing).
func confineModes(t *testing.T, f func(t *testing.T)) {
	for _, m := range resolveModes() {
		t.Run(m.name, func(t *testing.T) {
			m.set(t)
			f(t)
		})
	}
}

// outsideTree makes root/in (the Local's root) holding sub/f, and
// root/outside holding the files an attacker wants robo to touch.
func outsideTree(t *testing.T) (root, in, outside string) {
	root = t.TempDir()
	in, outside = filepath.Join(root, "in"), filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(in, "sub"), filepath.Join(outside, "deep")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(in, "sub", "f"), filepath.Join(outside, "f"), filepath.Join(outside, "deep", "f")} {
		if err := os.WriteFile(f, []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root, in, outside
}

// snapshot lists every path under dir with its size and time.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p+" "+fi.Mode().String()+" "+fi.ModTime().String()+" "+string(rune('0'+fi.Size()%10)))
		return nil
	})
	return out
}

// TestNoOperationFollowsASwappedDirectory (issue 13): a directory of the
// root replaced by a link to a directory outside it, after the Local was
// opened. Every operation below the link is refused with ErrNotFollowed
// and the outside directory is not read, written, renamed into or
// deleted from.
func TestNoOperationFollowsASwappedDirectory(t *testing.T) {
	confineModes(t, func(t *testing.T) {
		for _, target := range []string{"outside", "in/other"} {
			t.Run(filepath.Base(target), func(t *testing.T) {
				root, in, outside := outsideTree(t)
				l := NewLocal(in)
				t.Cleanup(func() { l.Close() })
				if _, err := l.Stat("sub/f"); err != nil {
					t.Fatal(err)
				}
				to := filepath.Join(root, target)
				if target != "outside" {
					// A link that stays inside the root (os.Root alone
					// would follow it).
					if err := os.Rename(outside, to); err != nil {
						t.Fatal(err)
					}
					outside = to
				}
				if err := os.Rename(filepath.Join(in, "sub"), filepath.Join(root, "moved")); err != nil {
					t.Fatal(err)
				}
				symlink(t, to, filepath.Join(in, "sub"))
				before := snapshot(t, outside)
				notFollowed := func(op string, err error) {
					t.Helper()
					if !errors.Is(err, ErrNotFollowed) {
						t.Errorf("%s through the link: err = %v, want ErrNotFollowed", op, err)
					}
				}
				_, err := l.Stat("sub/f")
				notFollowed("Stat", err)
				_, err = l.ReadDir("sub")
				notFollowed("ReadDir", err)
				_, err = l.ReadDir("sub/deep")
				notFollowed("ReadDir deep", err)
				_, err = l.Open("sub/f")
				notFollowed("Open", err)
				_, _, err = l.CreateTemp("sub", ".robo-", 0o644)
				notFollowed("CreateTemp", err)
				notFollowed("Rename into", l.Rename("x", "sub/f"))
				notFollowed("Rename from", l.Rename("sub/f", "stolen"))
				notFollowed("Remove", l.Remove("sub/f"))
				notFollowed("Remove deep", l.Remove("sub/deep/f"))
				notFollowed("Mkdir", l.Mkdir("sub/new", 0o755))
				notFollowed("MkdirAll", l.MkdirAll("sub/new/deeper"))
				notFollowed("Chtimes", l.Chtimes("sub/f", time.Unix(1, 0)))
				notFollowed("Symlink", l.Symlink("/etc/passwd", "sub/ln"))
				_, err = l.Readlink("sub/ln")
				notFollowed("Readlink", err)
				if runtime.GOOS == "linux" {
					src := NewLocal(filepath.Join(root, "src"))
					if err := os.MkdirAll(src.Path("sub"), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(src.Path("sub/g"), []byte("new"), 0o644); err != nil {
						t.Fatal(err)
					}
					_, err = l.ReplaceFile(src, "sub/g", "sub/.robo-t.tmp", 0o644, time.Now(), testChecks(), ReplaceSteps{})
					notFollowed("ReplaceFile", err)
					_, err = l.CopyNewFile(src, "sub/g", 0o644, time.Now(), testChecks())
					notFollowed("CopyNewFile", err)
					// As a source: the fast path declines, the portable
					// path's own guards (Stat, Open) refuse it.
					_, err = NewLocal(filepath.Join(root, "moved")).ReplaceFile(l, "sub/f", "sub/.robo-u.tmp", 0o644, time.Now(), testChecks(), ReplaceSteps{})
					if !errors.Is(err, ErrNoFastCopy) {
						t.Errorf("ReplaceFile from a swapped source dir: %v", err)
					}
				}
				if after := snapshot(t, outside); !slices.Equal(before, after) {
					t.Fatalf("the outside directory changed:\nbefore %q\nafter  %q", before, after)
				}
				// The link itself is an entry of the root: it can be seen
				// and removed (as a link), never followed.
				if en, err := l.Stat("sub"); err != nil || en.Kind != Symlink {
					t.Fatalf("Stat(sub) = %+v, %v", en, err)
				}
				if err := l.Remove("sub"); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(outside, "f")); err != nil {
					t.Fatalf("removing the link removed its target: %v", err)
				}
			})
		}
	})
}

// TestRootIsPinned: once a Local has opened its root, renaming the root's
// path away and putting a link (or another directory) in its place does
// not move it: operations still reach the directory first opened, and
// RootID still names it.
func TestRootIsPinned(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows pins an open root itself: it cannot be renamed while robo holds it")
	}
	confineModes(t, func(t *testing.T) {
		root, in, outside := outsideTree(t)
		l := NewLocal(in)
		id, err := l.RootID()
		if err != nil {
			t.Fatal(err)
		}
		moved := filepath.Join(root, "moved")
		if err := os.Rename(in, moved); err != nil {
			t.Fatal(err)
		}
		symlink(t, outside, in)
		before := snapshot(t, outside)
		w, name, err := l.CreateTemp("sub", ".robo-", 0o644)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		if err := l.Rename(name, "sub/new"); err != nil {
			t.Fatal(err)
		}
		if err := l.Remove("sub/f"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(moved, "sub", "new")); err != nil {
			t.Fatalf("the write did not reach the pinned root: %v", err)
		}
		if after := snapshot(t, outside); !slices.Equal(before, after) {
			t.Fatalf("the directory now at the root's path changed:\nbefore %q\nafter  %q", before, after)
		}
		if id2, err := l.RootID(); err != nil || id2 != id {
			t.Fatalf("RootID = %v, %v; want %v", id2, err, id)
		}
		// A new Local on the path sees the link as the root's last
		// component: refused, and RootIsLink says why.
		l2 := NewLocal(in)
		if _, err := l2.RootID(); !errors.Is(err, ErrNotFollowed) {
			t.Fatalf("RootID of a root that is a link: %v", err)
		}
		if !l2.RootIsLink() {
			t.Fatal("RootIsLink = false")
		}
		if en, err := l2.Stat(""); err != nil || en.Kind != Symlink {
			t.Fatalf("Stat(\"\") of a root that is a link = %+v, %v", en, err)
		}
	})
}

// TestFinalLinkNotFollowed: a file replaced by a link is opened as
// nothing (Open refuses it), stat as a link, and read as a link.
func TestFinalLinkNotFollowed(t *testing.T) {
	confineModes(t, func(t *testing.T) {
		_, in, outside := outsideTree(t)
		l := NewLocal(in)
		t.Cleanup(func() { l.Close() })
		if err := os.Remove(filepath.Join(in, "sub", "f")); err != nil {
			t.Fatal(err)
		}
		symlink(t, filepath.Join(outside, "f"), filepath.Join(in, "sub", "f"))
		if r, err := l.Open("sub/f"); err == nil {
			b, _ := io.ReadAll(r)
			r.Close()
			t.Fatalf("Open followed the link and read %q", b)
		}
		if en, err := l.Stat("sub/f"); err != nil || en.Kind != Symlink {
			t.Fatalf("Stat = %+v, %v", en, err)
		}
		if got, err := l.Readlink("sub/f"); err != nil || got != filepath.Join(outside, "f") {
			t.Fatalf("Readlink = %q, %v", got, err)
		}
		if err := l.Chtimes("sub/f", time.Unix(5, 0)); err != nil && runtime.GOOS != "windows" {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(filepath.Join(outside, "f")); fi.ModTime().Equal(time.Unix(5, 0)) {
			t.Fatal("Chtimes of a link changed its target")
		}
	})
}

// TestUncleanNamesRefused: names with "..", "." or empty elements never
// reach the file system.
func TestUncleanNamesRefused(t *testing.T) {
	_, in, _ := outsideTree(t)
	l := NewLocal(in)
	t.Cleanup(func() { l.Close() })
	for _, n := range []string{"..", "../outside/f", "sub/../../outside/f", "sub//f", "./sub", "sub/."} {
		if _, err := l.Stat(n); err == nil {
			t.Errorf("Stat(%q) succeeded", n)
		}
		if err := l.Remove(n); err == nil {
			t.Errorf("Remove(%q) succeeded", n)
		}
	}
}

// symlink makes a real symbolic link, or skips the test where the OS (or
// wine) makes none.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Skip("this system does not make real symbolic links")
	}
}

func testChecks() CopyChecks {
	return CopyChecks{
		Before: func(Entry) string { return "" },
		After:  func(int64, Entry) string { return "" },
		Stop:   func() error { return nil },
		Chunk:  1 << 20,
	}
}
