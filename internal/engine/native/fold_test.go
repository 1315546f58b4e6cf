package native_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// On Windows and macOS names that differ only in case are one file. A mirror
// must not copy "Report.TXT" and then delete "report.txt" as an extra: on
// those file systems that deletes the file it has just written.
func TestFoldCaseMatchesNames(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"Report.TXT": tt.File{Content: "new", MTime: tt.Base.Add(60e9)}, "Sub/a": tt.File{Content: "a"}})
	tt.Create(t, dst, tt.Dir{"report.txt": tt.File{Content: "old"}, "sub/a": tt.File{Content: "a"}, "zz": tt.File{Content: "z"}})
	e := native.New()
	e.FoldCase = true
	sc, err := e.Scan(context.Background(), engine.Spec{Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range sc.Changes.Slice() {
		got = append(got, c.Action.Symbol()+" "+c.Class.String()+" "+c.Path)
	}
	want := []string{"~ Newer Report.TXT", "- Extra zz"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("changes %q, want %q", got, want)
	}
	// Case-sensitive matching (Linux) sees two different names. (With
	// FoldCase on a case-sensitive file system, as here, "Sub" cannot be
	// read on the destination side; FoldCase is only set where the file
	// system folds case.)
	e.FoldCase = false
	sc, err = e.Scan(context.Background(), engine.Spec{Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Changes.Len() < 4 {
		t.Fatalf("case-sensitive scan: %d changes", sc.Changes.Len())
	}
}
