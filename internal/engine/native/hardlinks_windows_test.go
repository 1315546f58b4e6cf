package native_test

// Hard links on Windows (issue 16): the scan asks GetFileInformationByHandle
// for the file index and link count, Apply links with CreateHardLink.

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
)

func TestHardLinksOnWindows(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("linked data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(src, "a.txt"), filepath.Join(src, "sub", "b.txt")); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	e := native.New()
	e.Sleep = func(time.Duration) {}
	spec := engine.Spec{Name: "links", Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 2, HardLinks: true}
	sc, err := e.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	var link *engine.Change
	for i := range sc.Changes.Slice() {
		if sc.Changes.Slice()[i].LinkTo != "" {
			link = &sc.Changes.Slice()[i]
		}
	}
	if link == nil || link.Path != "sub/b.txt" || link.LinkTo != "a.txt" {
		t.Fatalf("changes %+v", sc.Changes.Slice())
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: sc.Changes}, engine.Discard)
	if err != nil || !res.OK() || len(res.Skipped) > 0 {
		t.Fatalf("apply: %v %+v", err, res)
	}
	a, err := os.Stat(filepath.Join(dst, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.Stat(filepath.Join(dst, "sub", "b.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(a, b) {
		t.Fatal("a.txt and sub/b.txt are two files at the destination")
	}
	if again, err := e.Scan(context.Background(), spec); err != nil || again.Changes.Len() != 0 {
		t.Fatalf("second scan: %v %+v", err, again.Changes.Slice())
	}
}
