package secrets

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needAge skips a test when the age CLI is not installed, unless
// ROBO_REQUIRE_AGE is set (CI installs it), in which case it fails.
func needAge(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"age", "age-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("ROBO_REQUIRE_AGE") != "" {
				t.Fatalf("%s is not installed and ROBO_REQUIRE_AGE is set", tool)
			}
			t.Skipf("%s is not installed (set ROBO_REQUIRE_AGE=1 to make this a failure)", tool)
		}
	}
}

func run(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// A value encrypted with the age CLI (age -a -r) decrypts in robo with the
// age-keygen identity.
func TestAgeCLIToRobo(t *testing.T) {
	needAge(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "key.txt")
	run(t, nil, "age-keygen", "-o", key)
	pub := strings.TrimSpace(string(run(t, nil, "age-keygen", "-y", key)))
	ct := run(t, []byte(canary), "age", "-a", "-r", pub)

	path := filepath.Join(dir, "robo.secrets.json")
	f, _ := Open(path)
	if err := f.SetCiphertext("nas", string(ct), []string{pub}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	g, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := LoadIdentity(key)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := g.Decrypt("nas", ids)
	if err != nil || string(pt) != canary {
		t.Fatalf("%q, %v", pt, err)
	}
}

// robo's ciphertexts decrypt with age -d -i, for a robo identity and for an
// SSH key recipient; robo reads age-keygen's identity files.
func TestRoboToAgeCLI(t *testing.T) {
	needAge(t)
	dir := t.TempDir()
	roboKey := filepath.Join(dir, "robo-id.txt")
	rec, err := GenerateIdentity(roboKey)
	if err != nil {
		t.Fatal(err)
	}
	cliKey := filepath.Join(dir, "cli-id.txt")
	run(t, nil, "age-keygen", "-o", cliKey)
	cliPub := strings.TrimSpace(string(run(t, nil, "age-keygen", "-y", cliKey)))
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	sshKey, sshPub := writeSSHKey(t, dir, "ed25519", edKey)

	rs, err := ParseRecipients([]string{rec, cliPub, sshPub + " ops@example"})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := Open(filepath.Join(dir, "robo.secrets.json"))
	if err := f.Set("nas", []byte(canary), rs); err != nil {
		t.Fatal(err)
	}
	ct := filepath.Join(dir, "nas.age")
	if err := os.WriteFile(ct, []byte(f.secrets["nas"].Value), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{roboKey, cliKey, sshKey} {
		if out := run(t, nil, "age", "-d", "-i", id, ct); string(out) != canary {
			t.Errorf("age -d -i %s: %q", filepath.Base(id), out)
		}
	}
	// The age CLI's public key printed by robo matches age-keygen -y.
	if pub := strings.TrimSpace(string(run(t, nil, "age-keygen", "-y", roboKey))); pub != rec {
		t.Errorf("age-keygen -y of robo's identity = %s, robo printed %s", pub, rec)
	}
}
