package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robo-backup/robo/schema"
)

const testCanary = "CANARY-5d1c0e77"

// secretSetup creates an identity and a configuration that refers to the
// secret "nas", sets it to the canary, and returns the directories.
func secretSetup(t *testing.T) (root, conf, identity string) {
	t.Helper()
	root = t.TempDir()
	conf = filepath.Join(root, "conf")
	os.MkdirAll(filepath.Join(root, "src"), 0o755)
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(root, "src", "a.txt"), []byte("a"), 0o644)
	identity = filepath.Join(root, "id.txt")
	e, out, errb := testEnv("", false)
	if code := run([]string{"secret", "keygen", "-o", identity}, e); code != 0 {
		t.Fatalf("keygen: %s", errb)
	}
	hcl := "robo {\n  recipients = [\"" + strings.TrimSpace(out.String()) + "\"]\n}\n" +
		"locals {\n  pw = secret(\"nas\")\n}\n" +
		"backup \"docs\" {\n  source      = \"../src\"\n  destination = \"../dst\"\n}\n"
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(hcl), 0o644)
	e, _, errb = testEnv(testCanary+"\n", false)
	if code := run([]string{"-chdir", conf, "secret", "set", "nas"}, e); code != 0 {
		t.Fatalf("set: %s", errb)
	}
	return root, conf, identity
}

// Every command that touches the configuration, then a search of every
// file under the test directory and of every output for the canary.
func TestSecretPlaintextNeverWritten(t *testing.T) {
	root, conf, identity := secretSetup(t)
	var outputs bytes.Buffer
	for _, args := range [][]string{
		{"validate"}, {"validate", "-json"}, {"plan", "-out", "plan.json"}, {"plan", "-json"},
		{"show", "plan.json"}, {"show", "-json", "plan.json"}, {"apply", "-auto-approve"},
		{"state", "list"}, {"state", "show", "docs"}, {"secret", "list"},
		{"secret", "rekey", "-identity", identity}, {"secret", "rm", "nas"}, {"validate"},
	} {
		e, out, errb := testEnv("", false)
		run(append([]string{"-chdir", conf}, args...), e)
		outputs.Write(out.Bytes())
		outputs.Write(errb.Bytes())
	}
	if !strings.Contains(outputs.String(), `No secret named "nas"`) || !strings.Contains(outputs.String(), "Re-encrypted 1 secret") {
		t.Fatalf("the commands did not run as expected:\n%s", outputs.String())
	}
	if strings.Contains(outputs.String(), testCanary) {
		t.Fatal("a command printed the plaintext")
	}
	files := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(testCanary)) {
			t.Errorf("%s contains the plaintext", p)
		}
		return nil
	})
	if files < 5 {
		t.Fatalf("only %d files written", files)
	}
}

// The apply-time resolver decrypts lazily with the looked-up identity and
// reports failures by name, never by value.
func TestSecretResolver(t *testing.T) {
	root, conf, identity := secretSetup(t)
	e, _, _ := testEnv("", false)
	e.dir = conf
	e.lookupEnv = func(k string) (string, bool) {
		if k == "ROBO_AGE_IDENTITY" {
			return identity, true
		}
		return "", false
	}
	cfg, err := loadConfig(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newSecretResolver(e, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Wipe()
	p, err := r.ResolveRef(schema.SecretRef{Name: "nas"})
	if err != nil || string(p) != testCanary {
		t.Fatalf("%q, %v", p, err)
	}
	if _, err := r.ResolveRef(schema.SecretRef{Name: "none"}); err == nil || !strings.Contains(err.Error(), `no secret named "none"`) {
		t.Fatalf("missing: %v", err)
	}

	// Another host's identity: a user error naming the secret, with a hint
	// giving this host's public key.
	other := filepath.Join(root, "other.txt")
	e2, out, _ := testEnv("", false)
	run([]string{"secret", "keygen", "-o", other}, e2)
	r2, err := newSecretResolver(e, cfg, other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r2.ResolveRef(schema.SecretRef{Name: "nas"})
	var fe *fatalError
	if !errors.As(err, &fe) || !strings.Contains(fe.msg, `secret "nas"`) || len(fe.hints) == 0 ||
		!strings.Contains(fe.hints[0], strings.TrimSpace(out.String())) {
		t.Fatalf("wrong identity: %#v", err)
	}
	if strings.Contains(fe.msg+strings.Join(fe.hints, ""), testCanary) {
		t.Fatal("the error contains the plaintext")
	}
}

// A marked value must never reach a plan: SecretRef prints as (sensitive).
func TestSecretRefRendering(t *testing.T) {
	ref := schema.SecretRef{Name: "nas"}
	if s := ref.String(); s != "(sensitive)" {
		t.Fatalf("String() = %q", s)
	}
}
