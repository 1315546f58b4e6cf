package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/remote/remotetest"
	"github.com/robo-backup/robo/internal/secrets"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// storeConfig writes a configuration whose remote "offsite" is block (the
// remote block's body), with each secret stored as an age secret, and
// returns the config dir, an env that finds the identity, and the
// identity's environment line (for a robo binary).
func storeConfig(t *testing.T, block string, secretValues map[string][]byte, body string) (string, func() *env, string) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o755)
	idPath := filepath.Join(dir, "identity.txt")
	recipient, err := secrets.GenerateIdentity(idPath)
	if err != nil {
		t.Fatal(err)
	}
	hcl := fmt.Sprintf("robo {\n  recipients = [%q]\n}\n\nremote \"offsite\" {\n%s}\n", recipient, block) + body
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
	for name, v := range secretValues {
		if err := f.Set(name, v, rs); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
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
	return conf, mk, secrets.EnvIdentity + "=" + idPath
}

func s3Block(s *remotetest.S3, secretName, extra string) string {
	return fmt.Sprintf(`  type              = "s3"
  endpoint          = %q
  region            = %q
  bucket            = %q
  path_style        = true
  access_key_id     = %q
  secret_access_key = secret(%q)
%s`, s.Endpoint, s.Region, s.Bucket, s.AccessKey, secretName, extra)
}

// containsSecret reports whether secret appears in out or in a file under
// dirs (robo.secrets.json aside).
func containsSecret(t *testing.T, secret, out string, dirs ...string) {
	t.Helper()
	if strings.Contains(out, secret) {
		t.Fatal("the remote's secret appears in robo's output")
	}
	for _, d := range dirs {
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && !strings.HasSuffix(p, "robo.secrets.json") {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
					t.Errorf("the remote's secret appears in %s", p)
				}
			}
			return nil
		})
	}
}

