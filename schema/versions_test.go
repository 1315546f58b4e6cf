package schema

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestVersionsKeep(t *testing.T) {
	for keep, want := range map[string]Versions{
		`"30d"`: {KeepAge: 30 * 24 * time.Hour}, `"1h"`: {KeepAge: time.Hour}, `"36h"`: {KeepAge: 36 * time.Hour},
		`10`: {KeepCount: 10}, `1`: {KeepCount: 1}, `"7"`: {KeepCount: 7},
	} {
		dir := t.TempDir()
		src := "backup \"x\" {\n  source = \"/srv/x\"\n  destination = \"/mnt/x\"\n  versions {\n    keep = " + keep + "\n  }\n}\n"
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := Load(dir, testOptions())
		if diags.HasErrors() {
			t.Fatalf("keep = %s: %s", keep, diags.Error())
		}
		v := cfg.Backups[0].Versions
		if v == nil || v.KeepAge != want.KeepAge || v.KeepCount != want.KeepCount {
			t.Errorf("keep = %s: got %+v, want %+v", keep, v, want)
		}
		if v != nil && v.DeclRange.Start.Line != 4 {
			t.Errorf("keep = %s: block range %s", keep, v.DeclRange)
		}
	}
}

func TestNoVersions(t *testing.T) {
	cfg, diags := Load("testdata/valid/basic", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, b := range cfg.Backups {
		if b.Versions != nil {
			t.Errorf("%s: versions %+v without a versions block", b.Name, b.Versions)
		}
	}
}
