// Package sambatest starts a private Samba server on loopback for tests: a
// free port, an smb.conf and a tdbsam password database under t.TempDir(),
// and smbd in the foreground as a child of the test. Nothing under /etc/samba
// or /var/lib/samba is read or written.
//
// The server has three shares:
//
//   - data: read-write for User, with "force user = root" so that every write
//     succeeds whatever the ownership of the backing directory (DataDir);
//   - ro: read-only for User and Reader (RODir);
//   - private: read-write in smb.conf but backed by a root-owned 0755
//     directory with no force user, so writes by User are denied by Unix
//     permissions (PrivateDir).
//
// User may use data, ro and private; Reader may use ro only (a tree connect
// to data is denied).
//
// Start needs smbd, smbpasswd and useradd and must run as root (CI does). When
// they are missing it skips the test, unless the environment variable
// ROBO_REQUIRE_SAMBA is set, in which case it fails it: set that in CI so a
// broken install cannot pass silently.
package sambatest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Default account names. Every SMB user needs a Unix account of the same
// name; Start creates them (system accounts without a home) when missing.
const (
	DefaultUser   = "robosmb"
	DefaultReader = "robosmbro"
)

// Server is a running smbd.
type Server struct {
	// Host is the address to dial ("127.0.0.1"), Port the TCP port, and Addr
	// both as "127.0.0.1:PORT".
	Host string
	Port int
	Addr string
	// Base is the fixture's directory (smb.conf, run/ and the share dirs).
	Base string
	// DataDir, RODir and PrivateDir back the shares data, ro and private.
	DataDir, RODir, PrivateDir string
	// User and Password may use every share; Reader and ReaderPassword may
	// use ro only. The passwords are random for each Start.
	User, Password         string
	Reader, ReaderPassword string

	t       testing.TB
	conf    string
	opts    Options
	mu      sync.Mutex
	cmd     *exec.Cmd
	paused  bool
	waitErr chan error
}

// Available reports whether this machine can run the fixture (smbd,
// smbpasswd and useradd installed, running as root); when it cannot, the
// reason says why.
func Available() (ok bool, reason string) {
	for _, tool := range []string{"smbd", "smbpasswd"} {
		if _, err := lookPath(tool); err != nil {
			return false, tool + " is not installed (apt-get install samba smbclient)"
		}
	}
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		return false, "the Samba fixture must run as root (it creates Unix accounts and a root-owned share)"
	}
	return true, ""
}

// lookPath finds a tool on PATH or in the sbin directories, which a non-login
// PATH often lacks.
func lookPath(tool string) (string, error) {
	if p, err := exec.LookPath(tool); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, tool)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", tool)
}

// Require skips the test when the fixture cannot run here, or fails it when
// ROBO_REQUIRE_SAMBA is set.
func Require(t testing.TB) {
	t.Helper()
	if ok, why := Available(); !ok {
		if os.Getenv("ROBO_REQUIRE_SAMBA") != "" {
			t.Fatalf("Samba fixture required (ROBO_REQUIRE_SAMBA is set) but unavailable: %s", why)
		}
		t.Skipf("Samba fixture unavailable: %s (set ROBO_REQUIRE_SAMBA=1 to make this a failure)", why)
	}
}

// Options changes the fixture's smb.conf, for tests of server settings.
type Options struct {
	// Global lines are added to [global], Data lines to [data] (for
	// example "wide links = yes", "follow symlinks = no").
	Global, Data []string
	// Privileges are granted to User (net sam rights grant), for
	// example "SeSecurityPrivilege", which reading and writing SACLs
	// needs.
	Privileges []string
}

// NTACLOptions are the [data] lines that make Samba keep NT security
// descriptors as a Windows server does: stored as given in the
// security.NTACL extended attribute (vfs_acl_xattr, which needs a file
// system with security.* attributes: ext4, xfs, btrfs, tmpfs), so that a
// descriptor set is read back byte for byte; owners may be changed
// through the share (its users act as root: force user).
var NTACLOptions = []string{"vfs objects = acl_xattr", "nt acl support = yes", "acl_xattr:ignore system acls = yes"}

