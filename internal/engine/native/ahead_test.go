package native

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"

	"github.com/robo-backup/robo/internal/vfs"
)

// networked is a local FS that says its listings wait on a server.
type networked struct {
	vfs.FS
	n int
}

func (f networked) ListAhead() int { return f.n }

// A remote side (vfs.Networked) sizes the scan's read-ahead pool, not the
// number of CPUs; a local scan keeps the CPU-sized pool; and the pool stays
// bounded whatever a side asks for.
func TestAheadWorkersFollowTheNetworkedSide(t *testing.T) {
	local := vfs.NewLocal(t.TempDir())
	defer vfs.Close(local)
	if got := aheadWorkers(local, local); got != readAheadWorkers {
		t.Errorf("local to local: %d readers, want %d", got, readAheadWorkers)
	}
	if got, want := aheadWorkers(local, networked{local, 8}), max(8, min(runtime.GOMAXPROCS(0)+1, 16)); got != want {
		t.Errorf("local to a remote asking for 8: %d readers, want %d (the remote's number, not the local floor of %d)", got, want, readAheadWorkers)
	}
	if readAheadWorkers < 16 {
		t.Errorf("local to local: %d readers, want at least 16", readAheadWorkers)
	}
	if got := aheadWorkers(networked{local, 1000}, local); got != 64 {
		t.Errorf("a side asking for 1000: %d readers, want the bound 64", got)
	}
}

// The read-ahead stops holding listings once their entries reach
// aheadEntries, the scan still sees every entry, and every listing read
// ahead stops counting once walked or dropped.
func TestReadAheadBoundedByEntries(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	const dirs, files = 24, 50
	mt := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := range dirs {
		for _, side := range []string{src, dst} {
			dir := filepath.Join(side, fmt.Sprintf("d%02d", d))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for f := range files {
				p := filepath.Join(dir, fmt.Sprintf("f%02d", f))
				if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(p, mt, mt); err != nil {
					t.Fatal(err)
				}
			}
		}
		// one new file per directory on the source: one change each
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("d%02d", d), "new"), []byte("y"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int64{1, 150, 1 << 17} {
		old := aheadEntries
		aheadEntries = limit
		var held func() int64
		var peak int64
		scanDone = func(h func() int64, p int64) { held, peak = h, p }
		res, err := New().Scan(context.Background(), engine.Spec{Name: "t", Source: src, Destination: dst, Mirror: true})
		aheadEntries, scanDone = old, nil
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range res.Changes.Slice() {
			if c.Action != engine.Create || filepath.Base(c.Path) != "new" {
				t.Errorf("limit %d: unexpected change %v %s", limit, c.Action, c.Path)
			}
			n++
		}
		res.Changes.Close()
		if n != dirs || res.Source.Files != dirs*(files+1) || res.Dest.Files != dirs*files {
			t.Errorf("limit %d: %d changes, %d source and %d destination files; want %d, %d, %d",
				limit, n, res.Source.Files, res.Dest.Files, dirs, dirs*(files+1), dirs*files)
		}
		// A listing here has 101 entries: a read ahead starts only while
		// fewer than limit are held, and one skipped is read by the walk.
		if limit < 1<<17 && peak >= limit {
			t.Errorf("limit %d: a read ahead started with %d entries held", limit, peak)
		}
		deadline := time.Now().Add(5 * time.Second)
		for held() != 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if h := held(); h != 0 {
			t.Errorf("limit %d: %d entries still counted as held after the scan", limit, h)
		}
	}
}
