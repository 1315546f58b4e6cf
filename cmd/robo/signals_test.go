package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/state"
)

// Issue 20: SIGHUP (an ssh session dropping) killed robo apply at once
// (exit 129) without recording the outcome. It is handled like SIGINT: the
// set in progress finishes its files, what finished is recorded, the locks
// are released. A real robo process gets real signals: set "a"'s after
// hook sends its parent, robo, two SIGHUPs (as a dropped session does: the
// terminal's and the shell's), so set "a" has copied everything and set "b"
// has not started.
func TestApplySIGHUPRecordsTheOutcome(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGHUP")
	}
	base := t.TempDir()
	conf := filepath.Join(base, "conf")
	for _, d := range []string{conf, filepath.Join(base, "src", "a"), filepath.Join(base, "src", "b")} {
		os.MkdirAll(d, 0o755)
	}
	for _, f := range []string{"a/1.txt", "a/2.txt", "b/1.txt"} {
		os.WriteFile(filepath.Join(base, "src", f), []byte(f), 0o644)
	}
	hcl := `backup "a" {
  source      = "../src/a"
  destination = "../dst/a"
  after       = ["sh", "-c", "kill -HUP $PPID; sleep 0.5; kill -HUP $PPID; sleep 0.5"]
}

backup "b" {
  source      = "../src/b"
  destination = "../dst/b"
}
`
	os.WriteFile(filepath.Join(conf, "robo.hcl"), []byte(hcl), 0o644)
	cmd := exec.Command("robo", "-chdir", conf, "apply", "-auto-approve")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("robo apply: %v, want exit 1 (interrupted)\n%s", err, out)
	}
	if ee.ExitCode() != 1 {
		t.Fatalf("exit %d (%v), want 1: robo was killed by the signal, not stopped by it\n%s", ee.ExitCode(), ee, out)
	}
	if !strings.Contains(string(out), "robo: hangup: finishing the files in progress and recording the state") {
		t.Errorf("no hangup notice:\n%s", out)
	}
	st := readState(t, filepath.Join(conf, ".robo", "state.json"))
	if a := st.Sets["a"]; a == nil || a.LastRun == nil || a.LastRun.Outcome != state.Success {
		t.Errorf("set a: %+v, want its success recorded\n%s", a, out)
	}
	if b := st.Sets["b"]; b != nil && b.LastRun != nil && b.LastRun.Outcome == state.Success {
		t.Errorf("set b ran to success after the hangup\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(base, "dst", "a", "2.txt")); err != nil {
		t.Errorf("set a's files: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(conf, ".robo", "audit.jsonl"))
	if !strings.Contains(string(b), `"event":"apply.finished"`) {
		t.Errorf("the audit trail has no apply.finished:\n%s", b)
	}
	// The locks were released: the next apply runs and finishes the job.
	os.WriteFile(filepath.Join(conf, "robo.hcl"), []byte(strings.Replace(hcl, `  after       = ["sh", "-c", "kill -HUP $PPID; sleep 0.5; kill -HUP $PPID; sleep 0.5"]`+"\n", "", 1)), 0o644)
	if out, err := exec.Command("robo", "-chdir", conf, "apply", "-auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("the next apply: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(base, "dst", "b", "1.txt")); err != nil {
		t.Errorf("set b after the next apply: %v", err)
	}
}
