// Package sshdtest starts OpenSSH's sshd, unprivileged, on loopback with
// its own host key and authorized_keys, for tests of SFTP remotes. It has
// the shape of remotetest.StartSFTP (internal/remote/remotetest, written on
// another branch): when that lands, replace sshdtest.Start(t) by
// remotetest.StartSFTP(t) and delete this package.
package sshdtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Server is a running sshd (the fields of remotetest.SFTP).
type Server struct {
	Addr           string // 127.0.0.1:PORT
	User           string
	KeyPEM         []byte // the client's private key
	KnownHostsLine string // the server's host key as a known_hosts line
	cmd            *exec.Cmd
}

// Host is the server's address.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port is the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

func sshdPath() string {
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("sshd")
	return p
}

func sftpServerPath() string {
	for _, p := range []string{"/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/libexec/sftp-server"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// NewKey returns a new ed25519 key and its OpenSSH PEM form.
func NewKey(t testing.TB) (ssh.Signer, []byte) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, pem.EncodeToMemory(blk)
}

// Start starts sshd for this test, serving sftp as the current user; it
// skips when sshd is missing unless ROBO_REQUIRE_REMOTES=1.
func Start(t testing.TB) *Server {
	t.Helper()
	sshd, server := sshdPath(), sftpServerPath()
	if sshd == "" || server == "" {
		if os.Getenv("ROBO_REQUIRE_REMOTES") == "1" {
			t.Fatal("sshd or sftp-server is missing (apt-get install openssh-server)")
		}
		t.Skip("sshd is not installed (apt-get install openssh-server)")
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hostSigner, hostPEM := NewKey(t)
	clientSigner, clientPEM := NewKey(t)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hostKey := write("host_key", hostPEM)
	auth := write("authorized_keys", ssh.MarshalAuthorizedKey(clientSigner.PublicKey()))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	conf := write("sshd_config", []byte(strings.Join([]string{
		"ListenAddress " + addr,
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + auth,
		"PidFile none",
		"UsePAM no",
		"StrictModes no",
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"Subsystem sftp " + server,
		"LogLevel ERROR",
		"",
	}, "\n")))
	cmd := exec.Command(sshd, "-D", "-e", "-f", conf)
	cmd.Stderr = &prefixWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	line := fmt.Sprintf("[127.0.0.1]:%s %s", port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hostSigner.PublicKey()))))
	return &Server{Addr: addr, User: u.Username, KeyPEM: clientPEM, KnownHostsLine: line, cmd: cmd}
}

// Stop ends the server: nothing listens on Addr afterwards.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

type prefixWriter struct{ t testing.TB }

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.t.Logf("sshd: %s", strings.TrimSpace(string(b)))
	return len(b), nil
}
