package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/robo-backup/robo/internal/remote/remotetest"
	"github.com/robo-backup/robo/internal/secrets"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// remoteConfig writes a configuration with an sftp remote "offsite" for a
// real sshd on loopback (remotetest.StartSFTP), its
// private key as an age secret, and a host identity; it returns the config
// dir and an env that finds the identity.
func remoteConfig(t *testing.T, srv *remotetest.SFTP, key []byte, extra, body string) (string, func() *env) {
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

remote "offsite" {
  type        = "sftp"
  host        = %q
  port        = %d
  user        = %q
  private_key = secret("offsite-key")
  known_hosts = %q
%s}
`, recipient, sftpHost(srv), srv.Port(), srv.User, srv.KnownHostsLine, extra) + body
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
	if err := f.Set("offsite-key", key, rs); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "env"), []byte(secrets.EnvIdentity+"="+idPath), 0o644)
	mk := func() *env {
		e, _, _ := testEnv("", false)
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

// sftpHost is the host part of the server's Addr.
func sftpHost(srv *remotetest.SFTP) string {
	h, _, err := net.SplitHostPort(srv.Addr)
	if err != nil {
		panic(err)
	}
	return h
}

// newSSHKey returns a fresh ed25519 private key in OpenSSH PEM form that
// no server knows (the wrong-key cases).
func newSSHKey(t *testing.T) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(blk)
}

// noSecret fails when the secret appears in out or in any file under dirs
// (the canary of issue 21: an SFTP private key is in no plan, -json output,
// state, log or audit record).
func noSecret(t *testing.T, secret []byte, out string, dirs ...string) {
	t.Helper()
	// The key's base64 body, not its armour lines.
	lines := strings.Split(strings.TrimSpace(string(secret)), "\n")
	body := []byte(strings.Join(lines[1:len(lines)-1], ""))
	probe := body[:min(40, len(body))]
	if strings.Contains(out, string(probe)) || strings.Contains(out, string(secret)) {
		t.Fatal("the remote's private key appears in robo's output")
	}
	for _, d := range dirs {
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && !strings.HasSuffix(p, "robo.secrets.json") {
				if b, _ := os.ReadFile(p); bytes.Contains(b, probe) {
					t.Errorf("the remote's private key appears in %s", p)
				}
			}
			return nil
		})
	}
}

// Mirror a local tree to an SFTP remote and plan again: nothing left to do
// (times are kept in whole seconds there and compared so); verify matches,
// remote check passes, every connection is audited, and the private key
// leaks nowhere.
func TestMirrorToSFTPRemote(t *testing.T) {
	srv := remotetest.StartSFTP(t)
	src := filepath.Join(t.TempDir(), "src")
	dst := filepath.Join(t.TempDir(), "dst")
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "alpha", MTime: tt.Base.Add(1500 * time.Millisecond)}, "Größe/日本.txt": tt.File{Content: "unicode"},
		"deep/er/c.bin": tt.File{Content: strings.Repeat("x", 100000)}})
	conf, mk := remoteConfig(t, srv, srv.KeyPEM, "", fmt.Sprintf(`
backup "up" {
  source      = %q
  destination = "offsite:%s"
}
`, src, dst))
	code, out := runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	if d := tt.Diff(truncTimes(tt.Snapshot(t, src)), tt.Snapshot(t, dst), tt.Options{}); d != "" {
		t.Fatalf("destination differs:\n%s", d)
	}
	code, out2 := runCapture(mk(), "-chdir", conf, "plan", "-detailed-exitcode", "-json")
	if code != exitOK {
		t.Fatalf("second plan: exit %d\n%s", code, out2)
	}
	code, out3 := runCapture(mk(), "-chdir", conf, "verify")
	if code != exitOK {
		t.Fatalf("verify: exit %d\n%s", code, out3)
	}
	code, out4 := runCapture(mk(), "-chdir", conf, "remote", "check")
	if code != exitOK || !strings.Contains(out4, "offsite") || strings.Count(out4, "ok") < 3 {
		t.Fatalf("remote check: exit %d\n%s", code, out4)
	}
	trail, err := os.ReadFile(filepath.Join(conf, ".robo", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"event":"remote.connected"`, `"event":"remote.disconnected"`, `"remote":"offsite"`, `"user":"` + srv.User + `"`, `"name":"offsite-key"`} {
		if !bytes.Contains(trail, []byte(want)) {
			t.Errorf("audit trail lacks %s", want)
		}
	}
	noSecret(t, srv.KeyPEM, out+out2+out3+out4, conf)
}

