package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/secrets"
)

// needAgeCLI skips when the age CLI is missing, unless ROBO_REQUIRE_AGE is
// set (CI), where it fails.
func needAgeCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("age"); err != nil {
		if os.Getenv("ROBO_REQUIRE_AGE") != "" {
			t.Fatal("age is not installed and ROBO_REQUIRE_AGE is set")
		}
		t.Skip("age is not installed (set ROBO_REQUIRE_AGE=1 to make this a failure)")
	}
}

// ageDecrypt decrypts secret name of the secrets file with the age CLI and
// identity id; ok is false when age refuses.
func ageDecrypt(t *testing.T, secretsFile, name, id string) (string, bool) {
	t.Helper()
	var doc struct {
		Secrets map[string]struct {
			Value string `json:"value"`
		} `json:"secrets"`
	}
	b, err := os.ReadFile(secretsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("age", "-d", "-i", id)
	cmd.Stdin = strings.NewReader(doc.Secrets[name].Value)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return errb.String(), false
	}
	return out.String(), true
}

func envWithIdentity(stdin, id string) (*env, *bytes.Buffer, *bytes.Buffer) {
	e, out, errb := testEnv(stdin, false)
	e.lookupEnv = func(k string) (string, bool) {
		if k == secrets.EnvIdentity {
			return id, true
		}
		return "", false
	}
	return e, out, errb
}

