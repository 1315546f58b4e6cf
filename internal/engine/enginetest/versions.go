package enginetest

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// notVersions drops the versions folder from a tree comparison.
func notVersions(p string) bool {
	return p == engine.VersionsDir || strings.HasPrefix(p, engine.VersionsDir+"/")
}

// runFolder checks a result's versions folder and returns its local path.
func runFolder(t *testing.T, dst string, res *engine.Result) string {
	t.Helper()
	stamp, ok := strings.CutPrefix(res.VersionsFolder, engine.VersionsDir+"/")
	if _, valid := engine.ParseVersionStamp(stamp); !ok || !valid {
		t.Fatalf("versions folder %q", res.VersionsFolder)
	}
	return filepath.Join(dst, engine.VersionsDir, stamp)
}

// checkKept compares the files kept in a run's versions folder with want
// (content and time, byte for byte).
func (s *suite) checkKept(t *testing.T, folder string, want tt.Dir) {
	t.Helper()
	dir := t.TempDir()
	tt.Create(t, dir, want)
	got := s.snapshot(t, folder)
	exp := tt.Snapshot(t, dir)
	for k, e := range got {
		if e.Kind == "dir" {
			delete(got, k)
		}
	}
	for k, e := range exp {
		if e.Kind == "dir" {
			delete(exp, k)
		}
	}
	if d := s.diff(exp, got, tt.Options{}); d != "" {
		t.Fatalf("kept versions differ:\n%s", d)
	}
}

func (s *suite) versionsMirror(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, true)
	sp.Versions = &engine.Versions{KeepCount: 3}
	tt.Create(t, src, tt.Dir{"keep": tt.File{Content: "k"}, "upd": tt.File{Content: "new content", MTime: t2}, "sub/n": tt.File{Content: "n"}})
	old := tt.Dir{"upd": tt.File{Content: "old content"}, "gone.txt": tt.File{Content: "g"},
		"old/y": tt.File{Content: "y", Mode: 0o600}, "old/z/w": tt.File{Content: strings.Repeat("w", 70000)}}
	s.create(t, dst, tt.Dir{"keep": tt.File{Content: "k"}})
	s.create(t, dst, old)
	sc := scan(t, e, sp)
	expectChanges(t, sc.Changes, "+ New sub/", "+ New sub/n", "~ Newer upd", "- Extra gone.txt", "- Extra old/", "- Extra old/y", "- Extra old/z/", "- Extra old/z/w")
	res := apply(t, e, sp, sc.Changes)
	if !res.OK() || len(res.Skipped) > 0 {
		t.Fatalf("apply: %+v", res)
	}
	if res.FilesVersioned != 4 {
		t.Errorf("files versioned %d, want 4", res.FilesVersioned)
	}
	folder := runFolder(t, dst, res)
	s.checkKept(t, folder, old)
	s.equal(t, src, dst, tt.Options{Ignore: notVersions})
	again := scan(t, e, sp)
	if again.Changes.Len() != 0 || again.ExtraFiles != 0 || again.ExtraDirs != 0 {
		t.Fatalf("second scan: %s (extras %d files, %d dirs)", describe(again.Changes), again.ExtraFiles, again.ExtraDirs)
	}
	if !slices.Equal(again.Versions, []string{filepath.Base(folder)}) {
		t.Errorf("versions listed %v", again.Versions)
	}
	// Without versions the folder is left alone too.
	sp.Versions = nil
	if again := scan(t, e, sp); again.Changes.Len() != 0 || again.ExtraFiles != 0 {
		t.Fatalf("scan without versions: %s", describe(again.Changes))
	}
}

func (s *suite) versionsCopy(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, false)
	sp.Versions = &engine.Versions{KeepAge: 24 * 3600e9}
	tt.Create(t, src, tt.Dir{"upd": tt.File{Content: "new", MTime: t2}, "d/upd2": tt.File{Content: "changed size"}})
	s.create(t, dst, tt.Dir{"upd": tt.File{Content: "old"}, "d/upd2": tt.File{Content: "x"}, "extra": tt.File{Content: "e"}})
	sc := scan(t, e, sp)
	expectChanges(t, sc.Changes, "~ Newer upd", "~ Changed d/upd2")
	res := apply(t, e, sp, sc.Changes)
	if !res.OK() || res.FilesVersioned != 2 {
		t.Fatalf("apply: %+v", res)
	}
	s.checkKept(t, runFolder(t, dst, res), tt.Dir{"upd": tt.File{Content: "old"}, "d/upd2": tt.File{Content: "x"}})
	got := s.snapshot(t, dst)
	if string(got["upd"].Content) != "new" || string(got["d/upd2"].Content) != "changed size" || string(got["extra"].Content) != "e" {
		t.Fatalf("destination after copy: upd %q, d/upd2 %q, extra %q", got["upd"].Content, got["d/upd2"].Content, got["extra"].Content)
	}
}

func (s *suite) versionsPrune(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, true)
	sp.Versions = &engine.Versions{KeepCount: 1}
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "a"}})
	s.create(t, dst, tt.Dir{"a": tt.File{Content: "a"},
		engine.VersionsDir + "/20200101T000000Z/x/y": tt.File{Content: "old"},
		engine.VersionsDir + "/20990101T000000Z/b":   tt.File{Content: "newer"},
		engine.VersionsDir + "/notes":                tt.File{Content: "not a run folder"},
	})
	sc := scan(t, e, sp)
	if sc.Changes.Len() != 0 {
		t.Fatalf("changes: %s", describe(sc.Changes))
	}
	if !slices.Equal(sc.Versions, []string{"20200101T000000Z", "20990101T000000Z"}) {
		t.Fatalf("versions listed %v", sc.Versions)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, PruneVersions: []string{"20200101T000000Z", "notes", "../a"}}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || !slices.Equal(res.VersionsPruned, []string{"20200101T000000Z"}) {
		t.Fatalf("apply: %+v", res)
	}
	for p, want := range map[string]bool{"20200101T000000Z": false, "20990101T000000Z/b": true, "notes": true, "../a": true} {
		if got := s.exists(t, filepath.Join(dst, engine.VersionsDir, p)); got != want {
			t.Errorf("%s: present %v, want %v", p, got, want)
		}
	}
}

func (s *suite) versionsFailure(t *testing.T) {
	e := s.newEngine(t)
	requireExact(t, e)
	sp, src, dst := s.spec(t, true)
	sp.Versions = &engine.Versions{KeepCount: 3}
	tt.Create(t, src, tt.Dir{"upd": tt.File{Content: "new", MTime: t2}})
	// A file where the versions folder belongs: nothing can be kept.
	s.create(t, dst, tt.Dir{"upd": tt.File{Content: "old"}, "extra": tt.File{Content: "e"}, engine.VersionsDir: tt.File{Content: "in the way"}})
	sc := scan(t, e, sp)
	expectChanges(t, sc.Changes, "~ Newer upd", "- Extra extra")
	res := apply(t, e, sp, sc.Changes)
	if len(res.Errors) != 1 || res.Errors[0].Path != "upd" || res.DeletesSkipped != 1 || res.FilesVersioned != 0 {
		t.Fatalf("apply: %+v", res)
	}
	got := s.snapshot(t, dst)
	if string(got["upd"].Content) != "old" || string(got["extra"].Content) != "e" {
		t.Fatalf("destination touched although nothing could be versioned: upd %q extra %q", got["upd"].Content, got["extra"].Content)
	}
	for p := range got {
		if strings.Contains(p, ".robo-upd") {
			t.Errorf("temporary file left: %s", p)
		}
	}
}
