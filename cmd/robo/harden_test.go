//go:build linux

package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWatchNoCoreDump (issue 13): a running robo watch, which holds
// decrypted share passwords, has a core limit of 0 and is not dumpable, and
// when it crashes (SIGABRT with GOTRACEBACK=crash) no core file appears.
//
// Dumpability is read from outside: a non-dumpable process's /proc/PID
// files belong to root. So robo runs as a user other than root (nobody
// when the test runs as root); the test is skipped only when it cannot
// arrange that.
func TestWatchNoCoreDump(t *testing.T) {
	const nobody = 65534
	root := os.Geteuid() == 0
	dir, err := os.MkdirTemp("", "robo-harden-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin", "robo") // testscript.Main runs the test binary as robo by its name
	copyFile(t, exe, bin, 0o755)
	conf, src, dst := writeWatchConfig(t, dir, "")
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644)
	cwd := filepath.Join(dir, "cwd") // where core_pattern "core" would write
	os.MkdirAll(cwd, 0o777)
	os.Chmod(cwd, 0o777)
	if root {
		os.Chmod(dir, 0o755)
		filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err == nil {
				err = os.Lchown(p, nobody, nobody)
			}
			return err
		})
	}

	// The shell raises the core limit and execs robo (same pid), so a core
	// would be written unless robo itself prevents it.
	cmd := exec.Command("sh", "-c", `ulimit -c unlimited && exec "$0" -chdir "$1" watch`, bin, conf)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "GOTRACEBACK=crash")
	if root {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	poll(t, "the start run to converge", 20*time.Second, func() bool { return treesEqual(src, dst) })

	proc := filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid))
	limits, err := os.ReadFile(filepath.Join(proc, "limits"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Max core file size\s+0\s+0\s+bytes`).Match(limits) {
		t.Errorf("robo watch's core limit is not 0:\n%s", limits)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(proc, "status"), &st); err != nil {
		t.Fatal(err)
	}
	status, _ := os.ReadFile(filepath.Join(proc, "status"))
	uid := regexp.MustCompile(`(?m)^Uid:\s+(\d+)`).FindSubmatch(status)
	if uid == nil || string(uid[1]) == "0" {
		t.Fatalf("robo runs as root; dumpability cannot be seen from /proc:\n%s", status)
	}
	if st.Uid != 0 {
		t.Errorf("%s/status belongs to uid %d (robo's own), so robo watch is dumpable", proc, st.Uid)
	}

	// A crash writes no core. First check that this machine writes cores to
	// the working directory at all (core_pattern "core"), with a process
	// that allows them; without that the check proves nothing.
	if !coresLand(t) {
		t.Skip("this machine's core_pattern does not write core files to the working directory; the crash check needs that")
	}
	if err := cmd.Process.Signal(syscall.SIGABRT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err // for the cleanup
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGABRT {
			t.Fatalf("robo watch after SIGABRT: %v, want killed by SIGABRT\n%s", err, out.String())
		}
		if ee.Sys().(syscall.WaitStatus).CoreDump() {
			t.Error("the kernel reports that robo watch dumped core")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("robo watch did not die of SIGABRT")
	}
	ents, _ := os.ReadDir(cwd)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "core") {
			t.Errorf("a core file appeared: %s", e.Name())
		}
	}
	if !strings.Contains(out.String(), "SIGABRT") {
		t.Errorf("robo watch did not crash with a traceback (GOTRACEBACK=crash):\n%s", out.String())
	}
}

// coresLand reports whether a process with an unlimited core limit that
// aborts in a fresh directory leaves a core file there.
func coresLand(t *testing.T) bool {
	b, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil || strings.HasPrefix(string(b), "|") || strings.Contains(string(b), "/") {
		return false
	}
	dir := t.TempDir()
	c := exec.Command("sh", "-c", "ulimit -c unlimited && kill -ABRT $$")
	c.Dir = dir
	c.Run()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "core") {
			return true
		}
	}
	return false
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