// Mirror a local tree to an S3 bucket (versitygw) and plan again: nothing
// left to do (times are kept to the nanosecond in rclone's mtime
// metadata); verify and verify -checksum match, remote check passes, the
// connection is audited, and the secret key leaks nowhere.
func TestMirrorToS3Remote(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
	s := remotetest.StartS3(t)
	src := filepath.Join(t.TempDir(), "src")
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "alpha", MTime: tt.Base.Add(1500 * time.Millisecond)}, "Größe/日本.txt": tt.File{Content: "unicode"},
		"deep/er/c.bin": tt.File{Content: strings.Repeat("x", 100000)}, "empty": tt.Dir{}})
	conf, mk, _ := storeConfig(t, s3Block(s, "s3-secret", ""), map[string][]byte{"s3-secret": []byte(s.SecretKey)}, fmt.Sprintf(`
backup "up" {
  source      = %q
  destination = "offsite:hosts/web1"
}
`, src))
	code, out := runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	for key, want := range map[string]string{"hosts/web1/a.txt": "alpha", "hosts/web1/Größe/日本.txt": "unicode", "hosts/web1/empty/": ""} {
		r := s.Do(t, "GET", key, nil, nil)
		if r.StatusCode != 200 || string(r.Body) != want {
			t.Errorf("%s: %s", key, r)
		}
	}
	if r := s.Do(t, "HEAD", "hosts/web1/a.txt", nil, nil); r.Header.Get("X-Amz-Meta-Mtime") != "1709294401.500000000" {
		t.Errorf("a.txt's mtime metadata %q", r.Header.Get("X-Amz-Meta-Mtime"))
	}
	code, out2 := runCapture(mk(), "-chdir", conf, "plan", "-detailed-exitcode", "-json")
	if code != exitOK {
		t.Fatalf("second plan: exit %d\n%s", code, out2)
	}
	code, out3 := runCapture(mk(), "-chdir", conf, "verify", "-checksum")
	if code != exitOK {
		t.Fatalf("verify: exit %d\n%s", code, out3)
	}
	code, out4 := runCapture(mk(), "-chdir", conf, "remote", "check", "offsite")
	if code != exitOK || !strings.Contains(out4, "offsite") || strings.Count(out4, "ok") < 3 {
		t.Fatalf("remote check: exit %d\n%s", code, out4)
	}
	trail, err := os.ReadFile(filepath.Join(conf, ".robo", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"event":"remote.connected"`, `"event":"remote.disconnected"`, `"user":"` + s.AccessKey + `"`, `"name":"s3-secret"`} {
		if !bytes.Contains(trail, []byte(want)) {
			t.Errorf("audit trail lacks %s", want)
		}
	}
	containsSecret(t, s.SecretKey, out+out2+out3+out4, conf)
}

// A wrong secret key and an endpoint where nothing answers: the set fails
// with an error that says so, nothing is written to the bucket, remote
// check fails, and the secret is not echoed.
func TestS3RemoteFailures(t *testing.T) {
	s := remotetest.StartS3(t)
	src := filepath.Join(t.TempDir(), "src")
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "a"}})
	body := fmt.Sprintf("backup \"up\" {\n  source = %q\n  destination = \"offsite:up\"\n}\n", src)
	wrong := "canary-wrong-s3-secret-0123456789"
	conf, mk, _ := storeConfig(t, s3Block(s, "s3-secret", ""), map[string][]byte{"s3-secret": []byte(wrong)}, body)
	code, out := runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitError || !strings.Contains(out, "refused the credentials") || !strings.Contains(out, "remote offsite") {
		t.Fatalf("wrong secret: exit %d\n%s", code, out)
	}
	code, out2 := runCapture(mk(), "-chdir", conf, "remote", "check")
	if code != exitError || !strings.Contains(out2, "FAILED") {
		t.Fatalf("remote check: exit %d\n%s", code, out2)
	}
	if r := s.Do(t, "GET", "?list-type=2", nil, nil); bytes.Contains(r.Body, []byte("<Key>")) {
		t.Fatalf("objects written despite the refused key: %s", r)
	}
	containsSecret(t, wrong, out+out2, conf)

	conf, mk, _ = storeConfig(t, s3Block(s, "s3-secret", ""), map[string][]byte{"s3-secret": []byte(s.SecretKey)}, body)
	s.Stop()
	code, out = runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitError || !strings.Contains(out, "nothing answered") {
		t.Fatalf("unreachable: exit %d\n%s", code, out)
	}
}

// kill -9 of robo in the middle of a multipart upload leaves no object at
// the final name (the parts sent are an unfinished upload, invisible), and
// the next apply converges (issue 21).
func TestS3KillMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	robo, err := exec.LookPath("robo")
	if err != nil {
		t.Fatal(err)
	}
	s := remotetest.StartS3(t)
	src := filepath.Join(t.TempDir(), "src")
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<18) // 12 MiB: three parts of 5 MiB
	tt.Create(t, src, tt.Dir{"big.bin": tt.File{Content: string(big)}, "small.txt": tt.File{Content: "s"}})
	limit := "  bwlimit = \"1M\"\n"
	conf, _, idEnv := storeConfig(t, s3Block(s, "s3-secret", limit+"  multipart_threshold = \"5M\"\n  chunk_size = \"5M\"\n"),
		map[string][]byte{"s3-secret": []byte(s.SecretKey)}, fmt.Sprintf("backup \"up\" {\n  source = %q\n  destination = \"offsite:up\"\n  threads = 1\n}\n", src))
	cmd := exec.Command(robo, "-chdir", conf, "apply", "-auto-approve")
	cmd.Env = append(os.Environ(), idEnv)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Mid-upload: the multipart upload of big.bin exists (its first part
	// takes about 5 s at 1 MiB/s).
	deadline := time.Now().Add(60 * time.Second)
	for !bytes.Contains(s.Do(t, "GET", "?uploads", nil, nil).Body, []byte("<Key>up/big.bin</Key>")) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no multipart upload appeared\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	if r := s.Do(t, "HEAD", "up/big.bin", nil, nil); r.StatusCode != 404 {
		t.Fatalf("an object is at the final name after the kill: %s", r.Status)
	}
	main := filepath.Join(conf, "main.hcl")
	b, _ := os.ReadFile(main)
	os.WriteFile(main, bytes.Replace(b, []byte(limit), nil, 1), 0o644)
	again := exec.Command(robo, "-chdir", conf, "apply", "-auto-approve")
	again.Env = cmd.Env
	out2, err := again.CombinedOutput()
	if err != nil {
		t.Fatalf("second apply: %v\n%s", err, out2)
	}
	if r := s.Do(t, "GET", "up/big.bin", nil, nil); r.StatusCode != 200 || !bytes.Equal(r.Body, big) {
		t.Fatalf("big.bin after the second apply: %s (%d bytes)", r.Status, len(r.Body))
	}
	plan := exec.Command(robo, "-chdir", conf, "plan", "-detailed-exitcode")
	plan.Env = cmd.Env
	if out3, err := plan.CombinedOutput(); err != nil {
		t.Fatalf("plan after converging: %v\n%s", err, out3)
	}
}

func azureBlock(s *remotetest.Azure, secretName, extra string) string {
	return fmt.Sprintf(`  type      = "azureblob"
  endpoint  = %q
  account   = %q
  container = %q
  key       = secret(%q)
%s`, s.Endpoint, s.Account, s.Container, secretName, extra)
}

// Mirror to Azurite, plan again (nothing to do), verify -checksum, remote
// check; then a wrong key fails the set with nothing written, and a
// stopped server gives "nothing answered". The key leaks nowhere.
func TestAzureRemote(t *testing.T) {
	s := remotetest.StartAzurite(t)
	src := filepath.Join(t.TempDir(), "src")
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "alpha", MTime: tt.Base.Add(1500 * time.Millisecond)}, "Größe/日本.txt": tt.File{Content: "unicode"},
		"deep/er/c.bin": tt.File{Content: strings.Repeat("x", 100000)}, "empty": tt.Dir{}})
	body := fmt.Sprintf("backup \"up\" {\n  source = %q\n  destination = \"offsite:hosts/web1\"\n}\n", src)
	conf, mk, _ := storeConfig(t, azureBlock(s, "az-key", ""), map[string][]byte{"az-key": []byte(s.Key)}, body)
	code, out := runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	if r := s.Do(t, "GET", "hosts/web1/a.txt", nil, nil); r.StatusCode != 200 || string(r.Body) != "alpha" || r.Header.Get("x-ms-meta-mtime") != "2024-03-01T12:00:01.5Z" {
		t.Errorf("a.txt: %s (mtime %q)", r, r.Header.Get("x-ms-meta-mtime"))
	}
	for _, args := range [][]string{{"plan", "-detailed-exitcode"}, {"verify", "-checksum"}, {"remote", "check", "offsite"}} {
		code, o := runCapture(mk(), append([]string{"-chdir", conf}, args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, o)
		}
		out += o
	}
	containsSecret(t, s.Key, out, conf)

	wrong := "Y2FuYXJ5LWF6dXJlLWtleS0wMTIzNDU2Nzg5YWJjZGVm"
	conf, mk, _ = storeConfig(t, azureBlock(s, "az-key", ""), map[string][]byte{"az-key": []byte(wrong)},
		strings.Replace(body, "hosts/web1", "other", 1))
	code, out = runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitError || !strings.Contains(out, "refused the credentials") {
		t.Fatalf("wrong key: exit %d\n%s", code, out)
	}
	if r := s.Do(t, "HEAD", "other/a.txt", nil, nil); r.StatusCode != 404 {
		t.Fatalf("written despite the wrong key: %s", r.Status)
	}
	containsSecret(t, wrong, out, conf)
	s.Stop()
	conf, mk, _ = storeConfig(t, azureBlock(s, "az-key", ""), map[string][]byte{"az-key": []byte(s.Key)}, body)
	code, out = runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
	if code != exitError || !strings.Contains(out, "nothing answered") {
		t.Fatalf("unreachable: exit %d\n%s", code, out)
	}
}

// kill -9 mid-upload on Azure: the staged blocks are no blob; the next
// apply converges.
func TestAzureKillMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	robo, err := exec.LookPath("robo")
	if err != nil {
		t.Fatal(err)
	}
	s := remotetest.StartAzurite(t)
	src := filepath.Join(t.TempDir(), "src")
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<18) // 12 MiB
	tt.Create(t, src, tt.Dir{"big.bin": tt.File{Content: string(big)}})
	limit := "  bwlimit = \"1M\"\n"
	conf, _, idEnv := storeConfig(t, azureBlock(s, "az-key", limit+"  multipart_threshold = \"5M\"\n  chunk_size = \"5M\"\n"),
		map[string][]byte{"az-key": []byte(s.Key)}, fmt.Sprintf("backup \"up\" {\n  source = %q\n  destination = \"offsite:up\"\n  threads = 1\n}\n", src))
	cmd := exec.Command(robo, "-chdir", conf, "apply", "-auto-approve")
	cmd.Env = append(os.Environ(), idEnv)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Mid-upload: a staged block of big.bin exists (uncommitted), after
	// the first 5 MiB went at 1 MiB/s.
	deadline := time.Now().Add(60 * time.Second)
	for !bytes.Contains(s.Do(t, "GET", "?restype=container&comp=list&include=uncommittedblobs", nil, nil).Body, []byte("<Name>up/big.bin</Name>")) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no staged block appeared\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if r := s.Do(t, "HEAD", "up/big.bin", nil, nil); r.StatusCode != 404 {
		t.Fatalf("a blob is at the final name after the kill: %s", r.Status)
	}
	main := filepath.Join(conf, "main.hcl")
	b, _ := os.ReadFile(main)
	os.WriteFile(main, bytes.Replace(b, []byte(limit), nil, 1), 0o644)
	again := exec.Command(robo, "-chdir", conf, "apply", "-auto-approve")
	again.Env = cmd.Env
	if out2, err := again.CombinedOutput(); err != nil {
		t.Fatalf("second apply: %v\n%s", err, out2)
	}
	if r := s.Do(t, "GET", "up/big.bin", nil, nil); r.StatusCode != 200 || !bytes.Equal(r.Body, big) {
		t.Fatalf("big.bin after the second apply: %s (%d bytes)", r.Status, len(r.Body))
	}
}