// Start starts a server for the test and stops it in t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with extra smb.conf lines.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	Require(t)
	base := t.TempDir()
	s := &Server{
		t:              t,
		Host:           "127.0.0.1",
		Base:           base,
		DataDir:        filepath.Join(base, "data"),
		RODir:          filepath.Join(base, "ro"),
		PrivateDir:     filepath.Join(base, "private"),
		User:           DefaultUser,
		Password:       "Pw-" + randomHex(8),
		Reader:         DefaultReader,
		ReaderPassword: "Rd-" + randomHex(8),
		conf:           filepath.Join(base, "smb.conf"),
		opts:           opts,
	}
	run := filepath.Join(base, "run")
	for _, d := range []string{"lock", "state", "cache", "pid", "private", "ncalrpc", "log"} {
		if err := os.MkdirAll(filepath.Join(run, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{s.DataDir, s.RODir, s.PrivateDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o755)
	}
	// t.TempDir creates 0700 directories; accounts other than root must be
	// able to reach the share directories (as Unix would let them).
	os.Chmod(base, 0o755)
	os.Chmod(filepath.Dir(base), 0o755)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s.Port = port
	s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(port))
	if err := os.WriteFile(s.conf, []byte(s.config()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ name, pw string }{{s.User, s.Password}, {s.Reader, s.ReaderPassword}} {
		if err := ensureUnixUser(u.name); err != nil {
			t.Fatal(err)
		}
		if err := s.addSMBUser(u.name, u.pw); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range opts.Privileges {
		for _, who := range []string{s.User, `Unix User\root`} {
			cmd := exec.Command("net", "-s", s.conf, "sam", "rights", "grant", who, p)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("net sam rights grant %s %s: %v: %s", who, p, err, strings.TrimSpace(string(out)))
			}
		}
	}
	t.Cleanup(s.stop)
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// UNC returns `\\127.0.0.1\share`.
func (s *Server) UNC(share string) string { return `\\` + s.Host + `\` + share }

func (s *Server) config() string {
	b := s.Base
	extra := func(lines []string) string {
		var sb strings.Builder
		for _, l := range lines {
			sb.WriteString("   " + l + "\n")
		}
		return sb.String()
	}
	return fmt.Sprintf(`[global]
   server role = standalone server
   smb ports = %d
   interfaces = lo
   bind interfaces only = yes
   disable netbios = yes
   server min protocol = SMB2_02
   map to guest = never
   restrict anonymous = 2
   passdb backend = tdbsam:%[2]s/run/private/passdb.tdb
   private dir = %[2]s/run/private
   lock directory = %[2]s/run/lock
   state directory = %[2]s/run/state
   cache directory = %[2]s/run/cache
   pid directory = %[2]s/run/pid
   ncalrpc dir = %[2]s/run/ncalrpc
   log file = %[2]s/run/log/smbd.log
   log level = 1
   load printers = no
   printcap name = /dev/null
   disable spoolss = yes
   map archive = no
%[8]s[data]
   path = %[3]s
   read only = no
   valid users = %[4]s
   force user = root
%[9]s[ro]
   path = %[5]s
   read only = yes
   valid users = %[4]s %[6]s
[private]
   path = %[7]s
   read only = no
   valid users = %[4]s
`, s.Port, b, s.DataDir, s.User, s.RODir, s.Reader, s.PrivateDir, extra(s.opts.Global), extra(s.opts.Data))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var userMu sync.Mutex

// ensureUnixUser creates a system account without a home when it is missing.
// Test binaries of several packages may do this at once; useradd then fails
// to lock /etc/passwd, so it is retried.
func ensureUnixUser(name string) error {
	userMu.Lock()
	defer userMu.Unlock()
	var last error
	for i := 0; i < 50; i++ {
		if exec.Command("id", "-u", name).Run() == nil {
			return nil
		}
		useradd, err := lookPath("useradd")
		if err != nil {
			return fmt.Errorf("user %s is missing and useradd is not installed", name)
		}
		out, err := exec.Command(useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
		if err == nil {
			return nil
		}
		last = fmt.Errorf("useradd %s: %v: %s", name, err, strings.TrimSpace(string(out)))
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

func (s *Server) addSMBUser(name, pw string) error {
	smbpasswd, err := lookPath("smbpasswd")
	if err != nil {
		return err
	}
	cmd := exec.Command(smbpasswd, "-c", s.conf, "-a", "-s", name)
	cmd.Stdin = strings.NewReader(pw + "\n" + pw + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		// The output never contains the password (it was on stdin).
		return fmt.Errorf("smbpasswd -a %s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("sambatest: server already running")
	}
	smbd, err := lookPath("smbd")
	if err != nil {
		return err
	}
	out, err := os.OpenFile(filepath.Join(s.Base, "run", "log", "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(smbd, "--foreground", "--no-process-group", "-s", s.conf)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = newProcessGroup()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start smbd: %w", err)
	}
	s.cmd = cmd
	s.waitErr = make(chan error, 1)
	go func(ch chan error) { ch <- cmd.Wait() }(s.waitErr)
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case werr := <-s.waitErr:
			s.cmd = nil
			return fmt.Errorf("smbd exited during start (%v); see %s", werr, s.LogText())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("smbd did not accept on %s within 15s; log: %s", s.Addr, s.LogText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// LogText returns the end of smbd's log, for failure messages.
func (s *Server) LogText() string {
	b, _ := os.ReadFile(filepath.Join(s.Base, "run", "log", "smbd.log"))
	o, _ := os.ReadFile(filepath.Join(s.Base, "run", "log", "stdout.log"))
	b = append(b, o...)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Kill stops the server abruptly (SIGKILL to smbd's whole process group,
// which includes the child serving each client), as when a server dies in
// the middle of a run. Open client connections see a transport error.
func (s *Server) Kill() {
	s.t.Helper()
	s.halt(true, 0)
}

// Restart starts the server again on the same port, with the same
// configuration, accounts and files, after Kill or Stop.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Pause stops the server without ending it (SIGSTOP to smbd's process
// group): connections stay open and the kernel still accepts new ones, but
// nothing is answered, as with a hung server. Resume continues it; the
// test's Cleanup resumes a paused server before stopping it.
func (s *Server) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		pauseGroup(s.cmd.Process.Pid, true)
		s.paused = true
	}
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.paused {
		pauseGroup(s.cmd.Process.Pid, false)
		s.paused = false
	}
}

// Stop stops the server gracefully (TERM, then KILL after a grace period).
func (s *Server) Stop() { s.halt(false, 5*time.Second) }

func (s *Server) stop() {
	s.Resume()
	s.Stop()
	s.killDcerpcd()
}

// halt signals smbd's process group and waits for smbd to exit; after grace
// (if any) it escalates to SIGKILL.
func (s *Server) halt(kill bool, grace time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	pgid := s.cmd.Process.Pid
	signalGroup(pgid, kill)
	var timeout <-chan time.Time
	if grace > 0 {
		timeout = time.After(grace)
	}
	select {
	case <-s.waitErr:
	case <-timeout:
		signalGroup(pgid, true)
		<-s.waitErr
	}
	// The children of the group may outlive the parent briefly, and one
	// that still holds the listening socket would accept the next
	// start's readiness probe and then vanish (TestReconnectOpenFile saw
	// "refused" right after Restart): wait, bounded, until they are gone.
	signalGroup(pgid, true)
	for end := time.Now().Add(5 * time.Second); !groupGone(pgid) && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	s.cmd = nil
	// smbd's pid file is removed on a clean exit only.
	os.Remove(filepath.Join(s.Base, "run", "pid", "smbd.pid"))
}

// killDcerpcd stops samba-dcerpcd, which smbd starts on demand in its own
// session, so killing smbd's process group does not reach it.
func (s *Server) killDcerpcd() {
	pidfile := filepath.Join(s.Base, "run", "pid", "samba-dcerpcd.pid")
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	// Make sure the pid is still samba-dcerpcd before signalling it.
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if !strings.Contains(string(cmdline), "samba-dcerpcd") {
		return
	}
	signalPid(pid, false)
	for i := 0; i < 100; i++ {
		if !alive(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	signalPid(pid, true)
}