// Issue 18: a new host creates its identity and publishes its key when
// robo watch starts; after one robo secret recipients sync it decrypts the
// share password (checked with the real age CLI); removed from the folder,
// it is dropped at the next sync and cannot read the next value.
func TestHostKeyBootstrapAndSync(t *testing.T) {
	needAgeCLI(t)
	root := t.TempDir()
	conf, keys := filepath.Join(root, "conf"), filepath.Join(root, "keys")
	os.MkdirAll(conf, 0o755)
	adminID, hostID := filepath.Join(root, "admin.txt"), filepath.Join(root, "host", "robo", "identity.txt")
	admin, err := secrets.GenerateIdentity(adminID)
	if err != nil {
		t.Fatal(err)
	}
	hcl := `robo {
  recipients = ["` + admin + `"]
}
host_key {
  publish = "../keys"
  host    = "pc-new"
}
locals {
  pw = secret("nas")
}
`
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(hcl), 0o644)
	secretsFile := filepath.Join(conf, "robo.secrets.json")
	e, _, errb := envWithIdentity(testCanary+"\n", adminID)
	if code := run([]string{"-chdir", conf, "secret", "set", "nas"}, e); code != 0 {
		t.Fatalf("set: %s", errb)
	}

	// The host's first start: identity created (owner-only), key published.
	e, _, errb = envWithIdentity("", hostID)
	if code := run([]string{"-chdir", conf, "watch", "-once"}, e); code != 0 {
		t.Fatalf("watch -once: %d %s", code, errb)
	}
	fi, err := os.Stat(hostID)
	if err != nil {
		t.Fatalf("no identity created: %v\n%s", err, errb)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("identity mode %v", fi.Mode())
	}
	ids, _ := secrets.LoadIdentity(hostID)
	hostRec := secrets.Recipients(ids)[0]
	pub, err := os.ReadFile(filepath.Join(keys, "pc-new.txt"))
	if err != nil || !strings.Contains(string(pub), "\n"+hostRec+"\n") {
		t.Fatalf("published key: %q %v", pub, err)
	}
	if _, ok := ageDecrypt(t, secretsFile, "nas", hostID); ok {
		t.Fatal("the new host decrypts before any sync")
	}
	// A second start keeps the identity.
	e, _, _ = envWithIdentity("", hostID)
	run([]string{"-chdir", conf, "watch", "-once"}, e)
	if ids2, _ := secrets.LoadIdentity(hostID); secrets.Recipients(ids2)[0] != hostRec {
		t.Fatal("the identity changed on the second start")
	}
	// A hostile file in the folder is a warning, never a recipient.
	os.WriteFile(filepath.Join(keys, "evil\x1b[2J.txt"), []byte(admin+"\n"), 0o644)
	os.WriteFile(filepath.Join(keys, "pc-junk.txt"), []byte("AGE-SECRET-KEY-1QQQ\n"), 0o644)

	// Dry run: nothing changes.
	e, out, errb := envWithIdentity("", adminID)
	before, _ := os.ReadFile(secretsFile)
	if code := run([]string{"-chdir", conf, "secret", "recipients", "sync", "-dry-run"}, e); code != 0 {
		t.Fatalf("dry run: %s", errb)
	}
	if after, _ := os.ReadFile(secretsFile); !bytes.Equal(before, after) || !strings.Contains(out.String(), "+ pc-new  "+hostRec) {
		t.Fatalf("dry run changed the file or said %s", out)
	}
	// One admin command.
	e, out, errb = envWithIdentity("", adminID)
	if code := run([]string{"-chdir", conf, "secret", "recipients", "sync"}, e); code != 0 {
		t.Fatalf("sync: %s", errb)
	}
	if !strings.Contains(out.String(), "+ pc-new  "+hostRec) || !strings.Contains(out.String(), "re-encrypted 1 secret to 2 recipients") {
		t.Errorf("sync said:\n%s", out)
	}
	if s := errb.String(); !strings.Contains(s, `"evil\x1b[2J.txt": the name is not a valid host name`) || !strings.Contains(s, "pc-junk.txt: holds a private key") ||
		strings.Contains(s, "\x1b") || strings.Contains(s, "AGE-SECRET-KEY-1QQQ") {
		t.Errorf("warnings:\n%q", s)
	}
	if pt, ok := ageDecrypt(t, secretsFile, "nas", hostID); !ok || pt != testCanary {
		t.Fatalf("the host cannot decrypt after the sync: %q", pt)
	}
	if pt, ok := ageDecrypt(t, secretsFile, "nas", adminID); !ok || pt != testCanary {
		t.Fatalf("the admin lost access: %q", pt)
	}
	// A second sync has nothing to do.
	e, out, _ = envWithIdentity("", adminID)
	run([]string{"-chdir", conf, "secret", "recipients", "sync"}, e)
	if !strings.Contains(out.String(), "No changes") {
		t.Errorf("second sync: %s", out)
	}
	// A replaced key is not adopted without -replace.
	other, _ := secrets.GenerateIdentity(filepath.Join(root, "other.txt"))
	os.WriteFile(filepath.Join(keys, "pc-new.txt"), []byte(other+"\n"), 0o644)
	e, out, errb = envWithIdentity("", adminID)
	run([]string{"-chdir", conf, "secret", "recipients", "sync"}, e)
	if !strings.Contains(errb.String(), "pc-new kept unchanged: its published key changed") || !strings.Contains(out.String(), "No changes") {
		t.Errorf("changed key: %s\n%s", out, errb)
	}
	os.WriteFile(filepath.Join(keys, "pc-new.txt"), pub, 0o644)

	// Removed from the folder: dropped at the next sync, with a warning;
	// the next value is out of its reach.
	os.Remove(filepath.Join(keys, "pc-new.txt"))
	e, out, errb = envWithIdentity("", adminID)
	if code := run([]string{"-chdir", conf, "secret", "recipients", "sync"}, e); code != 0 {
		t.Fatalf("sync after removal: %s", errb)
	}
	if !strings.Contains(out.String(), "- pc-new  "+hostRec) || !strings.Contains(errb.String(), "pc-new was removed") {
		t.Errorf("removal:\n%s\n%s", out, errb)
	}
	e, _, errb = envWithIdentity("NEW-PASSWORD\n", adminID)
	if code := run([]string{"-chdir", conf, "secret", "set", "nas"}, e); code != 0 {
		t.Fatalf("set: %s", errb)
	}
	if pt, ok := ageDecrypt(t, secretsFile, "nas", hostID); ok {
		t.Fatalf("the removed host decrypts the new value: %q", pt)
	}
	if pt, ok := ageDecrypt(t, secretsFile, "nas", adminID); !ok || pt != "NEW-PASSWORD" {
		t.Fatalf("admin: %q", pt)
	}
}

