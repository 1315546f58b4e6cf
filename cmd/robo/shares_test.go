package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/secrets"
	"github.com/robo-backup/robo/internal/shares/sambatest"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// shareConfig writes a configuration with a share block for a real Samba
// server, its password as an age secret, and a host identity; it returns the
// config dir and an env that finds the identity.
func shareConfig(t *testing.T, srv *sambatest.Server, password, body string) (string, func(string, bool) *env) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o755)
	idPath := filepath.Join(dir, "identity.txt")
	recipient, err := secrets.GenerateIdentity(idPath)
	if err != nil {
		t.Fatal(err)
	}
	hcl := fmt.Sprintf(`robo {
  recipients = [%q]
}

share "nas" {
  unc      = "//%s/data"
  port     = %d
  username = %q
  password = secret("nas")
}
`, recipient, srv.Host, srv.Port, "WORKGROUP\\"+srv.User) + body
	if err := os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := secrets.Open(filepath.Join(conf, "robo.secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := secrets.ParseRecipients([]string{recipient})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set("nas", []byte(password), rs); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	mk := func(stdin string, interactive bool) *env {
		e, _, _ := testEnv(stdin, interactive)
		e.lookupEnv = func(k string) (string, bool) {
			if k == secrets.EnvIdentity {
				return idPath, true
			}
			return "", false
		}
		return e
	}
	return conf, mk
}

func runCapture(e *env, args ...string) (int, string) {
	var out bytes.Buffer
	e.stdout, e.stderr = &out, &out
	code := run(args, e)
	return code, out.String()
}

// Mirror a local tree to a Samba share and back through share blocks whose
// password is an age secret; the password never appears in any output,
// state or plan file.
func TestMirrorThroughShares(t *testing.T) {
	srv := sambatest.Start(t)
	src := filepath.Join(t.TempDir(), "src")
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "alpha"}, "Größe/日本.txt": tt.File{Content: "unicode"},
		"deep/" + strings.Repeat("long-name-", 12) + ".bin": tt.File{Content: "long"}})
	back := filepath.Join(t.TempDir(), "back")
	conf, mk := shareConfig(t, srv, srv.Password, fmt.Sprintf(`
backup "up" {
  source      = %q
  destination = "${share.nas.unc}/backup"
}

backup "down" {
  source      = "//%s/data/backup"
  destination = %q
  mode        = "copy"
}
`, src, srv.Host, back))
	code, out := runCapture(mk("", false), "-chdir", conf, "apply", "-auto-approve", "-target", "up")
	if code != exitOK {
		t.Fatalf("apply up: exit %d\n%s", code, out)
	}
	tt.Equal(t, src, filepath.Join(srv.DataDir, "backup"), tt.Options{})
	code, out = runCapture(mk("", false), "-chdir", conf, "apply", "-auto-approve", "-target", "down")
	if code != exitOK {
		t.Fatalf("apply down: exit %d\n%s", code, out)
	}
	tt.Equal(t, src, back, tt.Options{})
	// Idempotent: nothing to do for either set.
	code, out2 := runCapture(mk("", false), "-chdir", conf, "plan", "-detailed-exitcode", "-out", "saved.plan")
	if code != exitOK {
		t.Fatalf("second plan: exit %d\n%s", code, out2)
	}
	code, out3 := runCapture(mk("", false), "-chdir", conf, "share", "check")
	if code != exitOK || !strings.Contains(out3, "nas") || strings.Count(out3, "ok") < 3 {
		t.Fatalf("share check: exit %d\n%s", code, out3)
	}
	// Every connection is an audit event naming server, share and user.
	trail, err := os.ReadFile(filepath.Join(conf, ".robo", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"event":"share.connected","user":`, `"server":"127.0.0.1","share":"nas","share_name":"data","user":"WORKGROUP\\` + srv.User + `"`,
		`"event":"share.disconnected"`, `"event":"secret.decrypted"`, `"name":"nas"`} {
		if !bytes.Contains(trail, []byte(want)) {
			t.Errorf("audit trail lacks %s", want)
		}
	}
	// The canary: the share password is in no output and no file robo wrote.
	all := out + out2 + out3
	if strings.Contains(all, srv.Password) {
		t.Fatal("the share password appears in robo's output")
	}
	filepath.Walk(conf, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(srv.Password)) {
				t.Errorf("the share password appears in %s", p)
			}
		}
		return nil
	})
}

// A wrong password is a clear error for the set, nothing is touched, and
// the password is not echoed.
func TestShareWrongPassword(t *testing.T) {
	srv := sambatest.Start(t)
	src := filepath.Join(t.TempDir(), "src")
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "a"}})
	conf, mk := shareConfig(t, srv, "not-the-password", fmt.Sprintf(`
backup "up" {
  source      = %q
  destination = "//%s/data/up"
}
`, src, srv.Host))
	code, out := runCapture(mk("", false), "-chdir", conf, "apply", "-auto-approve")
	if code != exitError {
		t.Fatalf("exit %d\n%s", code, out)
	}
	t.Log(out)
	if !strings.Contains(out, "logon") || strings.Contains(out, "not-the-password") {
		t.Fatalf("output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(srv.DataDir, "up")); !os.IsNotExist(err) {
		t.Fatal("destination created despite the failed logon")
	}
	code, out = runCapture(mk("", false), "-chdir", conf, "share", "check")
	t.Log(out)
	if code != exitError || !strings.Contains(out, "FAILED") {
		t.Fatalf("share check: exit %d\n%s", code, out)
	}
}
