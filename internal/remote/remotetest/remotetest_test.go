package remotetest

import (
	"bytes"
	"encoding/xml"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sftpBatch runs OpenSSH's sftp client against s with a batch file, trusting
// only s.KnownHostsLine, and returns its combined output.
func sftpBatch(t *testing.T, s *SFTP, keyPEM []byte, batch string) (string, error) {
	t.Helper()
	cli, err := exec.LookPath("sftp")
	if err != nil {
		t.Skip("the sftp client is not installed (apt-get install openssh-client)")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	kh := filepath.Join(dir, "known_hosts")
	b := filepath.Join(dir, "batch")
	for name, data := range map[string][]byte{key: keyPEM, kh: []byte(s.KnownHostsLine + "\n"), b: []byte(batch)} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	host, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command(cli, "-b", b, "-P", port, "-i", key,
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "UserKnownHostsFile="+kh, "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
		"-o", "ConnectTimeout=10",
		s.User+"@"+host)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestSFTP(t *testing.T) {
	s := StartSFTP(t)
	local := t.TempDir()
	payload := bytes.Repeat([]byte("robo sftp\n"), 5000)
	if err := os.WriteFile(filepath.Join(local, "up.bin"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(s.Root, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Root, "dir", "there.txt"), []byte("from the server\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	batch := "put " + filepath.Join(local, "up.bin") + " " + s.Root + "/dir/up.bin\n" +
		"ls " + s.Root + "/dir\n" +
		"get " + s.Root + "/dir/there.txt " + filepath.Join(local, "there.txt") + "\n"
	out, err := sftpBatch(t, s, s.KeyPEM, batch)
	if err != nil {
		t.Fatalf("sftp: %v\n%s\nserver: %s", err, out, s.Log())
	}
	got, err := os.ReadFile(filepath.Join(s.Root, "dir", "up.bin"))
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("uploaded file on the server: %d bytes, %v (want %d)", len(got), err, len(payload))
	}
	if !strings.Contains(out, "there.txt") || !strings.Contains(out, "up.bin") {
		t.Errorf("ls did not list both files:\n%s", out)
	}
	back, err := os.ReadFile(filepath.Join(local, "there.txt"))
	if err != nil || string(back) != "from the server\n" {
		t.Errorf("downloaded %q, %v", back, err)
	}
}

func TestSFTPRejectsOtherKey(t *testing.T) {
	s := StartSFTP(t)
	other := StartSFTP(t) // a second server only for a second, unauthorized key
	out, err := sftpBatch(t, s, other.KeyPEM, "ls "+s.Root+"\n")
	if err == nil {
		t.Fatalf("a key not in authorized_keys logged in:\n%s", out)
	}
	if !strings.Contains(out, "Permission denied") {
		t.Errorf("want a permission error, got:\n%s", out)
	}
}

// TestSFTPGoClient logs in with golang.org/x/crypto/ssh the way robo will:
// KeyPEM parsed as a signer, the host key checked against KnownHostsLine,
// the sftp subsystem started.
func TestSFTPGoClient(t *testing.T) {
	s := StartSFTP(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(s.KnownHostsLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check, err := knownhosts.New(kh)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ClientConfig{User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(s.Signer(t))}, HostKeyCallback: check, Timeout: 10 * time.Second}
	c, err := ssh.Dial("tcp", s.Addr, cfg)
	if err != nil {
		t.Fatalf("dial: %v\nserver: %s", err, s.Log())
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.RequestSubsystem("sftp"); err != nil {
		t.Fatalf("sftp subsystem: %v", err)
	}

	// A different host key for the same address must be refused.
	other := StartSFTP(t)
	bad, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	_ = bad
	wrong := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{s.Addr}, other.HostKey)
	if err := os.WriteFile(wrong, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check2, err := knownhosts.New(wrong)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HostKeyCallback = check2
	if c2, err := ssh.Dial("tcp", s.Addr, cfg); err == nil {
		c2.Close()
		t.Fatal("a wrong host key was accepted")
	} else if !strings.Contains(err.Error(), "key mismatch") {
		t.Errorf("want a key mismatch, got %v", err)
	}
}

// TestSFTPStopLeavesNoProcess: Stop ends sshd and the per-connection child
// serving an open session (which calls setsid and so is outside the
// process group), and the port then refuses connections.
func TestSFTPStopLeavesNoProcess(t *testing.T) {
	s := StartSFTP(t)
	cfg := &ssh.ClientConfig{User: s.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(s.Signer(t))},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey), Timeout: 10 * time.Second}
	c, err := ssh.Dial("tcp", s.Addr, cfg)
	if err != nil {
		t.Fatalf("dial: %v\nserver: %s", err, s.Log())
	}
	defer c.Close()
	kids := descendants(s.cmd.Process.Pid)
	if len(kids) == 0 {
		t.Fatal("no child process serves the open connection")
	}
	s.Stop()
	for _, k := range kids {
		if _, err := os.Stat("/proc/" + itoa(k)); err == nil {
			b, _ := os.ReadFile("/proc/" + itoa(k) + "/stat")
			if !strings.Contains(string(b), ") Z ") {
				t.Errorf("process %d survived Stop: %s", k, b)
			}
		}
	}
	if conn, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		conn.Close()
		t.Error("the port still accepts after Stop")
	}
	s.Restart(t)
	c3, err := ssh.Dial("tcp", s.Addr, cfg)
	if err != nil {
		t.Fatalf("after Restart: %v", err)
	}
	c3.Close()
}

type listBucket struct {
	Contents []struct {
		Key  string
		Size int64
	}
}

func TestS3(t *testing.T) {
	s := StartS3(t)
	body := bytes.Repeat([]byte("s3 object\n"), 1000)
	hdr := http.Header{"X-Amz-Meta-Mtime": {"1700000000.5"}}
	if r := s.Do(t, "PUT", "dir/a b+c.txt", body, hdr); r.StatusCode != 200 {
		t.Fatalf("put: %s", r)
	}
	onDisk, err := os.ReadFile(filepath.Join(s.Root, s.Bucket, "dir", "a b+c.txt"))
	if err != nil || !bytes.Equal(onDisk, body) {
		t.Fatalf("object on disk: %d bytes, %v", len(onDisk), err)
	}
	r := s.Do(t, "GET", "dir/a b+c.txt", nil, nil)
	if r.StatusCode != 200 || !bytes.Equal(r.Body, body) {
		t.Fatalf("get: %s (%d bytes)", r.Status, len(r.Body))
	}
	if m := r.Header.Get("X-Amz-Meta-Mtime"); m != "1700000000.5" {
		t.Errorf("metadata mtime = %q", m)
	}
	r = s.Do(t, "GET", "?list-type=2&prefix=dir/", nil, nil)
	var l listBucket
	if err := xml.Unmarshal(r.Body, &l); err != nil || r.StatusCode != 200 {
		t.Fatalf("list: %s %v", r, err)
	}
	if len(l.Contents) != 1 || l.Contents[0].Key != "dir/a b+c.txt" || l.Contents[0].Size != int64(len(body)) {
		t.Errorf("list = %+v", l.Contents)
	}

	// A wrong secret is refused.
	bad := *s
	bad.SecretKey = "wrong" + s.SecretKey
	if r := bad.Do(t, "GET", "?list-type=2", nil, nil); r.StatusCode != 403 {
		t.Errorf("wrong secret: %s", r)
	}
}

type listVersions struct {
	Version []struct {
		Key       string
		VersionId string
		IsLatest  bool
	}
}

func TestS3Versioned(t *testing.T) {
	s := StartS3Versioned(t)
	for _, v := range []string{"one", "two"} {
		if r := s.Do(t, "PUT", "f.txt", []byte(v), nil); r.StatusCode != 200 {
			t.Fatalf("put %s: %s", v, r)
		}
	}
	r := s.Do(t, "GET", "?versions", nil, nil)
	var l listVersions
	if err := xml.Unmarshal(r.Body, &l); err != nil || r.StatusCode != 200 {
		t.Fatalf("list versions: %s %v", r, err)
	}
	if len(l.Version) != 2 {
		t.Fatalf("want 2 versions of f.txt, got %+v", l.Version)
	}
	for _, v := range l.Version {
		if v.IsLatest {
			continue
		}
		old := s.Do(t, "GET", "f.txt?versionId="+v.VersionId, nil, nil)
		if old.StatusCode != 200 || string(old.Body) != "one" {
			t.Errorf("old version: %s", old)
		}
	}
	if cur := s.Do(t, "GET", "f.txt", nil, nil); string(cur.Body) != "two" {
		t.Errorf("current version: %s", cur)
	}
}

type listBlobs struct {
	Blobs struct {
		Blob []struct {
			Name       string
			Properties struct {
				ContentLength int64 `xml:"Content-Length"`
			}
		}
	}
}

func TestAzurite(t *testing.T) {
	s := StartAzurite(t)
	body := bytes.Repeat([]byte("azure blob\n"), 1000)
	hdr := http.Header{"X-Ms-Meta-Mtime": {"1700000000"}}
	if r := s.Do(t, "PUT", "dir/a b.txt", body, hdr); r.StatusCode != 201 {
		t.Fatalf("put: %s", r)
	}
	r := s.Do(t, "GET", "dir/a b.txt", nil, nil)
	if r.StatusCode != 200 || !bytes.Equal(r.Body, body) {
		t.Fatalf("get: %s (%d bytes)", r.Status, len(r.Body))
	}
	if m := r.Header.Get("X-Ms-Meta-Mtime"); m != "1700000000" {
		t.Errorf("metadata mtime = %q", m)
	}
	r = s.Do(t, "GET", "?restype=container&comp=list", nil, nil)
	var l listBlobs
	if err := xml.Unmarshal(r.Body, &l); err != nil || r.StatusCode != 200 {
		t.Fatalf("list: %s %v", r, err)
	}
	if len(l.Blobs.Blob) != 1 || l.Blobs.Blob[0].Name != "dir/a b.txt" || l.Blobs.Blob[0].Properties.ContentLength != int64(len(body)) {
		t.Errorf("list = %+v", l.Blobs.Blob)
	}
	bad := *s
	bad.Key = "d3Jvbmcga2V5" // base64 of "wrong key"
	if r := bad.Do(t, "GET", "?restype=container&comp=list", nil, nil); r.StatusCode != 403 {
		t.Errorf("wrong key: %s", r)
	}
}

type multistatus struct {
	Response []struct {
		Href string `xml:"href"`
	} `xml:"response"`
}

func TestWebDAV(t *testing.T) {
	s := StartWebDAV(t)
	if r := s.Do(t, "MKCOL", "dir", nil, nil); r.StatusCode != 201 {
		t.Fatalf("mkcol: %s", r)
	}
	body := bytes.Repeat([]byte("webdav\n"), 1000)
	if r := s.Do(t, "PUT", "dir/a b.txt", body, nil); r.StatusCode != 201 && r.StatusCode != 204 {
		t.Fatalf("put: %s", r)
	}
	onDisk, err := os.ReadFile(filepath.Join(s.Root, "dir", "a b.txt"))
	if err != nil || !bytes.Equal(onDisk, body) {
		t.Fatalf("file on disk: %d bytes, %v", len(onDisk), err)
	}
	r := s.Do(t, "PROPFIND", "dir/", nil, http.Header{"Depth": {"1"}})
	var ms multistatus
	if err := xml.Unmarshal(r.Body, &ms); err != nil || r.StatusCode != 207 {
		t.Fatalf("propfind: %s %v", r, err)
	}
	found := false
	for _, x := range ms.Response {
		found = found || strings.HasSuffix(x.Href, "/dir/a%20b.txt")
	}
	if !found {
		t.Errorf("propfind did not list the file: %s", r.Body)
	}
	if r := s.Do(t, "GET", "dir/a b.txt", nil, nil); r.StatusCode != 200 || !bytes.Equal(r.Body, body) {
		t.Fatalf("get: %s (%d bytes)", r.Status, len(r.Body))
	}
	bad := *s
	bad.Password = "wrong"
	if r := bad.Do(t, "PROPFIND", "", nil, http.Header{"Depth": {"0"}}); r.StatusCode != 401 {
		t.Errorf("wrong password: %s", r)
	}
}