func truncTimes(m map[string]tt.Entry) map[string]tt.Entry {
	for k, e := range m {
		e.MTime = e.MTime.Truncate(time.Second)
		m[k] = e
	}
	return m
}

// A key the server does not accept, and a server that is not there: the
// set fails with an error that says so, the destination is not created,
// and the key is not echoed.
func TestSFTPRemoteFailures(t *testing.T) {
	srv := remotetest.StartSFTP(t)
	wrong := newSSHKey(t)
	src := filepath.Join(t.TempDir(), "src")
	dst := filepath.Join(t.TempDir(), "dst")
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "a"}})
	body := fmt.Sprintf("backup \"up\" {\n  source = %q\n  destination = \"offsite:%s\"\n}\n", src, dst)
	conf, mk := remoteConfig(t, srv, wrong, "", body)
	code, out := runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitError || !strings.Contains(out, "refused the credentials") || !strings.Contains(out, "remote offsite") {
		t.Fatalf("wrong key: exit %d\n%s", code, out)
	}
	code, out2 := runCapture(mk(), "-chdir", conf, "remote", "check")
	if code != exitError || !strings.Contains(out2, "FAILED") {
		t.Fatalf("remote check: exit %d\n%s", code, out2)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatal("destination created despite the refused key")
	}
	noSecret(t, wrong, out+out2, conf)

	// Unreachable: the server is stopped.
	conf, mk = remoteConfig(t, srv, srv.KeyPEM, "", body)
	srv.Stop()
	code, out = runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitError || !strings.Contains(out, "nothing answered") {
		t.Fatalf("unreachable: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatal("destination created although the server is down")
	}
}

// kill -9 of robo in the middle of an upload leaves no partial file under
// a final name on the remote (only robo's temporary name), and the next
// apply converges and removes the temporary file (issue 21).
func TestSFTPKillMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	robo, err := exec.LookPath("robo")
	if err != nil {
		t.Fatal(err)
	}
	srv := remotetest.StartSFTP(t)
	src := filepath.Join(t.TempDir(), "src")
	dst := filepath.Join(t.TempDir(), "dst")
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	tt.Create(t, src, tt.Dir{"big.bin": tt.File{Content: string(big)}, "small.txt": tt.File{Content: "s"}})
	// 256k a second: the upload takes about 16 s, plenty of time to kill it.
	conf, _ := remoteConfig(t, srv, srv.KeyPEM, "  bwlimit = \"256k\"\n", fmt.Sprintf("backup \"up\" {\n  source = %q\n  destination = \"offsite:%s\"\n  threads = 1\n}\n", src, dst))
	idEnv, _ := os.ReadFile(filepath.Join(filepath.Dir(conf), "env"))
	cmd := exec.Command(robo, "-chdir", conf, "apply", "-auto-approve")
	cmd.Env = append(os.Environ(), string(idEnv))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	var tmp string
	for tmp == "" {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no temporary upload appeared\n%s", out.String())
		}
		list, _ := filepath.Glob(filepath.Join(dst, ".robo-big.bin.*.tmp"))
		for _, p := range list {
			if fi, err := os.Stat(p); err == nil && fi.Size() > 0 && fi.Size() < int64(len(big)) {
				tmp = p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dst, "big.bin")); !os.IsNotExist(err) {
		t.Fatalf("a file is at the final name after the kill: %v", err)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("the partial upload is not under its temporary name: %v", err)
	}
	// Converge, without the bandwidth limit (rewrite the remote block).
	main := filepath.Join(conf, "main.hcl")
	b, _ := os.ReadFile(main)
	os.WriteFile(main, bytes.Replace(b, []byte("  bwlimit = \"256k\"\n"), nil, 1), 0o644)
	again := exec.Command(robo, "-chdir", conf, "apply", "-auto-approve")
	again.Env = cmd.Env
	out2, err := again.CombinedOutput()
	if err != nil {
		t.Fatalf("second apply: %v\n%s", err, out2)
	}
	if d := tt.Diff(truncTimes(tt.Snapshot(t, src)), tt.Snapshot(t, dst), tt.Options{}); d != "" {
		t.Fatalf("destination differs after the second apply:\n%s\n%s", d, out2)
	}
}
