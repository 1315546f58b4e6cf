package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tmuxSession is a program running in a real terminal: a tmux server of
// the test's own (its socket in a temporary directory), one window.
type tmuxSession struct {
	t    *testing.T
	sock string
}

// startTmux runs argv in a cols x rows terminal in dir, or skips the test
// when tmux is not installed.
func startTmux(t *testing.T, dir string, cols, rows int, argv ...string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("ROBO_REQUIRE_SHELLS") != "" {
			t.Fatal("tmux is not installed (apt-get install tmux) but ROBO_REQUIRE_SHELLS is set")
		}
		t.Skip("tmux is not installed (apt-get install tmux): the terminal tests need it")
	}
	tmp := t.TempDir()
	s := &tmuxSession{t: t, sock: filepath.Join(tmp, "tmux.sock")}
	// Keep the window when the program ends, to read its last screen. Set
	// in the server's configuration, so it holds before the program starts:
	// set afterwards, a program that ends within milliseconds (a small
	// apply) took its window with it.
	cfg := filepath.Join(tmp, "tmux.conf")
	if err := os.WriteFile(cfg, []byte("set-option -g remain-on-exit on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-S", s.sock, "-f", cfg, "new-session", "-d", "-s", "t", "-x", itoa(cols), "-y", itoa(rows), "-c", dir, "--"}, argv...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// send types keys (tmux key names: Tab, Enter, C-u).
func (s *tmuxSession) send(keys ...string) {
	s.t.Helper()
	s.tmux(append([]string{"send-keys", "-t", "t"}, keys...)...)
}

// typeText types literal text.
func (s *tmuxSession) typeText(text string) {
	s.t.Helper()
	s.tmux("send-keys", "-t", "t", "-l", text)
}

// screen is the visible screen, wrapped lines joined, trailing blank lines
// dropped.
func (s *tmuxSession) screen() string {
	s.t.Helper()
	return strings.TrimRight(s.tmux("capture-pane", "-p", "-J", "-t", "t"), "\n ")
}

// waitFor polls the screen until cond holds (at most 30 s, a bound for a
// loaded machine, not a timing being tested) and returns it.
func (s *tmuxSession) waitFor(what string, cond func(screen string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sc := s.screen()
		if cond(sc) {
			return sc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, sc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exited reports whether the program in the window has ended.
func (s *tmuxSession) exited() bool {
	s.t.Helper()
	return strings.TrimSpace(s.tmux("display-message", "-p", "-t", "t", "#{pane_dead}")) == "1"
}

// exitStatus waits for the program to end and returns its exit status.
func (s *tmuxSession) exitStatus() string {
	s.t.Helper()
	s.waitFor("the program to exit", func(string) bool { return s.exited() })
	return strings.TrimSpace(s.tmux("display-message", "-p", "-t", "t", "#{pane_dead_status}"))
}
