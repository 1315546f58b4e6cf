package schema

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/robocopy"
	"time"
)

func testOptions() Options {
	return Options{
		GOOS:      "linux",
		LookupEnv: func(string) (string, bool) { return "", false },
		Hostname:  func() (string, error) { return "HOST01", nil },
		CheckRobocopyArgs: func(args []string, threads int, mirror bool) []ArgProblem {
			var out []ArgProblem
			for _, p := range robocopy.ValidateForSet(args, threads, mirror) {
				out = append(out, ArgProblem{Index: p.Index, Message: p.Arg + ": " + p.Message})
			}
			return out
		},
	}
}

func TestValidFixtures(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/valid/*")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, diags := Load(dir, testOptions())
			if len(diags) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", diags.Error())
			}
		})
	}
}

var errorMarker = regexp.MustCompile(`# ERROR: (.*)$`)

// TestInvalidFixtures checks that every "# ERROR: text" marker gets a
// diagnostic on its line whose text contains the marker's text, and that
// no diagnostic lands on an unmarked line.
func TestInvalidFixtures(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/invalid/*")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			want := map[string]string{} // "file:line" -> text
			files, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
			for _, f := range files {
				fh, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				sc := bufio.NewScanner(fh)
				for n := 1; sc.Scan(); n++ {
					if m := errorMarker.FindStringSubmatch(sc.Text()); m != nil {
						want[filepath.Base(f)+":"+itoa(n)] = m[1]
					}
				}
				fh.Close()
			}
			_, diags := Load(dir, testOptions())
			got := map[string][]string{}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic without a location: %s: %s", d.Summary, d.Detail)
					continue
				}
				key := filepath.Base(d.Subject.Filename) + ":" + itoa(d.Subject.Start.Line)
				got[key] = append(got[key], d.Summary+": "+d.Detail)
				if _, ok := want[key]; !ok {
					t.Errorf("unexpected diagnostic at %s: %s: %s", key, d.Summary, d.Detail)
				}
				if d.Subject.Start.Column < 1 {
					t.Errorf("diagnostic at %s has no column", key)
				}
			}
			for key, text := range want {
				found := false
				for _, g := range got[key] {
					if strings.Contains(g, text) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: want a diagnostic containing %q, got %q", key, text, got[key])
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBasicValues(t *testing.T) {
	cfg, diags := Load("testdata/valid/basic", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	// Resolved for Linux (testOptions): a relative path is joined to the
	// configuration directory with a slash, on any host.
	abs, _ := filepath.Abs("testdata/valid/basic")
	if cfg.Settings.StateFile != path.Join(abs, "state/robo.json") || cfg.Settings.Engine != "auto" {
		t.Errorf("settings %+v", cfg.Settings)
	}
	if len(cfg.Backups) != 2 || cfg.Backups[0].Name != "docs" || cfg.Backups[1].Name != "photos" {
		t.Fatalf("backups %v", cfg.Backups)
	}
	d := cfg.Backups[0]
	if d.Source != path.Join(abs, "src/docs") || d.Destination != "/mnt/backup/docs" || d.Mode != Mirror {
		t.Errorf("docs paths %q %q %q", d.Source, d.Destination, d.Mode)
	}
	if d.TimeTolerance != 2*time.Second || d.Threads != 4 || d.Retries != 3 || d.RetryWait != time.Second {
		t.Errorf("docs numbers %+v", d)
	}
	if d.MaxDelete.String() != "25%" || d.MaxDelete.Limit(100) != 25 {
		t.Errorf("max_delete %v", d.MaxDelete)
	}
	if d.Schedule != "0 2 * * *" || d.ScheduleName != "nightly" || !d.CopyEmptyDirs || !d.Enabled || d.Symlinks != "skip" || d.HardLinks {
		t.Errorf("docs %+v", d)
	}
	if strings.Join(d.ExcludeFiles, ",") != "*.tmp,~$*" || strings.Join(d.ExcludeDirs, ",") != "node_modules,.cache" {
		t.Errorf("excludes %v %v", d.ExcludeFiles, d.ExcludeDirs)
	}
	p := cfg.Backups[1]
	if p.Mode != Copy || p.CopyEmptyDirs || !p.ExcludeOlder || p.Symlinks != "copy" || !p.HardLinks || p.MaxDelete.Limit(1000) != 100 || p.Enabled || p.Schedule != "@every 6h" {
		t.Errorf("photos %+v", p)
	}
	sc := cfg.Schedules["nightly"]
	if sc.Timezone != "Europe/Berlin" || sc.Jitter != 10*time.Minute {
		t.Errorf("schedule %+v", sc)
	}
}

func TestWindowsPaths(t *testing.T) {
	o := testOptions()
	o.GOOS = "windows"
	cfg, diags := Load("testdata/valid/windows", o)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string][2]string{
		"forward": {`C:\Users\Public\Documents`, `\\nas01\backups\forward`},
		"escaped": {`D:\Data\Finance`, `\\nas01\backups\escaped`},
		"mixed":   {`E:\Projects`, `\\nas01\backups\mixed`},
	}
	for _, b := range cfg.Backups {
		if w := want[b.Name]; b.Source != w[0] || b.Destination != w[1] {
			t.Errorf("%s: %q -> %q, want %q -> %q", b.Name, b.Source, b.Destination, w[0], w[1])
		}
	}
}

func TestNormalizePath(t *testing.T) {
	cases := []struct {
		raw, goos, want string
		kind            PathKind
		err             string
	}{
		{"//server/share/dir/", "linux", `\\server\share\dir`, UNCPath, ""},
		{`\\server\share`, "windows", `\\server\share`, UNCPath, ""},
		{`\\server\share\a\..\b`, "linux", `\\server\share\b`, UNCPath, ""},
		{`//server`, "linux", "", 0, "needs a server and a share"},
		{`\\server\..\x`, "linux", "", 0, "server and share cannot be"},
		{`//../share`, "windows", "", 0, "server and share cannot be"},
		{`\\?\C:\x`, "windows", "", 0, "device paths"},
		{"c:/data/x", "linux", `C:\data\x`, DrivePath, ""},
		{`C:\`, "windows", `C:\`, DrivePath, ""},
		{"C:data", "windows", "", 0, "relative to the current directory of drive"},
		{"/abs/path/", "linux", "/abs/path", LocalPath, ""},
		{"rel/dir", "linux", "/conf/rel/dir", LocalPath, ""},
		{"rel/dir", "windows", `C:\conf\rel\dir`, LocalPath, ""},
		{"/x", "windows", "", 0, "has no drive letter"},
		{"$HOME/docs", "linux", "", 0, "does not expand"},
		{"%APPDATA%/x", "windows", "", 0, "does not expand"},
		{"D:/$RECYCLE.BIN/x", "windows", `D:\$RECYCLE.BIN\x`, DrivePath, ""},
		{`\\srv\c$\data`, "windows", `\\srv\c$\data`, UNCPath, ""},
		{`\srv\data`, "linux", "", 0, "single backslash"},
		{"", "linux", "", 0, "empty"},
	}
	for _, c := range cases {
		dir := "/conf"
		if c.goos == "windows" {
			dir = `C:\conf`
		}
		got, kind, err := NormalizePath(c.raw, dir, c.goos)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.raw, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want || kind != c.kind {
			t.Errorf("%q on %s: %q %v %v, want %q %v", c.raw, c.goos, got, kind, err, c.want, c.kind)
		}
	}
}

func TestVariables(t *testing.T) {
	o := testOptions()
	env := map[string]string{"ROBO_VAR_root": "/from-env", "ROBO_TEST_INCLUDE": "*.a,*.b"}
	o.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, diags := Load("testdata/valid/variables", o)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b := cfg.Backups[0]
	if b.Source != "/from-env/data" || b.Destination != "/mnt/backup/host01/data" || b.Threads != 4 || strings.Join(b.Include, ",") != "*.a,*.b" {
		t.Errorf("%+v", b)
	}
	// -var wins over the environment, and converts to the default's type.
	o.Vars = map[string]string{"root": "/from-flag", "threads": "16"}
	cfg, diags = Load("testdata/valid/variables", o)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if b := cfg.Backups[0]; b.Source != "/from-flag/data" || b.Threads != 16 {
		t.Errorf("%+v", b)
	}
	o.Vars = map[string]string{"threads": "lots", "nope": "x"}
	_, diags = Load("testdata/valid/variables", o)
	var text string
	for _, d := range diags {
		text += d.Summary + ": " + d.Detail + "\n"
	}
	for _, want := range []string{`Variable "threads" takes a number`, `no variable "nope" is declared`} {
		if !strings.Contains(text, want) {
			t.Errorf("diagnostics %q lack %q", text, want)
		}
	}
}

func TestNoFiles(t *testing.T) {
	_, diags := Load(t.TempDir(), testOptions())
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "has no *.hcl files") {
		t.Fatal(diags)
	}
}

func TestSyntaxErrorLocated(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.hcl"), []byte("backup \"x\" {\n  source = \n}\n"), 0o644)
	_, diags := Load(dir, testOptions())
	if !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Start.Line != 2 {
		t.Fatalf("%v", diags)
	}
}

func TestFormat(t *testing.T) {
	out, diags := Format([]byte("backup \"x\" {\nsource=\"a\"\n  destination   =  \"b\"\n}\n"), "x.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := "backup \"x\" {\n  source      = \"a\"\n  destination = \"b\"\n}\n"
	if string(out) != want {
		t.Fatalf("got %q", out)
	}
	if _, diags := Format([]byte("backup {"), "bad.hcl"); !diags.HasErrors() {
		t.Fatal("no error for bad syntax")
	}
}

func TestComplexVariable(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(`
variable "dirs" {
  default = ["node_modules"]
}
backup "a" {
  source       = "/s"
  destination  = "/d"
  exclude_dirs = var.dirs
}
`), 0o644)
	o := testOptions()
	o.Vars = map[string]string{"dirs": `["a", "b c"]`}
	cfg, diags := Load(dir, o)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := strings.Join(cfg.Backups[0].ExcludeDirs, "|"); got != "a|b c" {
		t.Fatalf("exclude_dirs %q", got)
	}
	// A bad value is one diagnostic, not a cascade.
	o.Vars = map[string]string{"dirs": `[unclosed`}
	_, diags = Load(dir, o)
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "is not an HCL value") {
		t.Fatalf("%v", diags)
	}
}

// A mirror whose destination holds the configuration directory is refused
// where the destination is written. Resolved for the host (hostOptions):
// the configuration directory is the host's, so only the host's rules can
// compare it (with a C:\ directory and Linux rules nothing is comparable).
func TestDestinationHoldsConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("backup \"a\" {\n  source = \""+hostAbs("/srv/a")+"\"\n  destination = \".\"\n}\n"), 0o644)
	_, diags := Load(dir, hostOptions())
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "contains this configuration directory") || diags[0].Subject.Start.Line != 3 {
		t.Fatalf("%v", diags)
	}
}

func TestVerifyAfterApply(t *testing.T) {
	cfg, diags := Load("testdata/valid/verify", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if c, q := cfg.Backup("checked"), cfg.Backup("quick"); c.VerifyAfterApply != "checksum" || q.VerifyAfterApply != "metadata" {
		t.Fatalf("%q %q", c.VerifyAfterApply, q.VerifyAfterApply)
	}
	// changing_files (#16): "fail" unless set.
	if c, l := cfg.Backup("checked"), cfg.Backup("live"); c.ChangingFiles != ChangingFail || l.ChangingFiles != ChangingWarn {
		t.Fatalf("changing_files %q %q", c.ChangingFiles, l.ChangingFiles)
	}
}

// Issue 17: snapshot defaults to "never"; "auto" and "required" are kept.
func TestSnapshotAttribute(t *testing.T) {
	cfg, diags := Load("testdata/valid/snapshot", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for name, want := range map[string]string{"live": SnapshotNever, "maybe": SnapshotAuto, "frozen": SnapshotRequired} {
		if got := cfg.Backup(name).Snapshot; got != want {
			t.Errorf("set %s: snapshot %q, want %q", name, got, want)
		}
	}
}
