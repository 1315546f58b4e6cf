//go:build linux || darwin

package native_test

// Hard links (issue 16): files that are one inode in the source stay one
// inode in the destination when the set has hard_links = true.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
)

func writeFile(t *testing.T, p, data string, mt time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func inode(t *testing.T, p string) (ino uint64, nlink uint64) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(st.Ino), uint64(st.Nlink)
}

// linkedTree writes src with a.txt, sub/b.txt and sub/deep/c.txt as three
// names of one file, a single file d.txt, and e.txt and f.txt as two names
// of another file.
func linkedTree(t *testing.T, src string) {
	t.Helper()
	mt := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	writeFile(t, filepath.Join(src, "a.txt"), strings.Repeat("A", 1000), mt)
	writeFile(t, filepath.Join(src, "d.txt"), "single", mt)
	writeFile(t, filepath.Join(src, "e.txt"), strings.Repeat("E", 300), mt)
	for _, l := range []struct{ from, to string }{{"a.txt", "sub/b.txt"}, {"a.txt", "sub/deep/c.txt"}, {"e.txt", "f.txt"}} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, l.to)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(filepath.Join(src, l.from), filepath.Join(src, l.to)); err != nil {
			t.Fatal(err)
		}
	}
}

func linkSpec(src, dst string, hardLinks bool) engine.Spec {
	return engine.Spec{Name: "links", Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 4, HardLinks: hardLinks}
}

func scanOf(t *testing.T, spec engine.Spec) *engine.ScanResult {
	t.Helper()
	res, err := testEngine().Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("scan errors %v", res.Errors)
	}
	return res
}

func testEngine() *native.Engine {
	e := native.New()
	e.Sleep = func(time.Duration) {}
	return e
}

func applyAll(t *testing.T, spec engine.Spec, changes []engine.Change) *engine.Result {
	t.Helper()
	res, err := testEngine().Apply(context.Background(), engine.Job{Spec: spec, Changes: engine.ChangeListOf(changes)}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || len(res.Skipped) > 0 {
		t.Fatalf("apply: errors %v, skipped %v", res.Errors, res.Skipped)
	}
	return res
}

func links(changes []engine.Change) map[string]string {
	out := map[string]string{}
	for _, c := range changes {
		if c.LinkTo != "" {
			out[c.Path] = c.LinkTo
		}
	}
	return out
}

func TestHardLinksStayLinked(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	linkedTree(t, src)
	spec := linkSpec(src, dst, true)
	sc := scanOf(t, spec)
	want := map[string]string{"sub/b.txt": "a.txt", "sub/deep/c.txt": "a.txt", "f.txt": "e.txt"}
	if got := links(sc.Changes.Slice()); len(got) != len(want) || got["sub/b.txt"] != "a.txt" || got["sub/deep/c.txt"] != "a.txt" || got["f.txt"] != "e.txt" {
		t.Fatalf("planned links %v, want %v", got, want)
	}
	// The bytes are counted once per inode.
	if sc.Source.Bytes != 1000+6+300 || sc.Source.Files != 6 {
		t.Fatalf("source counted %d files, %d bytes; want 6 files, 1306 bytes", sc.Source.Files, sc.Source.Bytes)
	}
	var planned int64
	for _, c := range sc.Changes.Slice() {
		planned += c.Size
		if c.LinkTo != "" && c.Size != 0 {
			t.Fatalf("link %s has size %d", c.Path, c.Size)
		}
	}
	if planned != 1306 {
		t.Fatalf("planned %d bytes to copy, want 1306", planned)
	}
	if err := engine.ValidateChanges(&spec, sc.Changes.Slice(), true); err != nil {
		t.Fatalf("the scan's own plan does not validate: %v", err)
	}
	res := applyAll(t, spec, sc.Changes.Slice())
	if res.BytesCopied != 1306 {
		t.Fatalf("copied %d bytes, want 1306", res.BytesCopied)
	}
	ia, na := inode(t, filepath.Join(dst, "a.txt"))
	for _, p := range []string{"sub/b.txt", "sub/deep/c.txt"} {
		if i, n := inode(t, filepath.Join(dst, p)); i != ia || n != 3 {
			t.Fatalf("%s: inode %d nlink %d, want inode %d (a.txt's) nlink 3", p, i, n, ia)
		}
	}
	if na != 3 {
		t.Fatalf("a.txt nlink %d, want 3", na)
	}
	ie, ne := inode(t, filepath.Join(dst, "e.txt"))
	if i, n := inode(t, filepath.Join(dst, "f.txt")); i != ie || n != 2 || ne != 2 {
		t.Fatalf("f.txt inode %d nlink %d, e.txt inode %d nlink %d", i, n, ie, ne)
	}
	if _, n := inode(t, filepath.Join(dst, "d.txt")); n != 1 {
		t.Fatalf("d.txt nlink %d", n)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "sub/deep/c.txt")); err != nil || string(b) != strings.Repeat("A", 1000) {
		t.Fatalf("c.txt reads %q, %v", b, err)
	}
	// Linked correctly: nothing to do.
	if again := scanOf(t, spec); again.Changes.Len() != 0 {
		t.Fatalf("second plan has changes %v", again.Changes.Slice())
	}

	// A mirror deleting one name keeps the others.
	if err := os.Remove(filepath.Join(src, "sub/b.txt")); err != nil {
		t.Fatal(err)
	}
	sc = scanOf(t, spec)
	if sc.Changes.Len() != 1 || sc.Changes.Slice()[0].Action != engine.Delete || sc.Changes.Slice()[0].Path != "sub/b.txt" {
		t.Fatalf("after removing one name: %v", sc.Changes.Slice())
	}
	applyAll(t, spec, sc.Changes.Slice())
	if i, n := inode(t, filepath.Join(dst, "sub/deep/c.txt")); i != ia || n != 2 {
		t.Fatalf("c.txt inode %d nlink %d after the delete, want %d and 2", i, n, ia)
	}
}

