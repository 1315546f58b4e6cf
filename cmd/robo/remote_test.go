package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/robo-backup/robo/internal/remote"
	"github.com/robo-backup/robo/internal/remote/remotetest"
	"github.com/robo-backup/robo/internal/secrets"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// remoteConfig writes a configuration with an sftp remote "offsite" for a
// real sshd on loopback (remotetest.StartSFTP), its private key as an age
// secret, and a host identity; it returns the config dir and an env that
// finds the identity.
func remoteConfig(t *testing.T, srv *remotetest.SFTP, key []byte, extra, body string) (string, func() *env) {
	t.Helper()
	block := fmt.Sprintf(`remote "offsite" {
  type        = "sftp"
  host        = %q
  port        = %d
  user        = %q
  private_key = secret("offsite-key")
  known_hosts = %q
%s}
`, sftpHost(srv), srv.Port(), srv.User, srv.KnownHostsLine, extra)
	return remoteSecretConfig(t, block+body, map[string][]byte{"offsite-key": key})
}

// remoteSecretConfig writes main.hcl (a robo block with a fresh recipient, then
// hcl) and stores secrets for that recipient; it returns the config dir
// and an env that finds the identity (also written as "env" beside the
// config dir, for robo run as a child process).
func remoteSecretConfig(t *testing.T, hcl string, secrets_ map[string][]byte) (string, func() *env) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o755)
	idPath := filepath.Join(dir, "identity.txt")
	recipient, err := secrets.GenerateIdentity(idPath)
	if err != nil {
		t.Fatal(err)
	}
	hcl = fmt.Sprintf("robo {\n  recipients = [%q]\n}\n\n", recipient) + hcl
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
	for name, v := range secrets_ {
		if err := f.Set(name, v, rs); err != nil {
			t.Fatal(err)
		}
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
// (the canary of issue 21: a remote's credential is in no plan, -json
// output, state, log or audit record). A PEM key is probed by its base64
// body, not its armour lines.
func noSecret(t *testing.T, secret []byte, out string, dirs ...string) {
	t.Helper()
	probe := secret
	if bytes.HasPrefix(secret, []byte("-----BEGIN")) {
		lines := strings.Split(strings.TrimSpace(string(secret)), "\n")
		body := []byte(strings.Join(lines[1:len(lines)-1], ""))
		probe = body[:min(40, len(body))]
	}
	if len(probe) < 8 {
		t.Fatalf("canary %q is too short to be a probe", probe)
	}
	if strings.Contains(out, string(probe)) || strings.Contains(out, string(secret)) {
		t.Fatal("a remote's credential appears in robo's output")
	}
	for _, d := range dirs {
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && !strings.HasSuffix(p, "robo.secrets.json") {
				if b, _ := os.ReadFile(p); bytes.Contains(b, probe) {
					t.Errorf("a remote's credential appears in %s", p)
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

// webdavConfig writes a configuration with a webdav remote "offsite" for
// rclone's WebDAV server on loopback, its password as an age secret.
func webdavConfig(t *testing.T, srv *remotetest.WebDAV, password, extra, body string) (string, func() *env) {
	t.Helper()
	block := fmt.Sprintf(`remote "offsite" {
  type     = "webdav"
  url      = %q
  user     = %q
  password = secret("dav-password")
%s}
`, srv.URL, srv.User, extra)
	return remoteSecretConfig(t, block+body, map[string][]byte{"dav-password": []byte(password)})
}

// Mirror a local tree to a WebDAV remote and plan again: nothing left to
// do (the server keeps its own times; robo's record of the times it gave
// the files is what the plan compares); verify matches, remote check
// passes, connections are audited, and the password leaks nowhere.
func TestMirrorToWebDAVRemote(t *testing.T) {
	srv := remotetest.StartWebDAV(t)
	src := filepath.Join(t.TempDir(), "src")
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "alpha", MTime: tt.Base.Add(1500 * time.Millisecond)}, "Größe/日本.txt": tt.File{Content: "unicode"},
		"deep/er/c.bin": tt.File{Content: strings.Repeat("x", 100000)}, "odd name #1?.txt": tt.File{Content: "odd"}})
	conf, mk := webdavConfig(t, srv, srv.Password, "", fmt.Sprintf(`
backup "up" {
  source      = %q
  destination = "offsite:hosts/web1"
}
`, src))
	// The plan counts what goes to the remote: 4 files of 100,023 bytes
	// (4 requests each), 3 new dirs (2 each, and 3 when their time is
	// set), the root (MKCOL 1, its time 2) and 4 folders' records of
	// times (2 each): 16 + 6 + 9 + 3 + 8, as docs/offsite.md counts them.
	code, out0 := runCapture(mk(), "-chdir", conf, "plan")
	if code != exitOK || !strings.Contains(out0, "Offsite: 4 uploads (97.7 KiB), 0 deletions, about 42 requests to remote offsite (webdav)") {
		t.Fatalf("plan: exit %d\n%s", code, out0)
	}
	code, outJSON := runCapture(mk(), "-chdir", conf, "plan", "-json")
	var doc struct {
		Sets []struct {
			Summary struct {
				Offsite *struct {
					Remote, Type                                    string
					Uploads, UploadBytes, Deletions, Dirs, Requests int64
				} `json:"offsite"`
			} `json:"summary"`
		} `json:"sets"`
	}
	if err := json.Unmarshal([]byte(outJSON), &doc); err != nil || code != exitOK || len(doc.Sets) != 1 || doc.Sets[0].Summary.Offsite == nil {
		t.Fatalf("plan -json: exit %d %v\n%s", code, err, outJSON)
	}
	if o := *doc.Sets[0].Summary.Offsite; o.Remote != "offsite" || o.Type != "webdav" || o.Uploads != 4 || o.Dirs != 3 || o.Deletions != 0 || o.Requests != 42 {
		t.Fatalf("offsite summary %+v", o)
	}
	code, out := runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	dst := filepath.Join(srv.Root, "hosts", "web1")
	ignoreRecord := tt.Options{Ignore: func(p string) bool { return path.Base(p) == remote.TimesRecordName }}
	if d := tt.Diff(noTimes(tt.Snapshot(t, src)), noTimes(tt.Snapshot(t, dst)), ignoreRecord); d != "" {
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
	if code != exitOK || !strings.Contains(out4, "webdav") || strings.Count(out4, "ok") < 3 {
		t.Fatalf("remote check: exit %d\n%s", code, out4)
	}
	// A file changed in the source is uploaded again, and the plan after
	// that is empty again.
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("ALPHA"), 0o644)
	code, out5 := runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitOK {
		t.Fatalf("apply after a change: exit %d\n%s", code, out5)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "a.txt")); string(b) != "ALPHA" {
		t.Fatalf("a.txt on the server: %q\n%s", b, out5)
	}
	if code, out6 := runCapture(mk(), "-chdir", conf, "plan", "-detailed-exitcode"); code != exitOK {
		t.Fatalf("plan after the second apply: exit %d\n%s", code, out6)
	}
	trail, err := os.ReadFile(filepath.Join(conf, ".robo", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"event":"remote.connected"`, `"event":"remote.disconnected"`, `"type":"webdav"`, `"user":"` + srv.User + `"`, `"name":"dav-password"`} {
		if !bytes.Contains(trail, []byte(want)) {
			t.Errorf("audit trail lacks %s", want)
		}
	}
	noSecret(t, []byte(srv.Password), out0+outJSON+out+out2+out3+out4+out5, conf)
}

func noTimes(m map[string]tt.Entry) map[string]tt.Entry {
	for k, e := range m {
		e.MTime, e.Mode = time.Time{}, 0
		m[k] = e
	}
	return m
}

// A wrong password and a server that is not there: the set fails with an
// error that says so, nothing is written, and the password is not echoed.
func TestWebDAVRemoteFailures(t *testing.T) {
	srv := remotetest.StartWebDAV(t)
	src := filepath.Join(t.TempDir(), "src")
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "a"}})
	body := fmt.Sprintf("backup \"up\" {\n  source = %q\n  destination = \"offsite:dst\"\n}\n", src)
	wrong := "canary-webdav-" + srv.Password
	conf, mk := webdavConfig(t, srv, wrong, "", body)
	code, out := runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitError || !strings.Contains(out, "refused the credentials") || !strings.Contains(out, "remote offsite") {
		t.Fatalf("wrong password: exit %d\n%s", code, out)
	}
	code, out2 := runCapture(mk(), "-chdir", conf, "remote", "check")
	if code != exitError || !strings.Contains(out2, "FAILED") {
		t.Fatalf("remote check: exit %d\n%s", code, out2)
	}
	code, out3 := runCapture(mk(), "-chdir", conf, "plan", "-json")
	if code == exitOK {
		t.Fatalf("plan -json with a refused password: exit %d\n%s", code, out3)
	}
	if _, err := os.Stat(filepath.Join(srv.Root, "dst")); !os.IsNotExist(err) {
		t.Fatal("destination created despite the refused password")
	}
	noSecret(t, []byte(wrong), out+out2+out3, conf)

	conf, mk = webdavConfig(t, srv, srv.Password, "", body)
	srv.Stop()
	code, out = runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitError || !strings.Contains(out, "nothing answered") {
		t.Fatalf("unreachable: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(srv.Root, "dst")); !os.IsNotExist(err) {
		t.Fatal("destination created although the server is down")
	}
	noSecret(t, []byte(srv.Password), out, conf)
}

// kill -9 of robo in the middle of a WebDAV upload leaves no partial file
// under the final name (only robo's temporary name, or nothing where the
// server drops an interrupted PUT), and the next apply converges (issue
// 21).
func TestWebDAVKillMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	robo, err := exec.LookPath("robo")
	if err != nil {
		t.Fatal(err)
	}
	srv := remotetest.StartWebDAV(t)
	src := filepath.Join(t.TempDir(), "src")
	dst := filepath.Join(srv.Root, "dst")
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	tt.Create(t, src, tt.Dir{"big.bin": tt.File{Content: string(big)}, "small.txt": tt.File{Content: "s"}})
	conf, _ := webdavConfig(t, srv, srv.Password, "  bwlimit = \"256k\"\n", fmt.Sprintf("backup \"up\" {\n  source = %q\n  destination = \"offsite:dst\"\n  threads = 1\n}\n", src))
	idEnv, _ := os.ReadFile(filepath.Join(filepath.Dir(conf), "env"))
	cmd := exec.Command(robo, "-chdir", conf, "apply", "-auto-approve")
	cmd.Env = append(os.Environ(), string(idEnv))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for seen := false; !seen; {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no temporary upload appeared\n%s", out.String())
		}
		list, _ := filepath.Glob(filepath.Join(dst, ".robo-big.bin.*.tmp"))
		for _, p := range list {
			if fi, err := os.Stat(p); err == nil && fi.Size() > 0 && fi.Size() < int64(len(big)) {
				seen = true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dst, "big.bin")); !os.IsNotExist(err) {
		t.Fatalf("a file is at the final name after the kill: %v", err)
	}
	main := filepath.Join(conf, "main.hcl")
	b, _ := os.ReadFile(main)
	os.WriteFile(main, bytes.Replace(b, []byte("  bwlimit = \"256k\"\n"), nil, 1), 0o644)
	again := exec.Command(robo, "-chdir", conf, "apply", "-auto-approve")
	again.Env = cmd.Env
	out2, err := again.CombinedOutput()
	if err != nil {
		t.Fatalf("second apply: %v\n%s", err, out2)
	}
	ignoreRecord := tt.Options{Ignore: func(p string) bool { return path.Base(p) == remote.TimesRecordName }}
	if d := tt.Diff(noTimes(tt.Snapshot(t, src)), noTimes(tt.Snapshot(t, dst)), ignoreRecord); d != "" {
		t.Fatalf("destination differs after the second apply:\n%s\n%s", d, out2)
	}
	plan := exec.Command(robo, "-chdir", conf, "plan", "-detailed-exitcode")
	plan.Env = cmd.Env
	if out3, err := plan.CombinedOutput(); err != nil {
		t.Fatalf("plan after converging: %v\n%s", err, out3)
	}
}

// Every remote credential is a canary (issue 21): an SFTP private key and
// password, a WebDAV password, an S3 secret_access_key and an Azure key
// appear in no plan, -json output, apply output, status, remote check,
// error message, state, log or audit line, whether or not the remote can
// be reached. The S3 and Azure remotes point at a closed port on loopback
// (and this build may not reach those types at all): the set fails, and
// the secret still shows nowhere.
func TestRemoteCredentialCanaries(t *testing.T) {
	sftpSrv := remotetest.StartSFTP(t)
	dav := remotetest.StartWebDAV(t)
	closed := "http://127.0.0.1:" + strconv.Itoa(closedTCPPort(t))
	// A valid base64 key (the Azure SDK decodes it).
	azureKey := base64.StdEncoding.EncodeToString([]byte("canary-azure-account-key-5b8e41d07c2a"))
	cases := []struct {
		name, block, secret string
		value               []byte
		ok                  bool // the set applies
	}{
		{"SFTPKey", fmt.Sprintf("type = \"sftp\"\n  host = %q\n  port = %d\n  user = %q\n  private_key = secret(\"cred\")\n  known_hosts = %q\n",
			sftpHost(sftpSrv), sftpSrv.Port(), sftpSrv.User, sftpSrv.KnownHostsLine), "cred", sftpSrv.KeyPEM, true},
		{"SFTPWrongKey", fmt.Sprintf("type = \"sftp\"\n  host = %q\n  port = %d\n  user = %q\n  private_key = secret(\"cred\")\n  known_hosts = %q\n",
			sftpHost(sftpSrv), sftpSrv.Port(), sftpSrv.User, sftpSrv.KnownHostsLine), "cred", newSSHKey(t), false},
		{"SFTPPassword", fmt.Sprintf("type = \"sftp\"\n  host = %q\n  port = %d\n  user = %q\n  password = secret(\"cred\")\n  known_hosts = %q\n",
			sftpHost(sftpSrv), sftpSrv.Port(), sftpSrv.User, sftpSrv.KnownHostsLine), "cred", []byte("canary-sftp-password-91c3e7"), false},
		{"WebDAVPassword", fmt.Sprintf("type = \"webdav\"\n  url = %q\n  user = %q\n  password = secret(\"cred\")\n", dav.URL, dav.User),
			"cred", []byte(dav.Password), true},
		{"WebDAVWrongPassword", fmt.Sprintf("type = \"webdav\"\n  url = %q\n  user = %q\n  password = secret(\"cred\")\n", dav.URL, dav.User),
			"cred", []byte("canary-webdav-password-0d7f2a"), false},
		{"S3SecretAccessKey", fmt.Sprintf("type = \"s3\"\n  endpoint = %q\n  region = \"us-east-1\"\n  bucket = \"robo\"\n  path_style = true\n  access_key_id = \"AKIACANARYTEST\"\n  secret_access_key = secret(\"cred\")\n", closed),
			"cred", []byte("canary-s3-secret-access-key-6e2b9f"), false},
		{"AzureKey", fmt.Sprintf("type = \"azureblob\"\n  account = \"devstoreaccount1\"\n  endpoint = %q\n  container = \"robo\"\n  key = secret(\"cred\")\n", closed+"/devstoreaccount1"),
			"cred", []byte(azureKey), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "src")
			tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "a"}, "sub/b.txt": tt.File{Content: "b"}})
			dest := "offsite:canary-" + strings.ToLower(tc.name)
			if strings.HasPrefix(tc.name, "SFTP") {
				dest = "offsite:" + filepath.ToSlash(filepath.Join(t.TempDir(), "dst"))
			}
			hcl := fmt.Sprintf("remote \"offsite\" {\n  %s}\n\nbackup \"up\" {\n  source = %q\n  destination = %q\n}\n", tc.block, src, dest)
			conf, mk := remoteSecretConfig(t, hcl, map[string][]byte{tc.secret: tc.value})
			var all strings.Builder
			for _, args := range [][]string{
				{"plan"}, {"plan", "-json"}, {"apply", "-auto-approve"}, {"apply", "-auto-approve", "-json"},
				{"status"}, {"status", "-json"}, {"remote", "check"}, {"verify"},
			} {
				code, out := runCapture(mk(), append([]string{"-chdir", conf}, args...)...)
				all.WriteString(out)
				if args[0] == "apply" && (code == exitOK) != tc.ok {
					t.Errorf("%v: exit %d, want ok=%v\n%s", args, code, tc.ok, out)
				}
			}
			if !tc.ok && !strings.Contains(all.String(), "remote offsite") {
				t.Errorf("the failure does not name the remote:\n%s", all.String())
			}
			noSecret(t, tc.value, all.String(), conf)
		})
	}
}

func closedTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
