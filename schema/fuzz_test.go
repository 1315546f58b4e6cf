package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: the configuration loader never panics on any main.hcl, and
// every error it reports is located (a file, line and column) unless it is
// about the directory as a whole.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*/*.hcl")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("backup \"x\" {\n  source = \"${\"\n}\n"))
	f.Add([]byte("backup \"x\" { source = [for x in range(1e9): x] }"))
	f.Add([]byte("locals { a = local.a }"))
	f.Add([]byte("variable \"v\" { default = var.v }"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		o := testOptions()
		o.LookupEnv = func(string) (string, bool) { return "", false }
		cfg, diags := Load(dir, o)
		if cfg == nil {
			t.Fatal("Load returned no Config")
		}
		for _, d := range diags {
			if d.Subject == nil && d.Summary != "Cannot read configuration file" {
				t.Errorf("diagnostic without a location: %s: %s", d.Summary, d.Detail)
			}
		}
	})
}

// FuzzNormalizePath: NormalizePath never panics, and what it accepts is a
// fixed point (normalizing it again changes nothing) with no ".." left in
// it, so a configured path cannot climb out of a share or a drive root.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"//server/share/dir/", `\\server\share\a\..\..\b`, `\\?\C:\x`, "c:/data/x", `C:\`, "C:data",
		"/abs/path/", "rel/../../dir", "$HOME/docs", "%APPDATA%/x", `\\srv\c$\data`, `\srv\data`, "", "a\x00b", `\\..\share`,
		`\\server\..`, "C:/../..", `//a/b/c/../../..`} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, windows bool) {
		goos, dir := "linux", "/conf"
		if windows {
			goos, dir = "windows", `C:\conf`
		}
		got, kind, err := NormalizePath(raw, dir, goos)
		if err != nil {
			return
		}
		if strings.ContainsRune(got, 0) {
			t.Fatalf("%q -> %q holds a NUL", raw, got)
		}
		if kind == LocalPath && goos == "windows" {
			return // joined with the host's filepath, which is not Windows here
		}
		sep := func(r rune) bool { return r == '/' || r == '\\' }
		if kind == LocalPath {
			sep = func(r rune) bool { return r == '/' } // a backslash is part of a Linux name
		}
		for _, el := range strings.FieldsFunc(got, sep) {
			if el == ".." {
				t.Fatalf("%q -> %q keeps a \"..\"", raw, got)
			}
		}
		again, kind2, err := NormalizePath(got, dir, goos)
		if err != nil || again != got || kind2 != kind {
			t.Fatalf("%q -> %q (%v) -> %q (%v) %v: not a fixed point", raw, got, kind, again, kind2, err)
		}
	})
}
