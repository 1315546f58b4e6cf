package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// Issue 18: for_each declares one set per element, named BLOCK.KEY, with
// each.key and each.value; a share block with for_each is one share per
// element, reachable as share.NAME["KEY"].
func TestForEachInstances(t *testing.T) {
	cfg, diags := Load("testdata/valid/for-each", testOptions())
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	var names []string
	for _, b := range cfg.Backups {
		names = append(names, b.Name)
	}
	if got := strings.Join(names, " "); got != "drive.c drive.d home.alice home.bob" {
		t.Fatalf("sets %q", got)
	}
	a := cfg.Backup("home.alice")
	if a.Source != "/home/alice" || a.Destination != `\\nas01\backups\home\alice` {
		t.Errorf("home.alice: %q -> %q", a.Source, a.Destination)
	}
	if a.Instance == nil || a.Instance.Block != "home" || a.Instance.Key != "alice" || a.Instance.Address("backup") != `backup.home["alice"]` {
		t.Errorf("instance %+v", a.Instance)
	}
	if c, d := cfg.Backup("drive.c"), cfg.Backup("drive.d"); !c.Enabled || c.ScheduleName != "nightly" || d.Enabled || d.Schedule != "@weekly" || d.Source != "/srv/d" {
		t.Errorf("drives: %+v %+v", c, d)
	}
	hq, br := cfg.Shares["site.hq"], cfg.Shares["site.branch"]
	if hq == nil || br == nil || hq.UNC != `\\nas01\backups` || br.Password.Name != "nas-branch" || hq.Instance.Key != "hq" {
		t.Fatalf("shares %+v", cfg.Shares)
	}
	if cfg.ShareFor(a.Destination) != hq {
		t.Errorf("ShareFor(%s) is not site.hq", a.Destination)
	}
	var moves []string
	for _, m := range cfg.Moves {
		moves = append(moves, m.From+">"+m.To)
	}
	if got := strings.Join(moves, " "); got != "home>home.alice bob-home>home.bob" {
		t.Errorf("moves %q", got)
	}
}

