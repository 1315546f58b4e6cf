package robocopy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	tt "github.com/robo-backup/robo/internal/testtree"
)

func metaOf(t *testing.T, p string) *engine.Meta {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return &engine.Meta{Kind: engine.KindFile, Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
}

func TestMoveVictims(t *testing.T) {
	dst := t.TempDir()
	tt.Create(t, dst, tt.Dir{"upd": tt.File{Content: "old content"}, "same": tt.File{Content: "s"}, "gone.txt": tt.File{Content: "g"},
		"old/y": tt.File{Content: "y"}, "old/z/w": tt.File{Content: "w"}, "changed": tt.File{Content: "c"}, "mm": tt.Dir{}})
	changed := metaOf(t, filepath.Join(dst, "changed"))
	changed.Size++ // the plan saw another file
	stamp := engine.VersionStamp(time.Date(2026, 11, 26, 14, 22, 33, 0, time.UTC))
	changes := []engine.Change{
		// As robocopy's listing plans them: an update has no Dst.
		{Action: engine.Update, Class: engine.Newer, Kind: engine.KindFile, Path: "upd", Phase: engine.PhaseCopy, Size: 3},
		{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: "new", Phase: engine.PhaseCopy, Size: 1},
		{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: "gone.txt", Phase: engine.PhaseDelete, Size: 1},
		{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: "old/z/w", Phase: engine.PhaseDelete, Size: 1, Dst: metaOf(t, filepath.Join(dst, "old/z/w"))},
		{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindDir, Path: "old/z", Phase: engine.PhaseDelete},
		{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: "old/y", Phase: engine.PhaseDelete, Size: 1, Dst: metaOf(t, filepath.Join(dst, "old/y"))},
		{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindDir, Path: "old", Phase: engine.PhaseDelete},
		{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: "changed", Phase: engine.PhaseDelete, Size: 2, Dst: changed},
		{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: "already-gone", Phase: engine.PhaseDelete, Size: 2},
		{Action: engine.Replace, Class: engine.Mismatch, Kind: engine.KindFile, Path: "mm", Phase: engine.PhaseReplace},
	}
	v := moveVictims(dst, stamp, changes)
	if v.Files != 4 || v.Bytes != int64(len("old content")+3) || len(v.Errors) != 0 || v.DeletesSkipped != 0 {
		t.Fatalf("moved %+v", v)
	}
	if !slices.Equal(v.Kept, []string{"changed"}) || len(v.Skips) != 1 || v.Skips[0].Path != "changed" {
		t.Fatalf("kept %v skips %+v", v.Kept, v.Skips)
	}
	got := tt.Snapshot(t, filepath.Join(dst, engine.VersionsDir, stamp))
	for p, want := range map[string]string{"upd": "old content", "gone.txt": "g", "old/y": "y", "old/z/w": "w"} {
		if e, ok := got[p]; !ok || string(e.Content) != want || !e.MTime.Equal(tt.Base) {
			t.Errorf("%s kept as %+v, want %q", p, e, want)
		}
	}
	left := tt.Snapshot(t, dst)
	for _, p := range []string{"upd", "gone.txt", "old/y", "old/z/w"} {
		if _, ok := left[p]; ok {
			t.Errorf("%s still in place", p)
		}
	}
	for _, p := range []string{"same", "changed", "mm", "old/z"} {
		if _, ok := left[p]; !ok {
			t.Errorf("%s was moved", p)
		}
	}
}

func TestMoveVictimsFailureSkipsDeletes(t *testing.T) {
	dst := t.TempDir()
	// A file where the versions folder belongs: nothing can be kept.
	tt.Create(t, dst, tt.Dir{"upd": tt.File{Content: "old"}, "extra": tt.File{Content: "e"}, engine.VersionsDir: tt.File{Content: "in the way"}})
	v := moveVictims(dst, "20261126T142233Z", []engine.Change{
		{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: "extra", Phase: engine.PhaseDelete, Size: 1},
		{Action: engine.Update, Class: engine.Newer, Kind: engine.KindFile, Path: "upd", Phase: engine.PhaseCopy, Size: 3},
	})
	if len(v.Errors) != 1 || v.Errors[0].Path != "upd" || v.DeletesSkipped != 1 || v.Files != 0 {
		t.Fatalf("%+v", v)
	}
	if !slices.Equal(v.Kept, []string{"upd", "extra"}) {
		t.Fatalf("kept %v", v.Kept)
	}
	if got := tt.Snapshot(t, dst); string(got["upd"].Content) != "old" || string(got["extra"].Content) != "e" {
		t.Fatal("destination touched")
	}
	if got := strings.Join(fullPaths(v.Kept, `C:\src`, `\\nas\b`), "|"); got != `C:\src\upd|\\nas\b\upd|C:\src\extra|\\nas\b\extra` {
		t.Errorf("excluded %s", got)
	}
}

func TestPruneVersions(t *testing.T) {
	dst := t.TempDir()
	tt.Create(t, dst, tt.Dir{
		engine.VersionsDir + "/20200101T000000Z/x/y": tt.File{Content: "old"},
		engine.VersionsDir + "/20261126T142233Z/b":   tt.File{Content: "this run"},
		engine.VersionsDir + "/notes":                tt.File{Content: "not a run folder"},
		"a":                                          tt.File{Content: "a"},
	})
	pruned, errs := pruneVersions(dst, "20261126T142233Z", []string{"20200101T000000Z", "20261126T142233Z", "notes", "../a", "20210101T000000Z"})
	if len(errs) != 0 || !slices.Equal(pruned, []string{"20200101T000000Z", "20210101T000000Z"}) {
		t.Fatalf("pruned %v errors %v", pruned, errs)
	}
	left := tt.Snapshot(t, dst)
	for p, want := range map[string]bool{engine.VersionsDir + "/20200101T000000Z": false, engine.VersionsDir + "/20261126T142233Z/b": true, engine.VersionsDir + "/notes": true, "a": true} {
		if _, ok := left[p]; ok != want {
			t.Errorf("%s present %v, want %v", p, ok, want)
		}
	}
}
