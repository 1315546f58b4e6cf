package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 16: copy and directory_copy take robocopy's letters in any order
// and case, and come out in robocopy's canonical order.
func TestParseCopyNormalizes(t *testing.T) {
	for _, c := range []struct {
		in   string
		dir  bool
		want string
	}{
		{"DAT", false, "DAT"}, {"tad", false, "DAT"}, {"UOSTAD", false, "DATSOU"}, {"eD", false, "DE"},
		{"all", false, "DATSOUE"}, {"ALL", false, "DATSOUE"}, {"Sec", false, "DATS"}, {" all ", false, "DATSOUE"},
		{"ETAD", true, "DATE"}, {"all", true, "DATE"}, {"d", true, "D"},
	} {
		got, err := ParseCopy(c.in, c.dir)
		if err != nil || got != c.want {
			t.Errorf("ParseCopy(%q, %v) = %q, %v; want %q", c.in, c.dir, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in    string
		dir   bool
		index int
		msg   string
	}{
		{"DAQ", false, 2, `"Q" is not a copy letter`},
		{"DATA", false, 3, "names A (attributes) twice"},
		{"AT", false, -1, `leaves out D (the data of files)`},
		{"DATO", true, 3, "O (owner) is copied for files only"},
		{"sec", true, 0, `"s" is not a directory_copy letter`},
		{"DAé", false, 2, "a character that is not a letter"},
		{"", false, -1, "copy is empty"},
	} {
		_, err := ParseCopy(c.in, c.dir)
		ce, ok := err.(*CopyError)
		if !ok || ce.Index != c.index || !strings.Contains(ce.Message, c.msg) {
			t.Errorf("ParseCopy(%q, %v) = %v; want index %d and %q", c.in, c.dir, err, c.index, c.msg)
		}
	}
}

// A refused letter is reported at its own line and column; the robo
// block's copy is every set's default, and a set's own wins.
func TestCopyDiagnosticColumnAndDefaults(t *testing.T) {
	dir := t.TempDir()
	write := func(src string) {
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("backup \"a\" {\n  source      = \"/srv/a\"\n  destination = \"/mnt/a\"\n  copy        = \"DATZ\"\n}\n")
	_, diags := Load(dir, testOptions())
	if len(diags) != 1 || diags[0].Subject == nil {
		t.Fatalf("want one located diagnostic, got %v", diags)
	}
	s := diags[0].Subject
	// `  copy        = "DATZ"`: the quote is column 17, Z is column 21.
	if s.Start.Line != 4 || s.Start.Column != 21 || s.End.Column != 22 || !strings.Contains(diags[0].Detail, `"Z" is not a copy letter`) {
		t.Fatalf("diagnostic at %s: %s", s, diags[0].Detail)
	}

	cfg, diags := Load("testdata/valid/copy", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string][2]string{"defaults": {"DATSO", "DATE"}, "own": {"DATSU", "DAT"}, "all": {"DATSOUE", "DATE"}, "sec": {"DATS", "DATE"}}
	for _, b := range cfg.Backups {
		if got := [2]string{b.Copy, b.DirCopy}; got != want[b.Name] {
			t.Errorf("%s: copy, directory_copy = %q; want %q", b.Name, got, want[b.Name])
		}
	}
	write("backup \"a\" {\n  source      = \"/srv/a\"\n  destination = \"/mnt/a\"\n}\n")
	cfg, diags = Load(dir, testOptions())
	if diags.HasErrors() || cfg.Backups[0].Copy != "" || cfg.Backups[0].DirCopy != "" {
		t.Fatalf("unset copy: %q %q %v", cfg.Backups[0].Copy, cfg.Backups[0].DirCopy, diags)
	}
}