func TestExpandTargets(t *testing.T) {
	cfg, diags := Load("testdata/valid/for-each", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cases := map[string]string{
		"home":                  "home.alice home.bob",
		"backup.home":           "home.alice home.bob",
		`home["bob"]`:           "home.bob",
		`backup.drive["c"]`:     "drive.c",
		"drive.d":               "drive.d",
		"nope":                  "nope",
		`backup.home["nobody"]`: "home.nobody",
	}
	for in, want := range cases {
		if got := strings.Join(cfg.ExpandTargets([]string{in}), " "); got != want {
			t.Errorf("ExpandTargets(%s) = %q, want %q", in, got, want)
		}
	}
}

// A moved block from one block with for_each to another moves every
// instance.
func TestMovedBlockWithForEach(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", `
backup "homes" {
  for_each    = toset(["alice", "bob"])
  source      = "/home/${each.key}"
  destination = "/mnt/backup/${each.key}"
}

moved {
  from = backup.home
  to   = backup.homes
}
`)
	cfg, diags := Load(dir, testOptions())
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	var moves []string
	for _, m := range cfg.Moves {
		moves = append(moves, m.From+">"+m.To)
	}
	if got := strings.Join(moves, " "); got != "home.alice>homes.alice home.bob>homes.bob" {
		t.Errorf("moves %q", got)
	}
}

// Override files replace attributes and nested blocks, in name order.
func TestOverrideFiles(t *testing.T) {
	cfg, diags := Load("testdata/valid/override", testOptions())
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	d := cfg.Backup("docs")
	if d.Threads != 32 {
		t.Errorf("threads %d: the later override file must win", d.Threads)
	}
	if d.Destination != "/mnt/site-backup/docs" || strings.Join(d.ExcludeFiles, ",") != "*.tmp" || d.Source != "/srv/docs" {
		t.Errorf("docs %+v", d)
	}
	if got := strings.Join(d.RobocopyArgs, " "); got != "/COMPRESS /XA:SH" {
		t.Errorf("robocopy block not replaced wholesale: %q", got)
	}
	if l := cfg.Backup("logs"); l.Retries != 5 || l.Destination != "/mnt/site-backup/logs" {
		t.Errorf("variable default not overridden: %+v", l)
	}
	if cfg.Settings.MaxParallel != 6 {
		t.Errorf("max_parallel %d", cfg.Settings.MaxParallel)
	}
}

// Variable files: robo.vars.hcl, then *.auto.vars.hcl in name order, then
// the command line in order; the environment is below every file.
func TestVarFilePrecedence(t *testing.T) {
	dir, _ := filepath.Abs("testdata/valid/var-files")
	load := func(env map[string]string, args ...VarArg) (*Backup, string) {
		o := testOptions()
		o.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		o.VarArgs = args
		cfg, diags := Load(dir, o)
		if len(diags) > 0 {
			return nil, diags.Error()
		}
		return cfg.Backup("data"), ""
	}
	b, err := load(nil)
	if err != "" {
		t.Fatal(err)
	}
	if b.Destination != "/mnt/from-robo-vars/hq/data" || b.Threads != 4 || strings.Join(b.ExcludeFiles, ",") != "*.tmp,~$*" {
		t.Errorf("auto files: %q %d %v", b.Destination, b.Threads, b.ExcludeFiles)
	}
	// The environment is below the files.
	b, _ = load(map[string]string{"ROBO_VAR_threads": "9", "ROBO_VAR_root": "/env"})
	if b.Threads != 4 || !strings.HasPrefix(b.Destination, "/mnt/from-robo-vars/") {
		t.Errorf("environment won over a variable file: %d %q", b.Threads, b.Destination)
	}
	// The command line, in order.
	prod := filepath.Join(dir, "prod.vars.hcl")
	b, _ = load(nil, VarArg{Name: "threads", Value: "7"}, VarArg{File: prod})
	if b.Threads != 12 || b.Destination != "/mnt/prod/hq/data" {
		t.Errorf("-var then -var-file: %d %q", b.Threads, b.Destination)
	}
	b, _ = load(nil, VarArg{File: prod}, VarArg{Name: "threads", Value: "7"})
	if b.Threads != 7 {
		t.Errorf("-var-file then -var: %d", b.Threads)
	}
	_, err = load(nil, VarArg{File: filepath.Join(dir, "missing.vars.hcl")})
	if !strings.Contains(err, "Cannot read variable file") || !strings.Contains(err, "missing.vars.hcl") {
		t.Errorf("missing -var-file: %s", err)
	}
}

// A sensitive variable's value in a variable file is never quoted, not
// even in the source line a diagnostic shows.
func TestVarFileSensitiveRedacted(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", `
variable "token" {
  type      = number
  sensitive = true
}
`)
	writeFile(t, dir, "robo.vars.hcl", "token = \"hunter2secret\"\n")
	_, diags := Load(dir, testOptions())
	cfg, _ := Load(dir, testOptions())
	if len(diags) != 1 || diags[0].Subject == nil || diags[0].Subject.Filename != "robo.vars.hcl" || diags[0].Subject.Start.Line != 1 {
		t.Fatalf("%v", diags)
	}
	var out strings.Builder
	printTo(&out, cfg, diags)
	if strings.Contains(out.String(), "hunter2") || !strings.Contains(out.String(), "robo.vars.hcl line 1") {
		t.Errorf("diagnostic shows the sensitive value or no location:\n%s", out.String())
	}
	if src, _ := os.ReadFile(filepath.Join(dir, "robo.vars.hcl")); !strings.Contains(string(src), "hunter2") {
		t.Error("the file on disk was changed")
	}
}

func printTo(w *strings.Builder, cfg *Config, diags hcl.Diagnostics) {
	hcl.NewDiagnosticTextWriter(w, cfg.Files, 0, false).WriteDiagnostics(diags)
}

// The example of docs/fleet.md ("Per-host configuration") loads as the guide says.
func TestFleetExample(t *testing.T) {
	cfg, diags := Load("testdata/valid/fleet", testOptions())
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	var names []string
	for _, b := range cfg.Backups {
		names = append(names, b.Name)
	}
	if got := strings.Join(names, " "); got != "drive.c drive.d home.asmith home.jdoe" {
		t.Fatalf("sets %q", got)
	}
	if d := cfg.Backup("drive.d"); d.Source != `D:\Data` || d.Destination != `\\nas02.branch.example\backups\host01\drive-d` {
		t.Errorf("drive.d %q -> %q", d.Source, d.Destination)
	}
	if h := cfg.Backup("home.jdoe"); h.Schedule != "@every 4h" || !h.Watch {
		t.Errorf("override not applied: %+v", h)
	}
}

// A secret named from each.key that the secrets file lacks is reported at
// the call, naming the instance's secret.
func TestForEachUnknownSecretLocated(t *testing.T) {
	o := testOptions()
	o.SecretExists = func(_, name string) (bool, error) { return name == "nas-hq", nil }
	_, diags := Load("testdata/valid/for-each", o)
	if len(diags) != 1 {
		t.Fatalf("want one diagnostic, got %v", diags)
	}
	d := diags[0]
	if d.Summary != "Unknown secret" || !strings.Contains(d.Detail, `"nas-branch"`) || d.Subject == nil || d.Subject.Filename != "main.hcl" || d.Subject.Start.Line != 26 {
		t.Errorf("%s: %s at %v", d.Summary, d.Detail, d.Subject)
	}
}
