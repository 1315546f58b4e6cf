package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/vfs/vfstest"
)

var base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func write(t *testing.T, root, rel, data string, at time.Time) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

// pair returns a source and a destination holding the same tree.
func pair(t *testing.T) (src, dst string) {
	t.Helper()
	dir := t.TempDir()
	src, dst = filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	for _, root := range []string{src, dst} {
		write(t, root, "a.txt", "alpha", base)
		write(t, root, "docs/b.txt", "bravo", base)
		write(t, root, "docs/deep/c.txt", "charlie", base)
	}
	return src, dst
}

func spec(src, dst string, mirror bool) engine.Spec {
	return engine.Spec{Name: "t", Source: src, Destination: dst, Mirror: mirror, CopyEmptyDirs: true,
		TimeTolerance: 2 * time.Second, Threads: 3}
}

func kinds(r *Result) map[string]Kind {
	m := map[string]Kind{}
	for _, d := range r.Differences {
		m[d.Path] = d.Kind
	}
	return m
}

func TestMatch(t *testing.T) {
	src, dst := pair(t)
	for _, sum := range []bool{false, true} {
		r := Set(context.Background(), native.New(), spec(src, dst, true), Options{Checksum: sum})
		if !r.OK || len(r.Differences) != 0 || r.Error != "" {
			t.Fatalf("checksum=%v: %+v", sum, r)
		}
		if r.Counts.SourceFiles != 3 || (sum && r.Counts.Hashed != 3) || (!sum && r.Counts.Hashed != 0) {
			t.Fatalf("checksum=%v: counts %+v", sum, r.Counts)
		}
	}
}

func TestDifferences(t *testing.T) {
	src, dst := pair(t)
	write(t, src, "new.txt", "n", base)                               // missing
	write(t, src, "docs/b.txt", "bravo", base.Add(time.Hour))         // newer
	write(t, dst, "a.txt", "alpha", base.Add(time.Hour))              // older
	write(t, src, "docs/deep/c.txt", "charlie!", base)                // changed
	write(t, dst, "junk/one.txt", "1", base)                          // extra dir, listed once
	write(t, dst, "junk/two/three.txt", "3", base)                    // (under it)
	write(t, dst, "stray.txt", "s", base)                             // extra file
	write(t, src, "newdir/x/y.txt", "y", base)                        // missing dir, listed once
	write(t, dst, ".robo-versions/20261126T142233Z/a.txt", "v", base) // not part of the mirror
	r := Set(context.Background(), native.New(), spec(src, dst, true), Options{})
	want := map[string]Kind{"new.txt": Missing, "docs/b.txt": Differs, "a.txt": Differs, "docs/deep/c.txt": Differs,
		"junk": Extra, "stray.txt": Extra, "newdir": Missing}
	got := kinds(r)
	if len(got) != len(want) {
		t.Fatalf("differences %+v, want %v", r.Differences, want)
	}
	for p, k := range want {
		if got[p] != k {
			t.Errorf("%s: %q, want %q (%+v)", p, got[p], k, r.Differences)
		}
	}
	for _, d := range r.Differences {
		detail := map[string]string{"docs/b.txt": "newer", "a.txt": "older", "docs/deep/c.txt": "changed"}[d.Path]
		if !strings.HasPrefix(d.Detail, detail) || !d.Fails {
			t.Errorf("%s: detail %q fails=%v, want %q", d.Path, d.Detail, d.Fails, detail)
		}
	}
	if r.OK || r.Counts.Missing != 2 || r.Counts.Extra != 2 || r.Counts.Differs != 3 {
		t.Fatalf("ok=%v counts %+v", r.OK, r.Counts)
	}
}

func TestCopyModeExtrasDoNotFail(t *testing.T) {
	src, dst := pair(t)
	write(t, dst, "kept.txt", "k", base)
	r := Set(context.Background(), native.New(), spec(src, dst, false), Options{Checksum: true})
	if !r.OK || len(r.Differences) != 1 || r.Differences[0].Kind != Extra || r.Differences[0].Fails {
		t.Fatalf("%+v", r)
	}
	// The same extra fails a mirror.
	if r := Set(context.Background(), native.New(), spec(src, dst, true), Options{}); r.OK {
		t.Fatalf("mirror with an extra verified: %+v", r)
	}
}

