package secrets

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"
)

const canary = "canary-plaintext-7f3a9c"

// newIdentity writes a fresh identity file and returns its path, loaded
// identities and recipient.
func newIdentity(t *testing.T, dir, name string) (string, []age.Identity, Recipient) {
	t.Helper()
	p := filepath.Join(dir, name)
	rec, err := GenerateIdentity(p)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := LoadIdentity(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRecipient(rec)
	if err != nil {
		t.Fatal(err)
	}
	return p, ids, r
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	_, ids, rec := newIdentity(t, dir, "id.txt")
	path := filepath.Join(dir, "robo.secrets.json")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set("nas", []byte(canary), []Recipient{rec}); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("web.admin", []byte("other"), []Recipient{rec}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(canary)) {
		t.Fatal("the secrets file contains the plaintext")
	}
	// The format: names and recipients in plain text, armored values, two-space indent.
	var doc struct {
		Version int `json:"version"`
		Secrets map[string]struct {
			Recipients []string `json:"recipients"`
			Value      string   `json:"value"`
		} `json:"secrets"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || len(doc.Secrets) != 2 || !slices.Equal(doc.Secrets["nas"].Recipients, []string{rec.Text}) ||
		!strings.HasPrefix(doc.Secrets["nas"].Value, "-----BEGIN AGE ENCRYPTED FILE-----\n") {
		t.Fatalf("unexpected document:\n%s", raw)
	}
	if !strings.HasPrefix(string(raw), "{\n  \"version\": 1,\n  \"secrets\": {\n    \"nas\": {") {
		t.Fatalf("unexpected layout:\n%s", raw)
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
		t.Errorf("secrets file mode %v, want 0644", fi.Mode())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}

	g, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Names(); !slices.Equal(got, []string{"nas", "web.admin"}) {
		t.Fatalf("Names = %v", got)
	}
	pt, err := g.Decrypt("nas", ids)
	if err != nil {
		t.Fatal(err)
	}
	if string(pt) != canary {
		t.Fatalf("decrypted %q", pt)
	}
	if ok, err := Exists(path, "nas"); !ok || err != nil {
		t.Fatalf("Exists(nas) = %v, %v", ok, err)
	}
	if ok, err := Exists(path, "nope"); ok || err != nil {
		t.Fatalf("Exists(nope) = %v, %v", ok, err)
	}
	if ok, err := Exists(filepath.Join(dir, "missing.json"), "nas"); ok || err != nil {
		t.Fatalf("Exists in a missing file = %v, %v", ok, err)
	}
}

func TestMissingSecret(t *testing.T) {
	dir := t.TempDir()
	_, ids, _ := newIdentity(t, dir, "id.txt")
	f, _ := Open(filepath.Join(dir, "s.json"))
	_, err := f.Decrypt("nas", ids)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nas"`) {
		t.Fatalf("err = %v", err)
	}
	if err := f.Remove("nas"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Remove: %v", err)
	}
}

func TestWrongIdentity(t *testing.T) {
	dir := t.TempDir()
	_, _, recA := newIdentity(t, dir, "a.txt")
	_, idsB, recB := newIdentity(t, dir, "b.txt")
	f, _ := Open(filepath.Join(dir, "s.json"))
	if err := f.Set("nas", []byte(canary), []Recipient{recA}); err != nil {
		t.Fatal(err)
	}
	_, err := f.Decrypt("nas", idsB)
	var de *DecryptError
	if !errors.As(err, &de) || !de.WrongIdentity {
		t.Fatalf("err = %#v", err)
	}
	msg := err.Error()
	for _, want := range []string{`secret "nas"`, "s.json", recA.Text, recB.Text, "cannot be decrypted"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, canary) {
		t.Error("the error contains the plaintext")
	}
}

// Flipping any character of the armored body must fail as damaged, never
// decrypt, never be blamed on the identity, and never leak the plaintext.
func TestTampered(t *testing.T) {
	dir := t.TempDir()
	_, ids, rec := newIdentity(t, dir, "id.txt")
	f, _ := Open(filepath.Join(dir, "s.json"))
	if err := f.Set("nas", []byte(canary), []Recipient{rec}); err != nil {
		t.Fatal(err)
	}
	orig := f.secrets["nas"].Value
	lines := strings.Split(orig, "\n")
	tried := 0
	for li := 1; li < len(lines) && !strings.HasPrefix(lines[li], "-----END"); li++ {
		for ci := range len(lines[li]) {
			if lines[li][ci] == '=' {
				continue
			}
			mod := slices.Clone(lines)
			b := []byte(mod[li])
			if b[ci] == 'A' {
				b[ci] = 'B'
			} else {
				b[ci] = 'A'
			}
			mod[li] = string(b)
			f.secrets["nas"].Value = strings.Join(mod, "\n")
			_, err := f.Decrypt("nas", ids)
			var de *DecryptError
			if !errors.As(err, &de) || de.WrongIdentity {
				t.Fatalf("line %d col %d: err = %v", li, ci, err)
			}
			if !strings.Contains(err.Error(), "damaged or was tampered with") || strings.Contains(err.Error(), canary) {
				t.Fatalf("line %d col %d: message %q", li, ci, err)
			}
			tried++
		}
	}
	if tried < 100 {
		t.Fatalf("only %d positions tried", tried)
	}
}

func TestRekey(t *testing.T) {
	dir := t.TempDir()
	_, idsA, recA := newIdentity(t, dir, "a.txt")
	_, idsB, recB := newIdentity(t, dir, "b.txt")
	path := filepath.Join(dir, "s.json")
	f, _ := Open(path)
	for _, n := range []string{"one", "two"} {
		if err := f.Set(n, []byte(canary+n), []Recipient{recA}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Decrypt("one", idsB); err == nil {
		t.Fatal("B decrypts before being added")
	}
	if !f.Stale("one", []Recipient{recA, recB}) || f.Stale("one", []Recipient{recA}) {
		t.Fatal("Stale is wrong")
	}
	// Add B: A re-encrypts to both.
	if err := f.Rekey(idsA, []Recipient{recA, recB}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"one", "two"} {
		for _, ids := range [][]age.Identity{idsA, idsB} {
			if p, err := f.Decrypt(n, ids); err != nil || string(p) != canary+n {
				t.Fatalf("%s: %q, %v", n, p, err)
			}
		}
	}
	// Remove A: B re-encrypts to itself only; A can no longer read.
	if err := f.Rekey(idsB, []Recipient{recB}); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	g, _ := Open(path)
	var de *DecryptError
	if _, err := g.Decrypt("one", idsA); !errors.As(err, &de) || !de.WrongIdentity {
		t.Fatalf("A after removal: %v", err)
	}
	if p, err := g.Decrypt("two", idsB); err != nil || string(p) != canary+"two" {
		t.Fatalf("B: %q, %v", p, err)
	}
	// A rekey that cannot decrypt everything changes nothing.
	before := slices.Clone(g.RecipientsOf("one"))
	if err := g.Rekey(idsA, []Recipient{recA}); err == nil {
		t.Fatal("rekey with a wrong identity succeeded")
	}
	if !slices.Equal(g.RecipientsOf("one"), before) {
		t.Fatal("a failed rekey changed the file")
	}
}

func TestIdentityPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows uses ACLs, not mode bits")
	}
	dir := t.TempDir()
	p, _, _ := newIdentity(t, dir, "id.txt")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("keygen wrote mode %v", fi.Mode())
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadIdentity(p)
		var pe *PermissionError
		if !errors.As(err, &pe) || pe.Hint() != "chmod 600 "+p || !strings.Contains(err.Error(), p) {
			t.Fatalf("mode %v: err = %v", mode, err)
		}
	}
	if err := os.Chmod(p, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadIdentity(p); err != nil {
		t.Fatalf("mode 0400: %v", err)
	}
	if _, err := GenerateIdentity(p); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("keygen over an existing file: %v", err)
	}
	if _, err := LoadIdentity(filepath.Join(dir, "none.txt")); !errors.Is(err, ErrNoIdentityFile) {
		t.Fatalf("missing: %v", err)
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("AGE-SECRET-KEY-1NOTAKEY\n"), 0o600)
	if _, err := LoadIdentity(bad); err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "NOTAKEY") {
		t.Fatalf("bad identity: %v", err)
	}
}

