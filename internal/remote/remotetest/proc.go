package remotetest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing server
// program from a skip into a failure. CI sets it so that a broken install
// cannot pass silently.
const RequireEnv = "ROBO_REQUIRE_REMOTES"

// startTimeout bounds how long a server may take to answer after it was
// started: generous, because azurite (node) took 40 s to load on a machine
// busy with other builds (about 2 s when idle).
const startTimeout = 120 * time.Second

// missing skips the test, or fails it when RequireEnv is 1, because the
// program for server what cannot run here.
func missing(t testing.TB, what, why string) {
	t.Helper()
	// The servers are Unix programs: on Windows (the Wine run of CI) the
	// test skips whatever RequireEnv says.
	if os.Getenv(RequireEnv) == "1" && runtime.GOOS != "windows" {
		t.Fatalf("%s test server required (%s=1) but unavailable: %s", what, RequireEnv, why)
	}
	t.Skipf("%s test server unavailable: %s (set %s=1 to make this a failure)", what, why, RequireEnv)
}

// findProgram looks for a server program: the path in the environment
// variable env when set (which must then exist), else each name on PATH and
// in dirs.
func findProgram(env string, names []string, dirs ...string) (string, error) {
	if runtime.GOOS == "windows" {
		return "", errors.New("the test servers run on Unix only")
	}
	if p := os.Getenv(env); p != "" {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("$%s=%s is not an executable file", env, p)
		}
		return p, nil
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, d := range dirs {
			if d == "" {
				continue
			}
			p := filepath.Join(d, n)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s not found (set $%s, or put it on PATH)", names[0], env)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago. The
// server may still lose a race for it; launch then tries another.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// proc is one running server program, in its own process group, with its
// standard output and error in a log file.
type proc struct {
	name string
	argv []string
	env  []string
	log  string
	port int
	// ready reports nil once the server answers a request.
	ready func() error

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// launch starts a server on a free port: build returns its command line and
// environment for the port, ready probes it. It retries a few times when the
// server exits during start (another process took the port), and registers
// t.Cleanup to stop it. The log file lives in dir.
func launch(t testing.TB, name, dir string, build func(port int) (argv, env []string), ready func(port int) error) *proc {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		argv, env := build(port)
		p := &proc{
			name:  name,
			argv:  argv,
			env:   env,
			log:   filepath.Join(dir, name+".log"),
			port:  port,
			ready: func() error { return ready(port) },
		}
		if lastErr = p.start(); lastErr == nil {
			t.Cleanup(p.Stop)
			return p
		}
		if !errors.Is(lastErr, errExited) {
			break
		}
	}
	t.Fatal(lastErr)
	return nil
}

var errExited = errors.New("exited during start")

func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = newProcessGroup()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	// done is closed when the process has exited (and been reaped), so
	// that any number of waiters see it.
	done := make(chan struct{})
	var werr error
	go func() { werr = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(startTimeout)
	for {
		err := p.ready()
		if err == nil {
			p.cmd, p.done = cmd, done
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%s %w (%v): %s", p.name, errExited, werr, p.logTail())
		default:
		}
		if time.Now().After(deadline) {
			killTree(cmd.Process.Pid, nil)
			<-done
			return fmt.Errorf("%s did not answer on 127.0.0.1:%d within %v (last probe: %v); its output: %s",
				p.name, p.port, startTimeout, err, p.logTail())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// logTail returns the end of the server's output, for failure messages.
func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	if len(b) == 0 {
		return "(no output)"
	}
	return string(b)
}

// halt signals the whole process tree and waits, bounded, until it is gone.
func (p *proc) halt(grace time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	pid := p.cmd.Process.Pid
	// The descendants are found before any signal: once the parent is gone
	// they are init's children and no longer traceable to it.
	kids := descendants(pid)
	if grace > 0 {
		termGroup(pid)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	killTree(pid, kids)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
	end := time.Now().Add(5 * time.Second)
	for !groupGone(pid) && time.Now().Before(end) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, k := range kids {
		for !pidGone(k) && time.Now().Before(end) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	p.cmd = nil
}

// Stop stops the server (SIGTERM, then SIGKILL to its process group and
// every descendant after a grace period). A stopped server refuses
// connections: tests of an unreachable endpoint use it. Stop is idempotent
// and also runs in the test's Cleanup.
func (p *proc) Stop() { p.halt(3 * time.Second) }

// Kill stops the server abruptly (SIGKILL), as when it dies mid-request.
func (p *proc) Kill() { p.halt(0) }

// Restart starts a stopped server again on the same port with the same
// files. It fails the test when the server does not come back.
func (p *proc) Restart(t testing.TB) {
	t.Helper()
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
}

// Log returns the end of the server's output (stdout and stderr).
func (p *proc) Log() string { return p.logTail() }

// Port returns the server's TCP port on 127.0.0.1.
func (p *proc) Port() int { return p.port }

func itoa(i int) string { return strconv.Itoa(i) }
