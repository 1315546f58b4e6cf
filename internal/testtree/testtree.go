package testtree

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Base is the modification time given to entries that do not set one.
var Base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// File is a regular file.
type File struct {
	Content string
	MTime   time.Time // zero: Base
	Mode    fs.FileMode
}

// Dir is a directory; its entries map names (or slash paths) to File, Dir or
// Link values.
type Dir map[string]any

// Link is a symbolic link.
type Link struct{ Target string }

// Create writes tree under root (which it creates).
func Create(t testing.TB, root string, tree Dir) {
	t.Helper()
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	var walk func(dir string, d Dir)
	walk = func(dir string, d Dir) {
		names := make([]string, 0, len(d))
		for n := range d {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			p := filepath.Join(dir, filepath.FromSlash(n))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			switch v := d[n].(type) {
			case File:
				mode := v.Mode
				if mode == 0 {
					mode = 0o644
				}
				if err := os.WriteFile(p, []byte(v.Content), mode); err != nil {
					t.Fatal(err)
				}
				os.Chmod(p, mode)
				mt := v.MTime
				if mt.IsZero() {
					mt = Base
				}
				if err := os.Chtimes(p, mt, mt); err != nil {
					t.Fatal(err)
				}
			case Dir:
				if err := os.MkdirAll(p, 0o755); err != nil {
					t.Fatal(err)
				}
				walk(p, v)
				dirs = append(dirs, p)
			case Link:
				if err := os.Symlink(v.Target, p); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatalf("testtree: bad entry %T at %s", v, n)
			}
		}
	}
	walk(root, tree)
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chtimes(dirs[i], Base, Base)
	}
}

// Entry is one entry of a snapshot.
type Entry struct {
	Kind    string // file, dir, symlink
	Content []byte
	Target  string
	MTime   time.Time
	Mode    fs.FileMode
}

// Snapshot reads a whole tree (without following links). Paths are
// slash-separated and relative to root.
func Snapshot(t testing.TB, root string) map[string]Entry {
	t.Helper()
	out, err := Read(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Read is Snapshot returning its error.
func Read(root string) (map[string]Entry, error) {
	out := map[string]Entry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := Entry{MTime: fi.ModTime(), Mode: fi.Mode().Perm()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			e.Kind = "symlink"
			e.Target, _ = os.Readlink(p)
			e.MTime = time.Time{}
		case fi.IsDir():
			e.Kind = "dir"
		default:
			e.Kind = "file"
			if e.Content, err = os.ReadFile(p); err != nil {
				return err
			}
		}
		out[rel] = e
		return nil
	})
	return out, err
}

// Options tune Diff.
type Options struct {
	// DirTimes compares directory modification times too.
	DirTimes bool
	// Ignore drops paths for which it returns true.
	Ignore func(path string) bool
}

// Diff lists the differences between two snapshots ("" when equal).
func Diff(want, got map[string]Entry, o Options) string {
	var lines []string
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		if o.Ignore != nil && o.Ignore(k) {
			continue
		}
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		w, wok := want[k]
		g, gok := got[k]
		switch {
		case !gok:
			lines = append(lines, fmt.Sprintf("missing %s %s", w.Kind, k))
		case !wok:
			lines = append(lines, fmt.Sprintf("unexpected %s %s", g.Kind, k))
		case w.Kind != g.Kind:
			lines = append(lines, fmt.Sprintf("%s: kind %s, want %s", k, g.Kind, w.Kind))
		case !bytes.Equal(w.Content, g.Content):
			lines = append(lines, fmt.Sprintf("%s: content %q, want %q", k, trunc(g.Content), trunc(w.Content)))
		case w.Target != g.Target:
			lines = append(lines, fmt.Sprintf("%s: link target %q, want %q", k, g.Target, w.Target))
		case w.Kind == "file" && !w.MTime.Equal(g.MTime):
			lines = append(lines, fmt.Sprintf("%s: mtime %s, want %s", k, g.MTime, w.MTime))
		case w.Kind == "file" && w.Mode != g.Mode:
			lines = append(lines, fmt.Sprintf("%s: mode %v, want %v", k, g.Mode, w.Mode))
		case w.Kind == "dir" && o.DirTimes && !w.MTime.Equal(g.MTime):
			lines = append(lines, fmt.Sprintf("%s/: mtime %s, want %s", k, g.MTime, w.MTime))
		}
	}
	return strings.Join(lines, "\n")
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// Equal fails the test unless the trees at want and got are identical.
func Equal(t testing.TB, want, got string, o Options) {
	t.Helper()
	if d := Diff(Snapshot(t, want), Snapshot(t, got), o); d != "" {
		t.Fatalf("trees differ (%s vs %s):\n%s", want, got, d)
	}
}
