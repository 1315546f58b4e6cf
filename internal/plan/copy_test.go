package plan

import (
	"testing"

	"github.com/robo-backup/robo/schema"
)

// Issue 16: a set's copy and directory_copy reach the engine; the
// defaults stay "" so that existing sets keep their digest and saved plans.
func TestSpecOfCopyLetters(t *testing.T) {
	for _, c := range []struct{ copy, dirCopy, wantCopy, wantDir string }{
		{"", "", "", ""},
		{"DAT", "DAT", "", ""},
		{"DATSOU", "DATE", "DATSOU", "DATE"},
		{"DT", "DA", "DT", "DA"},
	} {
		s := SpecOf(&schema.Backup{Name: "x", Copy: c.copy, DirCopy: c.dirCopy})
		if s.Copy != c.wantCopy || s.DirCopy != c.wantDir {
			t.Errorf("copy %q, directory_copy %q: spec has %q, %q; want %q, %q", c.copy, c.dirCopy, s.Copy, s.DirCopy, c.wantCopy, c.wantDir)
		}
	}
	cfg := &schema.Config{Settings: schema.Settings{Engine: "native"}}
	a, b := &schema.Backup{Name: "x"}, &schema.Backup{Name: "x", Copy: "DAT"}
	if SetDigest(cfg, a) != SetDigest(cfg, b) {
		t.Error("copy = \"DAT\" (the default) changed the set's digest")
	}
	if c := (&schema.Backup{Name: "x", Copy: "DATS"}); SetDigest(cfg, a) == SetDigest(cfg, c) {
		t.Error("copy = \"DATS\" did not change the set's digest")
	}
}