func TestFiltersApply(t *testing.T) {
	src, dst := pair(t)
	write(t, src, "skip.tmp", "x", base)
	write(t, src, "cache/big.bin", "x", base)
	s := spec(src, dst, true)
	s.ExcludeFiles, s.ExcludeDirs = []string{"*.tmp"}, []string{"cache"}
	if r := Set(context.Background(), native.New(), s, Options{Checksum: true}); !r.OK || len(r.Differences) != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestChecksumCatchesSameSizeSameTime(t *testing.T) {
	src, dst := pair(t)
	write(t, dst, "docs/b.txt", "BRAVO", base) // same size, same mtime
	if r := Set(context.Background(), native.New(), spec(src, dst, true), Options{}); !r.OK {
		t.Fatalf("size and time verification failed: %+v", r)
	}
	r := Set(context.Background(), native.New(), spec(src, dst, true), Options{Checksum: true})
	if r.OK || len(r.Differences) != 1 || r.Differences[0].Path != "docs/b.txt" || r.Differences[0].Kind != ContentDiffers {
		t.Fatalf("%+v", r)
	}
	if r.Counts.Hashed != 3 || r.Counts.ContentDiffers != 1 {
		t.Fatalf("counts %+v", r.Counts)
	}
}

// faulty returns an engine whose destination (or source) fails as told.
func faulty(root string, set func(f *vfstest.Faulty)) *native.Engine {
	e := native.New()
	e.Open = func(r string) (vfs.FS, error) {
		fsys, err := native.OpenLocal(r)
		if err != nil || r != root {
			return fsys, err
		}
		f := vfstest.NewFaulty(fsys)
		set(f)
		return f, nil
	}
	return e
}

func TestUnreadableFileIsAnError(t *testing.T) {
	src, dst := pair(t)
	e := faulty(dst, func(f *vfstest.Faulty) { f.FailOpen["docs/deep/c.txt"] = syscall.EACCES })
	r := Set(context.Background(), e, spec(src, dst, true), Options{Checksum: true})
	if r.OK || len(r.Differences) != 1 || r.Differences[0].Kind != Error || r.Differences[0].Path != "docs/deep/c.txt" ||
		!strings.Contains(r.Differences[0].Detail, "read destination") {
		t.Fatalf("%+v", r)
	}
	if r.Counts.Hashed != 2 || r.Counts.Errors != 1 {
		t.Fatalf("counts %+v", r.Counts)
	}
}

func TestUnreadableDirIsAnError(t *testing.T) {
	src, dst := pair(t)
	e := faulty(src, func(f *vfstest.Faulty) { f.FailReadDir["docs"] = syscall.EACCES })
	r := Set(context.Background(), e, spec(src, dst, true), Options{})
	if r.OK || r.Counts.Errors != 1 || kinds(r)["docs"] != Error {
		t.Fatalf("%+v", r)
	}
}

func TestMissingRoots(t *testing.T) {
	src, dst := pair(t)
	r := Set(context.Background(), native.New(), spec(src, dst+"-none", true), Options{Checksum: true})
	if r.OK || r.Counts.Missing != 2 || r.Counts.Hashed != 0 {
		t.Fatalf("absent destination: %+v", r)
	}
	r = Set(context.Background(), native.New(), spec(src+"-none", dst, true), Options{})
	if r.OK || r.Error == "" {
		t.Fatalf("absent source: %+v", r)
	}
}

func TestVersions(t *testing.T) {
	_, dst := pair(t)
	if v, err := Versions(native.OpenLocal, dst); err != nil || len(v) != 0 {
		t.Fatalf("%v %v", v, err)
	}
	for _, name := range []string{"20261126T142233Z", "20261125T090000Z", "20261126T150000Z"} {
		write(t, dst, VersionsDir+"/"+name+"/a.txt", "v", base)
	}
	v, err := Versions(native.OpenLocal, dst)
	if err != nil || strings.Join(v, ",") != "20261125T090000Z,20261126T142233Z,20261126T150000Z" {
		t.Fatalf("%v %v", v, err)
	}
	for prefix, want := range map[string]string{"2026-11-26T14:22:33Z": "20261126T142233Z", "2026-11-26": "20261126T142233Z,20261126T150000Z",
		"2027": "", "": ""} {
		if got := strings.Join(MatchVersion(v, prefix), ","); got != want {
			t.Errorf("%q: %q, want %q", prefix, got, want)
		}
	}
}

// TestSwappedDirNotReadThrough (issue 13): a destination directory
// replaced by a link to an identical copy elsewhere, while verify hashes
// the files, is never read through: its files are errors, not matches.
func TestSwappedDirNotReadThrough(t *testing.T) {
	tt.NeedSymlinks(t) // the link is made mid-run, where a skip is too late
	src, dst := pair(t)
	elsewhere := filepath.Join(t.TempDir(), "copy")
	write(t, elsewhere, "b.txt", "bravo", base)
	write(t, elsewhere, "deep/c.txt", "charlie", base)
	e := faulty(src, func(f *vfstest.Faulty) {
		f.AfterRead["a.txt"] = func() {
			os.Rename(filepath.Join(dst, "docs"), filepath.Join(dst, "docs.old"))
			if err := os.Symlink(elsewhere, filepath.Join(dst, "docs")); err != nil {
				t.Error(err)
			}
		}
	})
	sp := spec(src, dst, true)
	sp.Threads = 1
	r := Set(context.Background(), e, sp, Options{Checksum: true})
	k := kinds(r)
	if r.OK || r.Counts.Hashed != 1 || k["docs/b.txt"] != Error || k["docs/deep/c.txt"] != Error {
		t.Fatalf("%+v", r)
	}
	for _, d := range r.Differences {
		if d.Kind == Error && !strings.Contains(d.Detail, "never follows links") {
			t.Errorf("%s: %s", d.Path, d.Detail)
		}
	}
	// Verified again, the link is seen for what it is.
	r = Set(context.Background(), native.New(), sp, Options{Checksum: true})
	if r.OK || r.Counts.Hashed != 1 {
		t.Fatalf("%+v", r)
	}
}

// Issue 16: verify compares exactly the metadata the set copies. With the
// default copy ("DAT") a mode differs and an owner does not; with "DATO"
// the owner does too; a directory whose mode differs is listed without
// hiding what is under it; after an apply it matches again.
func TestVerifyMetadata(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits (Windows attributes and security are verified by internal/engine/native's Windows tests)")
	}
	src, dst := pair(t)
	os.Chmod(filepath.Join(dst, "a.txt"), 0o600)
	os.Chmod(filepath.Join(dst, "docs"), 0o700)
	write(t, dst, "docs/deep/c.txt", "changed", base.Add(time.Hour))
	e := native.New()
	sp := spec(src, dst, true)
	r := Set(context.Background(), e, sp, Options{})
	got := map[string]string{}
	for _, d := range r.Differences {
		got[d.Path] = string(d.Kind) + ": " + d.Detail
	}
	if r.OK || r.Counts.MetaDiffers != 2 || got["a.txt"] != "metadata_differs: metadata differs (destination → source): mode 0600 → 0644" ||
		got["docs"] != "metadata_differs: metadata differs (destination → source): mode 0700 → 0755" || !strings.HasPrefix(got["docs/deep/c.txt"], "differs: older") {
		t.Fatalf("%+v\n%v", r.Counts, got)
	}
	if os.Geteuid() == 0 {
		os.Chmod(filepath.Join(dst, "a.txt"), 0o644)
		os.Chmod(filepath.Join(dst, "docs"), 0o755)
		write(t, dst, "docs/deep/c.txt", "charlie", base)
		os.Chown(filepath.Join(dst, "docs/b.txt"), 1000, 1000)
		if r := Set(context.Background(), e, sp, Options{}); !r.OK {
			t.Fatalf("DAT compares no owner: %+v", r.Differences)
		}
		sp.Copy = "DATO"
		r := Set(context.Background(), e, sp, Options{})
		if r.OK || len(r.Differences) != 1 || r.Differences[0].Detail != "metadata differs (destination → source): owner 1000:1000 → 0:0" {
			t.Fatalf("DATO: %+v", r.Differences)
		}
		res, err := e.Scan(context.Background(), sp)
		if err != nil {
			t.Fatal(err)
		}
		if ar, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: res.Changes}, nil); err != nil || !ar.OK() {
			t.Fatalf("apply: %v %+v", err, ar)
		}
		if r := Set(context.Background(), e, sp, Options{}); !r.OK {
			t.Fatalf("after apply: %+v", r.Differences)
		}
	}
}

// -checksum hands the files to its workers as it reads the scan's list,
// spilled or not (issue #22: it gathered every path first): with a list
// spilling every few changes it hashes every file and finds the one that
// differs.
func TestChecksumStreamsASpilledList(t *testing.T) {
	old := engine.SpillBlockBytes
	engine.SpillBlockBytes = 64
	t.Cleanup(func() { engine.SpillBlockBytes = old })
	src, dst := pair(t)
	for i := range 40 {
		p := fmt.Sprintf("many/f%02d.txt", i)
		write(t, src, p, p, base)
		write(t, dst, p, p, base)
	}
	write(t, dst, "many/f17.txt", "MANY/F17.TXT", base)
	r := Set(context.Background(), native.New(), spec(src, dst, true), Options{Checksum: true})
	if r.OK || len(r.Differences) != 1 || r.Differences[0].Path != "many/f17.txt" || r.Differences[0].Kind != ContentDiffers || r.Counts.Hashed != 43 {
		t.Fatalf("%+v", r)
	}
}