// A destination that holds a linked group as separate copies (made
// without hard_links) is re-linked; without hard_links nothing changes.
func TestHardLinksRelinkSeparateCopies(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	linkedTree(t, src)
	off := linkSpec(src, dst, false)
	sc := scanOf(t, off)
	if len(links(sc.Changes.Slice())) != 0 {
		t.Fatalf("links planned without hard_links: %v", links(sc.Changes.Slice()))
	}
	applyAll(t, off, sc.Changes.Slice())
	if _, n := inode(t, filepath.Join(dst, "sub/b.txt")); n != 1 {
		t.Fatalf("without hard_links b.txt has %d links", n)
	}
	if again := scanOf(t, off); again.Changes.Len() != 0 {
		t.Fatalf("without hard_links the copies are Same, got %v", again.Changes.Slice())
	}
	on := linkSpec(src, dst, true)
	sc = scanOf(t, on)
	got := links(sc.Changes.Slice())
	if sc.Changes.Len() != 3 || got["sub/b.txt"] != "a.txt" || got["sub/deep/c.txt"] != "a.txt" || got["f.txt"] != "e.txt" {
		t.Fatalf("re-link plan %v", sc.Changes.Slice())
	}
	for _, c := range sc.Changes.Slice() {
		if c.Action != engine.Update || c.Class != engine.Changed || c.Size != 0 {
			t.Fatalf("re-link change %+v", c)
		}
	}
	applyAll(t, on, sc.Changes.Slice())
	ia, _ := inode(t, filepath.Join(dst, "a.txt"))
	if i, n := inode(t, filepath.Join(dst, "sub/b.txt")); i != ia || n != 3 {
		t.Fatalf("b.txt inode %d nlink %d after re-link, want %d and 3", i, n, ia)
	}
	if again := scanOf(t, on); again.Changes.Len() != 0 {
		t.Fatalf("after re-link: %v", again.Changes.Slice())
	}
}

// A plan edited to link names that are not one file in the source, or to
// reach outside the destination, is refused: by validation when its
// link_to is not a clean relative path, by Apply's source check otherwise.
func TestHardLinksForgedPlan(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	linkedTree(t, src)
	outside := filepath.Join(root, "secret.txt")
	writeFile(t, outside, "secret", time.Now())
	spec := linkSpec(src, dst, true)
	sc := scanOf(t, spec)
	var link *engine.Change
	for i := range sc.Changes.Slice() {
		if sc.Changes.Slice()[i].Path == "f.txt" {
			link = &sc.Changes.Slice()[i]
		}
	}
	if link == nil {
		t.Fatal("no link for f.txt")
	}
	for _, bad := range []string{"../secret.txt", outside, "/etc/passwd", "sub/../../secret.txt", "./a.txt", "f.txt", ".robo-versions/x"} {
		c := *link
		c.LinkTo = bad
		changes := sc.Changes.Slice()
		for i := range changes {
			if changes[i].Path == "f.txt" {
				changes[i] = c
			}
		}
		if err := engine.ValidateChanges(&spec, changes, true); err == nil {
			t.Fatalf("link_to %q validates", bad)
		}
		// Apply refuses it on its own too (checkChange), before anything.
		res, err := testEngine().Apply(context.Background(), engine.Job{Spec: spec, Changes: engine.ChangeListOf([]engine.Change{c})}, engine.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Errors) != 1 {
			t.Fatalf("link_to %q applied: %+v", bad, res)
		}
	}
	// link_to without hard_links = true, and a link to a link, are refused.
	noHL := linkSpec(src, dst, false)
	if err := engine.ValidateChanges(&noHL, sc.Changes.Slice(), true); err == nil || !strings.Contains(err.Error(), "hard_links") {
		t.Fatalf("link_to without hard_links: %v", err)
	}
	chained := sc.Changes.Slice()
	for i := range chained {
		if chained[i].Path == "sub/deep/c.txt" {
			chained[i].LinkTo = "sub/b.txt"
		}
	}
	if err := engine.ValidateChanges(&spec, chained, true); err == nil || !strings.Contains(err.Error(), "itself a hard link") {
		t.Fatalf("link to a link: %v", err)
	}
	// A clean link_to naming a file that is not the same source inode:
	// d.txt is a separate file, so Apply skips the link and touches
	// nothing.
	forged := *link
	forged.LinkTo = "d.txt"
	var dchange engine.Change
	for _, c := range sc.Changes.Slice() {
		if c.Path == "d.txt" {
			dchange = c
		}
	}
	res, err := testEngine().Apply(context.Background(), engine.Job{Spec: spec, Changes: engine.ChangeListOf([]engine.Change{dchange, forged})}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "not one file") {
		t.Fatalf("forged link to d.txt: skipped %v, errors %v", res.Skipped, res.Errors)
	}
	if _, err := os.Lstat(filepath.Join(dst, "f.txt")); !os.IsNotExist(err) {
		t.Fatalf("f.txt exists after a refused link: %v", err)
	}
}