// robo apply writes the host's report and metrics textfile; robo fleet
// status reads the folder: the table, -json, -detailed-exitcode, and a
// hostile report shown escaped.
func TestFleetReportAfterApplyAndStatus(t *testing.T) {
	root := t.TempDir()
	conf, reports := filepath.Join(root, "conf"), filepath.Join(root, "reports")
	os.MkdirAll(filepath.Join(root, "src"), 0o755)
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(root, "src", "a.txt"), []byte("hello"), 0o644)
	hcl := `report {
  path = "../reports"
  host = "pc-0001"
}
metrics {
  textfile = "../robo.prom"
}
backup "docs" {
  source      = "../src"
  destination = "../dst"
  schedule    = "0 2 * * *"
}
`
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(hcl), 0o644)
	e, _, errb := testEnv("", false)
	if code := run([]string{"-chdir", conf, "apply", "-auto-approve"}, e); code != 0 {
		t.Fatalf("apply: %s", errb)
	}
	notHeldOpen(t, reports) // the report's folder used to stay open after each run (robo watch: one handle per run)
	b, err := os.ReadFile(filepath.Join(reports, "pc-0001.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Host, RoboVersion string
		Sets              []struct {
			Name, Health string
			LastRun      struct {
				Outcome     string `json:"outcome"`
				BytesCopied int64  `json:"bytes_copied"`
			} `json:"last_run"`
		}
	}
	json.Unmarshal(b, &rep)
	if rep.Host != "pc-0001" || len(rep.Sets) != 1 || rep.Sets[0].Health != "ok" || rep.Sets[0].LastRun.BytesCopied != 5 {
		t.Fatalf("report %s", b)
	}
	prom, err := os.ReadFile(filepath.Join(root, "robo.prom"))
	if err != nil || !strings.Contains(string(prom), `robo_last_run_success{set="docs"} 1`) {
		t.Fatalf("textfile %s %v", prom, err)
	}
	// A second host with a hostile report.
	os.WriteFile(filepath.Join(reports, "pc-0002.json"), []byte(strings.Replace(strings.Replace(string(b), "pc-0001", "pc-0002", 1),
		`"outcome": "success"`, `"outcome": "failed", "message": "\u001b[2J\rall good"`, 1)), 0o644)
	e, out, errb := testEnv("", false)
	code := run([]string{"-chdir", conf, "fleet", "status", "-detailed-exitcode"}, e)
	if code != exitUnhealthy {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	notHeldOpen(t, reports)
	s := out.String()
	if !strings.Contains(s, "2 hosts in") || !strings.Contains(s, "1 ok, 1 failing, 0 stale, 0 invalid") || strings.Contains(s, "\x1b") ||
		!strings.Contains(s, `set docs: failed: \x1b[2J\rall good`) {
		t.Fatalf("table:\n%q", s)
	}
	e, out, _ = testEnv("", false)
	if code := run([]string{"fleet", "status", "-json", reports}, e); code != 0 {
		t.Fatalf("json exit %d", code)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Counts        struct{ Hosts, OK, Failing int }
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.FormatVersion != "1" || doc.Counts.Hosts != 2 || doc.Counts.Failing != 1 {
		t.Fatalf("json %s %v", out, err)
	}
	// A missing folder is an error naming it.
	e, _, errb = testEnv("", false)
	if code := run([]string{"fleet", "status", filepath.Join(root, "nope")}, e); code != exitError || !strings.Contains(errb.String(), "nope") {
		t.Fatalf("missing folder: %d %s", code, errb)
	}
}