func TestFindIdentity(t *testing.T) {
	def := DefaultIdentityPath()
	for _, c := range []struct{ flag, env, conf, want, from string }{
		{"f", "e", "c", "f", "-identity"},
		{"", "e", "c", "e", EnvIdentity},
		{"", "", "c", "c", "robo { identity }"},
		{"", "", "", def, "the default location"},
	} {
		got := FindIdentity(c.flag, c.env, c.conf)
		if got.Path != c.want || got.From != c.from {
			t.Errorf("FindIdentity(%q, %q, %q) = %+v", c.flag, c.env, c.conf, got)
		}
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if got := defaultIdentityPath("windows", env(map[string]string{"ProgramData": `D:\PD`})); got != `D:\PD\robo\identity.txt` {
		t.Errorf("windows: %s", got)
	}
	if got := defaultIdentityPath("windows", env(nil)); got != `C:\ProgramData\robo\identity.txt` {
		t.Errorf("windows without ProgramData: %s", got)
	}
	if got := defaultIdentityPath("linux", env(nil)); got != "/etc/robo/identity.txt" {
		t.Errorf("linux: %s", got)
	}
}

func TestParseRecipient(t *testing.T) {
	_, _, rec := newIdentity(t, t.TempDir(), "id.txt")
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	spk, _ := ssh.NewPublicKey(pub)
	sshLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(spk)))
	for _, c := range []struct {
		in, text, err string
	}{
		{rec.Text, rec.Text, ""},
		{sshLine + " admin@host", sshLine, ""},
		{"age1qqqq", "", "malformed age recipient"},
		{"AGE-SECRET-KEY-1QQQQ", "", "private key"},
		{"ssh-ed25519 AAAAnotbase64", "", "malformed SSH public key"},
		{"ssh-dss AAAA", "", "unknown recipient type"},
	} {
		r, err := ParseRecipient(c.in)
		switch {
		case c.err == "" && (err != nil || r.Text != c.text):
			t.Errorf("%q: %+v, %v", c.in, r.Text, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: err = %v, want %q", c.in, err, c.err)
		case c.err != "" && strings.Contains(err.Error(), "QQQQ"):
			t.Errorf("%q: the error repeats the input: %v", c.in, err)
		}
	}
	rs, err := ParseRecipients([]string{rec.Text, rec.Text, sshLine})
	if err != nil || len(rs) != 2 {
		t.Fatalf("ParseRecipients: %d, %v", len(rs), err)
	}
	if _, err := ParseRecipients([]string{rec.Text, "nope"}); err == nil || !strings.Contains(err.Error(), "recipient 2") {
		t.Fatalf("bad list: %v", err)
	}
}

