package native_test

// Path traps of the data-safety issue, for the native engine. The
// configuration-level traps (destination inside the source and the reverse,
// ".." in configured paths) are schema fixtures in
// schema/testdata/invalid/path-*; change paths in saved plans are checked
// by engine.CheckPath (plan.Read).

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
)

// Symbolic links are never followed, so loops (a link to its own
// directory, to an ancestor, two links to each other) neither hang a scan
// nor multiply the tree: with symlinks = "skip" they are left out, with
// "copy" they are copied as links with their targets unchanged.
func TestSymlinkLoopsNeverFollowed(t *testing.T) {
	for _, copyLinks := range []bool{false, true} {
		dir := t.TempDir()
		src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
		tt.Create(t, src, tt.Dir{
			"a/f":           tt.File{Content: "f"},
			"a/self":        tt.Link{Target: "."},
			"a/up":          tt.Link{Target: "../.."},
			"a/b/root":      tt.Link{Target: src},
			"ping":          tt.Link{Target: "pong"},
			"pong":          tt.Link{Target: "ping"},
			"AppData/Local": tt.Dir{"Application Data": tt.Link{Target: ".."}}, // the Windows compatibility junction
		})
		spec := engine.Spec{Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, CopySymlinks: copyLinks, Threads: 2}
		res := scanApply(t, native.New(), spec)
		if len(res.Errors) > 0 {
			t.Fatalf("copy links %v: %+v", copyLinks, res.Errors)
		}
		snap := tt.Snapshot(t, dst)
		for p, en := range snap {
			if strings.Count(p, "/") > 2 {
				t.Errorf("copy links %v: %s: a link was followed", copyLinks, p)
			}
			if en.Kind == "symlink" && !copyLinks {
				t.Errorf("%s: link copied with symlinks = skip", p)
			}
		}
		if !copyLinks {
			continue
		}
		if d := tt.Diff(tt.Snapshot(t, src), snap, tt.Options{}); d != "" {
			t.Errorf("links not copied as links:\n%s", d)
		}
	}
}

// Paths far over Windows' old 260-character limit are copied and deleted
// like any other (Go's os package uses long-path forms on Windows).
func TestLongPaths(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	seg := strings.Repeat("d", 60)
	deep := strings.Join([]string{seg, seg, seg, seg, seg, seg}, "/") + "/" + strings.Repeat("f", 100) + ".txt"
	tt.Create(t, src, tt.Dir{deep: tt.File{Content: "deep"}})
	tt.Create(t, dst, tt.Dir{strings.Replace(deep, ".txt", ".old", 1): tt.File{Content: "extra"}})
	if n := len(filepath.Join(dst, deep)); n < 300 {
		t.Fatalf("path only %d characters", n)
	}
	res := scanApply(t, native.New(), engine.Spec{Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 1})
	if len(res.Errors) > 0 || res.DeletedFiles != 1 {
		t.Fatalf("%+v", res)
	}
	if d := tt.Diff(tt.Snapshot(t, src), tt.Snapshot(t, dst), tt.Options{}); d != "" {
		t.Error(d)
	}
}

// Names Windows cannot hold (reserved device names, a trailing dot or
// space, a colon that would write an alternate data stream) are refused
// when the destination is a UNC path or Windows, each with a reason; the
// set's deletions are dropped by the plan like after any scan error, and
// the rest is copied. Here the UNC destination is mapped to a local
// directory, as the SMB client does.
func TestWindowsNamesRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the source holds CON and a:b, which Windows itself refuses to create")
	}
	dir := t.TempDir()
	src, local := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	const unc = `\\nas01\backups\dst`
	tt.Create(t, src, tt.Dir{"ok.txt": tt.File{Content: "ok"}, "CON": tt.File{Content: "c"}, "nul.tar.gz": tt.File{Content: "n"},
		"dot.": tt.File{Content: "d"}, "space ": tt.File{Content: "s"}, "a:b": tt.File{Content: "ads"}, "com1/inner.txt": tt.File{Content: "i"}})
	e := native.New()
	e.Open = func(root string) (vfs.FS, error) {
		if root == unc {
			return vfs.NewLocal(local), nil
		}
		return native.OpenLocal(root)
	}
	sc, err := e.Scan(context.Background(), engine.Spec{Source: src, Destination: unc, Mirror: true, CopyEmptyDirs: true, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]string{}
	for _, fe := range sc.Errors {
		refused[fe.Path] = fe.Op + ": " + fe.Err
	}
	for _, p := range []string{"CON", "nul.tar.gz", "dot.", "space ", "a:b", "com1"} {
		if !strings.Contains(refused[p], "rename it in the source or leave it out") {
			t.Errorf("%q not refused: %q", p, refused[p])
		}
	}
	if sc.Changes.Len() != 1 || sc.Changes.Slice()[0].Path != "ok.txt" {
		t.Errorf("changes %+v", sc.Changes)
	}
	// On a Linux destination the same names are fine.
	sc, err = native.New().Scan(context.Background(), engine.Spec{Source: src, Destination: local, Mirror: true, CopyEmptyDirs: true, Threads: 1})
	if err != nil || len(sc.Errors) > 0 {
		t.Fatalf("%v %+v", err, sc.Errors)
	}
}

// macOS file systems treat the NFC and NFD spellings of a name as one
// file (HFS+ even stores NFD). With FoldNorm (on by default on macOS) the
// scan matches them, so a mirror does not copy "café" and then delete
// "cafe\u0301" as an extra, which there is the file it just wrote. On
// Linux and Windows the two are different names and stay apart.
func TestUnicodeNormalization(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	nfc, nfd := "caf\u00e9.txt", "cafe\u0301.txt"
	tt.Create(t, src, tt.Dir{nfc: tt.File{Content: "same"}, "Re\u0301sume\u0301/a": tt.File{Content: "a"}})
	tt.Create(t, dst, tt.Dir{nfd: tt.File{Content: "same"}, "R\u00e9sum\u00e9/a": tt.File{Content: "a"}})
	spec := engine.Spec{Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 1}
	e := native.New()
	e.FoldNorm = true
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Changes.Len() != 0 {
		t.Errorf("normalization folded: want no changes, got %+v", sc.Changes)
	}
	e.FoldNorm, e.FoldCase = false, false
	sc, err = e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	var deletes int
	for _, c := range sc.Changes.Slice() {
		if c.Action == engine.Delete {
			deletes++
		}
	}
	if deletes != 3 { // the NFD file, and the NFC directory with its file
		t.Errorf("without folding: %d deletions, want 3: %+v", deletes, sc.Changes)
	}
}
