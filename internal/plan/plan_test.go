package plan_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/vfs/vfstest"
	"github.com/robo-backup/robo/schema"
)

type engines struct{ e engine.Engine }

func (e engines) Select(string) (engine.Engine, error) { return e.e, nil }

func load(t *testing.T, dir, hcl string) *schema.Config {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := schema.Load(dir, schema.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return cfg
}

func build(t *testing.T, cfg *schema.Config, st *state.State, mod func(*plan.Input)) *plan.Plan {
	t.Helper()
	in := plan.Input{Config: cfg, State: st, Refresh: true, Engines: engines{native.New()}, Now: time.Unix(0, 0)}
	if mod != nil {
		mod(&in)
	}
	p, err := plan.Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestActions(t *testing.T) {
	dir := t.TempDir()
	tt.Create(t, filepath.Join(dir, "a"), tt.Dir{"f": tt.File{Content: "f"}})
	tt.Create(t, filepath.Join(dir, "b"), tt.Dir{"g": tt.File{Content: "g"}})
	tt.Create(t, filepath.Join(dir, "b-dst"), tt.Dir{"g": tt.File{Content: "g"}})
	cfg := load(t, filepath.Join(dir, "conf"), `
backup "a" {
  source      = "../a"
  destination = "../a-dst"
}
backup "b" {
  source      = "../b"
  destination = "../b-dst"
}
backup "c" {
  source      = "../c"
  destination = "../c-dst"
  enabled     = false
}
`)
	st := state.New()
	st.Serial = 4
	st.Sets["a"] = &state.Set{ConfigDigest: plan.SetDigest(cfg, cfg.Backup("a")), Source: cfg.Backup("a").Source}
	st.Sets["b"] = &state.Set{ConfigDigest: "sha256:old", Source: cfg.Backup("b").Source, Destination: cfg.Backup("b").Destination, Mode: "copy"}
	st.Sets["gone"] = &state.Set{ConfigDigest: "x", Destination: "/old/dst"}
	p := build(t, cfg, st, nil)
	want := map[string]string{
		"a":    "sync: files differ: 1 new file",
		"b":    "update: configuration changed since the last apply (mode was copy)",
		"c":    "noop: disabled (enabled = false): never applied, not planned",
		"gone": "forget: no longer in the configuration: only its state entry is removed; /old/dst is left as it is",
	}
	if len(p.Sets) != len(want) {
		t.Fatalf("%d sets", len(p.Sets))
	}
	for _, s := range p.Sets {
		if got := string(s.Action) + ": " + s.Reason; got != want[s.Name] {
			t.Errorf("%s: %q, want %q", s.Name, got, want[s.Name])
		}
	}
	if p.StateLineage != st.Lineage || p.StateSerial != 4 || !p.HasChanges() || p.Failed() {
		t.Errorf("plan header %+v", p)
	}
	if s := p.Set("a"); s.Summary.NewFiles != 1 || s.Summary.BytesToCopy != 1 || s.Engine != "native" {
		t.Errorf("a: %+v %+v", s, s.Summary)
	}

	// Targets limit the plan; an unknown target is an error.
	p = build(t, cfg, st, func(in *plan.Input) { in.Targets = []string{"b"} })
	if len(p.Sets) != 1 || p.Sets[0].Name != "b" {
		t.Fatalf("targets: %v", p.Sets)
	}
	_, err := plan.Build(context.Background(), plan.Input{Config: cfg, Targets: []string{"zz"}, Engines: engines{native.New()}})
	if err == nil || !strings.Contains(err.Error(), `no backup set named "zz"`) {
		t.Fatalf("unknown target: %v", err)
	}

	// Without refresh nothing is walked.
	p = build(t, cfg, st, func(in *plan.Input) { in.Refresh = false })
	if s := p.Set("a"); s.Action != plan.Noop || s.Summary != nil || s.Changes.Len() != 0 {
		t.Errorf("no refresh: %+v", s)
	}
}

func TestConfigDigest(t *testing.T) {
	dir := t.TempDir()
	base := "backup \"a\" {\n  source = \"../s\"\n  destination = \"../d\"\n}\n"
	d1 := plan.ConfigDigest(load(t, dir, base))
	d2 := plan.ConfigDigest(load(t, dir, "# a comment\n"+base))
	d3 := plan.ConfigDigest(load(t, dir, strings.Replace(base, "}", "  threads = 2\n}", 1)))
	if d1 != d2 || d1 == d3 {
		t.Fatalf("digests %s %s %s", d1, d2, d3)
	}
}

func TestSafety(t *testing.T) {
	dir := t.TempDir()
	files := tt.Dir{}
	for _, n := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"} {
		files[n] = tt.File{Content: n}
	}
	tt.Create(t, filepath.Join(dir, "dst"), files)
	tt.Create(t, filepath.Join(dir, "few"), tt.Dir{"1": tt.File{Content: "1"}, "2": tt.File{Content: "2"}})
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	cases := []struct {
		name, attrs, refused, errText string
		allow                         bool
	}{
		{"missing mirror", `source = "../nowhere"`, "A mirror of a missing or unreadable source could delete the destination", "", false},
		{"missing copy", `source = "../nowhere"` + "\n mode = \"copy\"", "", notExistText(t, filepath.Join(dir, "nowhere")), false},
		{"empty source", `source = "../empty"`, "is empty but the destination", "", false},
		{"empty source, allowed", `source = "../empty"`, "is empty but the destination", "", true},
		{"default 50%", `source = "../few"`, "would delete 8 of the 10 files", "", false},
		{"count", `source = "../few"` + "\n max_delete = 7", "more than max_delete = 7 allows (7)", "", false},
		{"count ok", `source = "../few"` + "\n max_delete = 8", "", "", false},
		{"percent ok", `source = "../few"` + "\n max_delete = \"80%\"", "", "", false},
		{"unlimited", `source = "../few"` + "\n max_delete = \"unlimited\"", "", "", false},
		{"allow-deletes", `source = "../few"`, "", "", true},
		{"copy never refused", `source = "../few"` + "\n mode = \"copy\"", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := load(t, filepath.Join(dir, "conf"), "backup \"x\" {\n "+c.attrs+"\n destination = \"../dst\"\n}\n")
			p := build(t, cfg, nil, func(in *plan.Input) { in.AllowDeletes = c.allow })
			s := p.Sets[0]
			if c.refused == "" && s.Refused != "" || c.refused != "" && !strings.Contains(s.Refused, c.refused) {
				t.Errorf("refused %q, want %q", s.Refused, c.refused)
			}
			if c.errText == "" && s.Error != "" || c.errText != "" && !strings.Contains(s.Error, c.errText) {
				t.Errorf("error %q, want %q", s.Error, c.errText)
			}
			if p.Failed() != (c.refused != "" || c.errText != "") {
				t.Errorf("Failed() = %v", p.Failed())
			}
		})
	}
}