// SSH keys work as recipients and identities (ed25519 and RSA).
func TestSSHKeys(t *testing.T) {
	dir := t.TempDir()
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]any{"ed25519": edKey, "rsa": rsaKey} {
		t.Run(name, func(t *testing.T) {
			p, line := writeSSHKey(t, dir, name, key)
			rec, err := ParseRecipient(line + " someone@example")
			if err != nil {
				t.Fatal(err)
			}
			ids, err := LoadIdentity(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := Recipients(ids); !slices.Equal(got, []string{rec.Text}) {
				t.Fatalf("identity recipient %v, want %s", got, rec.Text)
			}
			f, _ := Open(filepath.Join(dir, name+".json"))
			if err := f.Set("x", []byte(canary), []Recipient{rec}); err != nil {
				t.Fatal(err)
			}
			if pt, err := f.Decrypt("x", ids); err != nil || string(pt) != canary {
				t.Fatalf("%q, %v", pt, err)
			}
		})
	}
}

func writeSSHKey(t *testing.T, dir, name string, key any) (path, authorized string) {
	t.Helper()
	blk, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "id_"+name)
	if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem.EncodeToMemory(blk))
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
}

func TestPassphraseSSHKeyRefused(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKeyWithPassphrase(key, "", []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id")
	os.WriteFile(p, pem.EncodeToMemory(blk), 0o600)
	if _, err := LoadIdentity(p); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("err = %v", err)
	}
}

func TestOpenInvalid(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"syntax":  `{"version":1,`,
		"version": `{"version":2,"secrets":{}}`,
		"name":    `{"version":1,"secrets":{"bad name":{"recipients":[],"value":"-----BEGIN AGE ENCRYPTED FILE-----\n"}}}`,
		"value":   `{"version":1,"secrets":{"nas":{"recipients":[],"value":"hunter2"}}}`,
		"field":   `{"version":1,"secrets":{},"extra":1}`,
	} {
		p := filepath.Join(dir, name+".json")
		os.WriteFile(p, []byte(content), 0o644)
		_, err := Open(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error repeats the value", name)
		}
	}
}

func TestSetRefuses(t *testing.T) {
	_, _, rec := newIdentity(t, t.TempDir(), "id.txt")
	f, _ := Open(filepath.Join(t.TempDir(), "s.json"))
	for _, c := range []struct {
		name  string
		value []byte
		recs  []Recipient
	}{
		{"bad name", []byte("x"), []Recipient{rec}},
		{"../x", []byte("x"), []Recipient{rec}},
		{"ok", nil, []Recipient{rec}},
		{"ok", []byte("x"), nil},
		{"ok", make([]byte, MaxValueSize+1), []Recipient{rec}},
	} {
		if err := f.Set(c.name, c.value, c.recs); err == nil {
			t.Errorf("Set(%q, %d bytes, %d recipients) succeeded", c.name, len(c.value), len(c.recs))
		}
	}
}

func TestResolver(t *testing.T) {
	dir := t.TempDir()
	_, ids, rec := newIdentity(t, dir, "id.txt")
	f, _ := Open(filepath.Join(dir, "s.json"))
	f.Set("nas", []byte(canary), []Recipient{rec})
	calls := 0
	r := NewResolver(f, func() ([]age.Identity, error) { calls++; return ids, nil })
	if calls != 0 {
		t.Fatal("identities loaded eagerly")
	}
	for range 3 {
		p, err := r.Resolve("nas")
		if err != nil || string(p) != canary {
			t.Fatalf("%q, %v", p, err)
		}
		clear(p) // the caller's copy
	}
	if calls != 1 {
		t.Fatalf("identities loaded %d times", calls)
	}
	if _, err := r.Resolve("none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	r.Wipe()
	noID := NewResolver(f, func() ([]age.Identity, error) { return nil, errors.New("no identity") })
	if _, err := noID.Resolve("nas"); err == nil || err.Error() != "no identity" {
		t.Fatalf("no identity: %v", err)
	}
}
