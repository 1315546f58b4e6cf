package remotetest

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SFTP is a running OpenSSH sshd serving SFTP (internal-sftp) on loopback.
type SFTP struct {
	// Addr is "127.0.0.1:PORT".
	Addr string
	// User is the account to log in as: the user running the test (root in
	// CI). Only key authentication is accepted.
	User string
	// KeyPEM is the client's ed25519 private key in OpenSSH PEM form
	// ("-----BEGIN OPENSSH PRIVATE KEY-----"), unencrypted; PublicKey is its
	// authorized_keys line ("ssh-ed25519 AAAA... remotetest").
	KeyPEM    []byte
	PublicKey string
	// KnownHostsLine is the server's host key as a known_hosts line for
	// Addr ("[127.0.0.1]:PORT ssh-ed25519 AAAA...").
	KnownHostsLine string
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey
	// Root is an empty directory for the test to use as the remote tree.
	// There is no chroot: SFTP paths are the absolute paths on this
	// machine, so a remote path is Root+"/...".
	Root string

	*proc
}

// StartSFTP starts Debian's OpenSSH sshd as a child of the test: its own
// config, host key and authorized_keys under t.TempDir(), no PAM, no
// privilege-separation user switch beyond what sshd does itself. It works
// as root (PermitRootLogin prohibit-password, StrictModes no) and as an
// ordinary user.
func StartSFTP(t testing.TB) *SFTP {
	t.Helper()
	sshd, err := findProgram("ROBO_SSHD", []string{"sshd"}, "/usr/sbin", "/sbin", "/usr/local/sbin")
	if err != nil {
		missing(t, "SFTP", err.Error()+" (apt-get install openssh-server)")
	}
	u, err := user.Current()
	if err != nil {
		missing(t, "SFTP", "no current user: "+err.Error())
	}
	if os.Geteuid() == 0 {
		// sshd running as root insists on its privilege-separation
		// directory; Debian's service creates it at boot, a container
		// without the service has none.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	s := &SFTP{User: u.Username, Root: filepath.Join(dir, "root")}
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		t.Fatal(err)
	}

	// Keys: the host's and the client's, both ed25519.
	hostPub, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostPEM := marshalKey(t, hostPriv, "remotetest-host")
	hostKeyFile := filepath.Join(dir, "ssh_host_ed25519_key")
	if err := os.WriteFile(hostKeyFile, hostPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if s.HostKey, err = ssh.NewPublicKey(hostPub); err != nil {
		t.Fatal(err)
	}
	clientPub, clientPriv, _ := ed25519.GenerateKey(rand.Reader)
	s.KeyPEM = marshalKey(t, clientPriv, "remotetest")
	sshPub, err := ssh.NewPublicKey(clientPub)
	if err != nil {
		t.Fatal(err)
	}
	s.PublicKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " remotetest"
	authKeys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authKeys, []byte(s.PublicKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`# remotetest: a private sshd on loopback.
ListenAddress 127.0.0.1
HostKey %s
PidFile none
AuthorizedKeysFile %s
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowUsers %s
PermitTTY no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PrintMotd no
UseDNS no
LogLevel VERBOSE
Subsystem sftp internal-sftp
`, hostKeyFile, authKeys, u.Username)), 0o600); err != nil {
		t.Fatal(err)
	}
	s.proc = launch(t, "sshd", dir, func(port int) ([]string, []string) {
		return []string{sshd, "-f", conf, "-D", "-e", "-p", itoa(port)}, os.Environ()
	}, sshReady)
	s.Addr = "127.0.0.1:" + itoa(s.Port())
	s.KnownHostsLine = knownhosts.Line([]string{s.Addr}, s.HostKey)
	return s
}

// Signer returns the client key as an ssh.Signer.
func (s *SFTP) Signer(t testing.TB) ssh.Signer {
	t.Helper()
	sg, err := ssh.ParsePrivateKey(s.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

func marshalKey(t testing.TB, k ed25519.PrivateKey, comment string) []byte {
	t.Helper()
	b, err := ssh.MarshalPrivateKey(k, comment)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(b)
}

// sshReady succeeds once the server sends its SSH identification line.
func sshReady(port int) error {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+itoa(port), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "SSH-") {
		return fmt.Errorf("unexpected greeting %q", line)
	}
	return nil
}