// The plan of a linked group whose first name's copy is skipped leaves the
// other names alone too (they link to nothing).
func TestHardLinksTargetMissing(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	linkedTree(t, src)
	spec := linkSpec(src, dst, true)
	sc := scanOf(t, spec)
	var only []engine.Change
	for _, c := range sc.Changes.Slice() {
		if c.Path != "e.txt" {
			only = append(only, c)
		}
	}
	res, err := testEngine().Apply(context.Background(), engine.Job{Spec: spec, Changes: engine.ChangeListOf(only)}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Path != "f.txt" || !strings.Contains(res.Skipped[0].Reason, "no e.txt to link to") {
		t.Fatalf("skipped %v, errors %v", res.Skipped, res.Errors)
	}
}

// When the linked file changes in the source, the first name is copied
// again and the others are re-linked to the new copy; a source name that
// replaces a destination directory is linked too.
func TestHardLinksFollowAChangedFile(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	linkedTree(t, src)
	spec := linkSpec(src, dst, true)
	applyAll(t, spec, scanOf(t, spec).Changes.Slice())
	later := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	writeFile(t, filepath.Join(src, "a.txt"), strings.Repeat("Z", 2000), later) // same inode, new data
	if err := os.MkdirAll(filepath.Join(dst, "g.txt", "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(src, "e.txt"), filepath.Join(src, "g.txt")); err != nil {
		t.Fatal(err)
	}
	sc := scanOf(t, spec)
	got := map[string]engine.Change{}
	for _, c := range sc.Changes.Slice() {
		got[c.Path] = c
	}
	if c := got["a.txt"]; c.Action != engine.Update || c.LinkTo != "" || c.Size != 2000 {
		t.Fatalf("a.txt: %+v", c)
	}
	for _, p := range []string{"sub/b.txt", "sub/deep/c.txt"} {
		if c := got[p]; c.Action != engine.Update || c.LinkTo != "a.txt" || c.Class != engine.Newer {
			t.Fatalf("%s: %+v", p, c)
		}
	}
	if c := got["g.txt"]; c.Action != engine.Replace || c.LinkTo != "e.txt" || c.Size != 0 {
		t.Fatalf("g.txt: %+v", c)
	}
	if err := engine.ValidateChanges(&spec, sc.Changes.Slice(), true); err != nil {
		t.Fatal(err)
	}
	applyAll(t, spec, sc.Changes.Slice())
	ia, na := inode(t, filepath.Join(dst, "a.txt"))
	if i, _ := inode(t, filepath.Join(dst, "sub/deep/c.txt")); i != ia || na != 3 {
		t.Fatalf("after the change: c.txt inode %d, a.txt inode %d nlink %d", i, ia, na)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "sub/b.txt")); string(b) != strings.Repeat("Z", 2000) {
		t.Fatalf("b.txt reads %q", b)
	}
	ie, ne := inode(t, filepath.Join(dst, "e.txt"))
	if i, _ := inode(t, filepath.Join(dst, "g.txt")); i != ie || ne != 3 {
		t.Fatalf("g.txt inode %d, e.txt inode %d nlink %d", i, ie, ne)
	}
	if again := scanOf(t, spec); again.Changes.Len() != 0 {
		t.Fatalf("after: %v", again.Changes.Slice())
	}
}
