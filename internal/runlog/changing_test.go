package runlog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/robocopy"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/vfs/vfstest"
)

// Issue 16: a real native run in which a file changes during every copy
// logs it as an ERROR of its copy and names it again in the summary; the
// log still parses as robocopy's, with the file failed.
func TestChangingFileLogged(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(src, "live.db"), []byte("v1"), 0o644)
	os.WriteFile(filepath.Join(src, "calm.txt"), []byte("c"), 0o644)
	eng := native.New()
	eng.Sleep = func(time.Duration) {}
	eng.Open = func(root string) (vfs.FS, error) {
		l, err := native.OpenLocal(root)
		if err != nil || root != src {
			return l, err
		}
		return vfstest.NewRewriter(l, src, "live.db"), nil
	}
	spec := engine.Spec{Name: "t", Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 2}
	scan, err := eng.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	job := engine.Job{Spec: spec, Changes: scan.Changes, Source: scan.Source}
	l, path, err := Create(t.TempDir(), "t", job, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Apply(context.Background(), job, l)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(res, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changing) != 1 {
		t.Fatalf("changing %+v", res.Changing)
	}
	parsed := robocopy.ParseBytes(b)
	if len(parsed.Jobs) != 1 {
		t.Fatalf("parsed %d jobs", len(parsed.Jobs))
	}
	j := parsed.Jobs[0]
	// (A POSIX path is not split from the action: the parser knows
	// Windows paths.)
	if e := j.Errors; len(e) != 1 || strings.TrimSpace(e[0].Action+" "+e[0].Path) != "Copying File "+full(src, "live.db") ||
		e[0].Message != engine.ErrChanging.Error() {
		t.Fatalf("errors %+v\n%s", j.Errors, b)
	}
	checkSummary(t, j.Summary, res)
	if j.Summary.Files.Failed != 1 || j.Summary.Files.Copied != 1 {
		t.Errorf("files row %+v", j.Summary.Files)
	}
	if !strings.Contains(string(b), "\r\nrobo: not backed up, kept changing while it was copied: "+full(src, "live.db")+"\r\n") {
		t.Errorf("no summary line naming the file:\n%s", b)
	}
}
