package plan_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// versionsTrees makes a source with one changed and one new file, and a
// destination with an extra file and three earlier run folders.
func versionsTrees(t *testing.T, dir string) {
	tt.Create(t, filepath.Join(dir, "src"), tt.Dir{"a": tt.File{Content: "new a", MTime: tt.Base.Add(time.Hour)}, "n": tt.File{Content: "n"}})
	tt.Create(t, filepath.Join(dir, "dst"), tt.Dir{"a": tt.File{Content: "old"}, "x": tt.File{Content: "extra"},
		engine.VersionsDir + "/20261101T000000Z/f": tt.File{Content: "1"},
		engine.VersionsDir + "/20261120T000000Z/f": tt.File{Content: "2"},
		engine.VersionsDir + "/20261125T120000Z/f": tt.File{Content: "3"},
		engine.VersionsDir + "/keep-me/f":          tt.File{Content: "not a run"},
	})
}

func versionsPlan(t *testing.T, keep string, now time.Time) *plan.Set {
	t.Helper()
	dir := t.TempDir()
	versionsTrees(t, dir)
	cfg := load(t, filepath.Join(dir, "conf"), `
backup "v" {
  source      = "../src"
  destination = "../dst"
  max_delete  = "unlimited"
  versions {
    keep = `+keep+`
  }
}
`)
	p := build(t, cfg, nil, func(in *plan.Input) { in.Now = now })
	s := p.Set("v")
	if s.Failed() {
		t.Fatalf("set failed: %s%s", s.Refused, s.Error)
	}
	return s
}

var versionsNow = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)

func TestVersionsSummary(t *testing.T) {
	s := versionsPlan(t, `"30d"`, versionsNow)
	sum := s.Summary
	if sum.FilesToVersion != 2 || sum.BytesToVersion != int64(len("old")+len("extra")) {
		t.Errorf("files to version %d, bytes %d", sum.FilesToVersion, sum.BytesToVersion)
	}
	if sum.VersionsToPrune != 0 || len(s.PruneVersions) != 0 {
		t.Errorf("prune %d %v", sum.VersionsToPrune, s.PruneVersions)
	}
	if sum.ExtraFiles != 1 || sum.FilesToDelete != 1 {
		t.Errorf("the versions folder counted as extra: %+v", sum)
	}
	if s.Spec.Versions == nil || s.Spec.Versions.KeepAge != 30*24*time.Hour {
		t.Errorf("spec versions %+v", s.Spec.Versions)
	}
}

func TestVersionsPruneByAge(t *testing.T) {
	s := versionsPlan(t, `"7d"`, versionsNow)
	if want := []string{"20261101T000000Z"}; !slices.Equal(s.PruneVersions, want) || s.Summary.VersionsToPrune != 1 {
		t.Fatalf("prune %v (%d), want %v", s.PruneVersions, s.Summary.VersionsToPrune, want)
	}
	s = versionsPlan(t, `"12h"`, versionsNow)
	if want := []string{"20261101T000000Z", "20261120T000000Z", "20261125T120000Z"}; !slices.Equal(s.PruneVersions, want) {
		t.Fatalf("prune %v, want %v", s.PruneVersions, want)
	}
}

func TestVersionsPruneByCount(t *testing.T) {
	// This run versions files, so its own folder is one of the 2 kept.
	s := versionsPlan(t, `2`, versionsNow)
	if want := []string{"20261101T000000Z", "20261120T000000Z"}; !slices.Equal(s.PruneVersions, want) || s.Summary.VersionsToPrune != 2 {
		t.Fatalf("prune %v (%d), want %v", s.PruneVersions, s.Summary.VersionsToPrune, want)
	}
	s = versionsPlan(t, `10`, versionsNow)
	if len(s.PruneVersions) != 0 {
		t.Fatalf("prune %v, want none", s.PruneVersions)
	}
}

func TestVersionsPruneOnly(t *testing.T) {
	dir := t.TempDir()
	tt.Create(t, filepath.Join(dir, "src"), tt.Dir{"a": tt.File{Content: "a"}})
	tt.Create(t, filepath.Join(dir, "dst"), tt.Dir{"a": tt.File{Content: "a"},
		engine.VersionsDir + "/20261101T000000Z/f": tt.File{Content: "1"},
		engine.VersionsDir + "/20261120T000000Z/f": tt.File{Content: "2"}})
	cfg := load(t, filepath.Join(dir, "conf"), `
backup "v" {
  source      = "../src"
  destination = "../dst"
  versions {
    keep = 1
  }
}
`)
	st := state.New()
	st.Sets["v"] = &state.Set{ConfigDigest: plan.SetDigest(cfg, cfg.Backup("v")), Source: cfg.Backup("v").Source}
	p := build(t, cfg, st, func(in *plan.Input) { in.Now = versionsNow })
	s := p.Set("v")
	if s.Action != plan.Sync || s.Reason != "1 old versions folder to prune" || !slices.Equal(s.PruneVersions, []string{"20261101T000000Z"}) {
		t.Fatalf("%s (%s) prune %v", s.Action, s.Reason, s.PruneVersions)
	}
	if !p.HasChanges() {
		t.Fatal("a plan that prunes has no changes")
	}
}

func TestVersionsVersusVersionlessDigest(t *testing.T) {
	dir := t.TempDir()
	cfg := load(t, filepath.Join(dir, "conf"), `
backup "a" {
  source      = "../srv/a"
  destination = "../mnt/a"
}
backup "b" {
  source      = "../srv/b"
  destination = "../mnt/b"
  versions {
    keep = 3
  }
}
`)
	spec := plan.SpecOf(cfg.Backup("a"))
	if spec.Versions != nil {
		t.Fatal("versions without a block")
	}
	other := *cfg.Backup("b")
	other.Versions = nil
	if plan.SetDigest(cfg, cfg.Backup("b")) == plan.SetDigest(cfg, &other) {
		t.Fatal("the versions block does not change the set's digest")
	}
}

// changing_files (#16): "warn" reaches the engine and changes the digest;
// "fail", the default, is the spec's "" and leaves the digest as it was
// before the setting existed.
func TestChangingFilesSpecAndDigest(t *testing.T) {
	dir := t.TempDir()
	cfg := load(t, filepath.Join(dir, "conf"), `
backup "a" {
  source      = "../srv/a"
  destination = "../mnt/a"
}
backup "b" {
  source         = "../srv/a"
  destination    = "../mnt/b"
  changing_files = "fail"
}
backup "c" {
  source         = "../srv/a"
  destination    = "../mnt/c"
  changing_files = "warn"
}
`)
	a, b, c := plan.SpecOf(cfg.Backup("a")), plan.SpecOf(cfg.Backup("b")), plan.SpecOf(cfg.Backup("c"))
	if a.ChangingFiles != "" || b.ChangingFiles != "" || c.ChangingFiles != "warn" || !c.WarnsChanging() || b.WarnsChanging() {
		t.Fatalf("specs %q %q %q", a.ChangingFiles, b.ChangingFiles, c.ChangingFiles)
	}
	b2 := *cfg.Backup("b")
	b2.ChangingFiles = "warn"
	if plan.SetDigest(cfg, cfg.Backup("b")) == plan.SetDigest(cfg, &b2) {
		t.Fatal("changing_files = \"warn\" does not change the set's digest")
	}
	b2.ChangingFiles = ""
	if plan.SetDigest(cfg, cfg.Backup("b")) != plan.SetDigest(cfg, &b2) {
		t.Fatal("an explicit changing_files = \"fail\" changed the set's digest")
	}
}