func TestScanErrorsDropDeletions(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	tt.Create(t, src, tt.Dir{"ok/a": tt.File{Content: "a"}, "locked/b": tt.File{Content: "b"}})
	tt.Create(t, filepath.Join(dir, "dst"), tt.Dir{"extra": tt.File{Content: "e"}, "ok/a": tt.File{Content: "a"}})
	cfg := load(t, filepath.Join(dir, "conf"), "backup \"x\" {\n source = \"../src\"\n destination = \"../dst\"\n max_delete = \"unlimited\"\n}\n")
	e := native.New()
	e.Open = func(root string) (vfs.FS, error) {
		l, err := native.OpenLocal(root)
		if err != nil || root != src {
			return l, err
		}
		f := vfstest.NewFaulty(l)
		f.FailReadDir["locked"] = syscall.EACCES
		return f, nil
	}
	p := build(t, cfg, nil, func(in *plan.Input) { in.Engines = engines{e} })
	s := p.Sets[0]
	for _, c := range s.Changes.Slice() {
		if c.Action == engine.Delete || c.Action == engine.Replace {
			t.Fatalf("deletion kept after a scan error: %+v", c)
		}
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "1 entry could not be read while planning, so this run deletes nothing (1 planned deletion or replacement dropped)") {
		t.Fatalf("warnings %q", s.Warnings)
	}
	if len(s.ScanErrors) != 1 || s.Summary.FilesToDelete != 0 {
		t.Fatalf("%+v %+v", s.ScanErrors, s.Summary)
	}
}

func TestPlanFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	tt.Create(t, filepath.Join(dir, "src"), tt.Dir{"f": tt.File{Content: "f"}})
	cfg := load(t, filepath.Join(dir, "conf"), "backup \"x\" {\n source = \"../src\"\n destination = \"../dst\"\n}\n")
	p := build(t, cfg, state.New(), nil)
	path := filepath.Join(dir, "plan.json")
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 { // Windows has ACLs, no mode bits
		t.Errorf("plan file mode %v", fi.Mode().Perm())
	}
	q, err := plan.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if q.ConfigDigest != p.ConfigDigest || q.Sets[0].Changes.Len() != 1 || *q.Sets[0].Changes.Slice()[0].Src != *p.Sets[0].Changes.Slice()[0].Src {
		t.Fatalf("round trip: %+v", q.Sets[0])
	}
	os.WriteFile(path, []byte(`{"format_version":"99","sets":[]}`), 0o600)
	if _, err := plan.Read(path); err == nil || !strings.Contains(err.Error(), `plan format version "99" is not supported`) {
		t.Fatalf("%v", err)
	}
}

// A destination that the configuration places outside the source but that
// a symbolic link puts inside it (and the reverse) is refused at plan time:
// the schema's check compares the paths as written.
func TestNestingThroughLinksRefused(t *testing.T) {
	dir := t.TempDir()
	tt.Create(t, filepath.Join(dir, "src"), tt.Dir{"f": tt.File{Content: "f"}})
	tt.Create(t, filepath.Join(dir, "dst"), tt.Dir{"d": tt.File{Content: "d"}})
	for _, l := range []string{"src", "dst"} {
		symlink(t, filepath.Join(dir, l), filepath.Join(dir, "into-"+l))
	}
	for _, tc := range []struct{ src, dst, want string }{
		{"../src", "../into-src/backup", "inside the source"},
		{"../into-dst/sub", "../dst", "inside the destination"},
		{"../into-src", "../src", "are the same directory"},
	} {
		os.MkdirAll(filepath.Join(dir, "dst", "sub"), 0o755)
		os.WriteFile(filepath.Join(dir, "dst", "sub", "x"), []byte("x"), 0o644)
		cfg := load(t, filepath.Join(dir, "conf"), "backup \"x\" {\n source = \""+tc.src+"\"\n destination = \""+tc.dst+"\"\n}\n")
		p := build(t, cfg, nil, nil)
		if s := p.Sets[0]; !strings.Contains(s.Refused, tc.want) || !strings.Contains(s.Refused, "once links are followed") {
			t.Errorf("%s -> %s: refused %q", tc.src, tc.dst, s.Refused)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "src", "backup")); err == nil {
		t.Error("the refused set created its destination")
	}
}

// symlink creates a symbolic link, or skips the test on Windows, where that
// needs a privilege, and under Wine, whose CreateSymbolicLink (8.0) reports
// success and creates nothing.
func symlink(t *testing.T, target, link string) {
	t.Helper()
	err := os.Symlink(target, link)
	if err == nil {
		_, err = os.Lstat(link)
	}
	if err != nil && runtime.GOOS == "windows" {
		t.Skipf("no symbolic link here (a privilege on Windows; Wine reports success and creates none): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// notExistText is the operating system's own text for a missing file, as
// it ends an error about path ("no such file or directory" on Unix).
func notExistText(t *testing.T, path string) string {
	t.Helper()
	_, err := os.Stat(path)
	var pe *fs.PathError
	if !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat %s: %v, want a missing file", path, err)
	}
	return pe.Err.Error()
}

// warningEngine is the native engine with a scan warning, as the robocopy
// engine gives one for a feature its robocopy.exe version cannot honour.
type warningEngine struct{ *native.Engine }

func (w warningEngine) Scan(ctx context.Context, spec engine.Spec) (*engine.ScanResult, error) {
	res, err := w.Engine.Scan(ctx, spec)
	if res != nil {
		res.Warnings = append(res.Warnings, "robocopy 5.1.10.1027 cannot keep directory attributes (/DCOPY:A)")
	}
	return res, err
}

func TestScanWarningsReachThePlan(t *testing.T) {
	dir := t.TempDir()
	tt.Create(t, filepath.Join(dir, "src"), tt.Dir{"a": tt.File{Content: "a"}})
	cfg := load(t, filepath.Join(dir, "conf"), "backup \"x\" {\n source = \"../src\"\n destination = \"../dst\"\n}\n")
	p := build(t, cfg, nil, func(in *plan.Input) { in.Engines = engines{warningEngine{native.New()}} })
	if w := p.Sets[0].Warnings; len(w) != 1 || !strings.Contains(w[0], "/DCOPY:A") {
		t.Fatalf("warnings %q", w)
	}
}
