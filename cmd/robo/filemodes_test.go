package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// umask0 runs robo with umask 0, so a file robo creates with a wider mode
// than 0600 shows it.
func umask0(args ...string) *exec.Cmd {
	return exec.Command("sh", append([]string{"-c", `umask 0; exec robo "$@"`, "sh"}, args...)...)
}

// Issue 13: every file robo writes beside the state lists private paths
// (the state, the watch status, the audit trail, locks and their holder
// files, hook and run logs, saved plans). Under umask 0, after two applies
// with a hook, a saved plan and a running robo watch, each of them is
// 0600 and the state, logs and locks directories 0700 (docs/safety.md, "Files robo writes").
func TestFilesRoboWritesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	base := t.TempDir()
	conf := filepath.Join(base, "conf")
	os.MkdirAll(conf, 0o755)
	os.MkdirAll(filepath.Join(base, "src"), 0o755)
	os.WriteFile(filepath.Join(base, "src", "f.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(conf, "robo.hcl"), []byte(`backup "a" {
  source      = "../src"
  destination = "../dst"
  before      = ["sh", "-c", "echo before"]
  schedule    = "@every 1h"
}
`), 0o644)
	for _, args := range [][]string{{"apply", "-auto-approve"}, {"apply", "-auto-approve"}, {"plan", "-out", "p.plan"}} {
		if out, err := umask0(append([]string{"-chdir", conf}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("robo %q: %v\n%s", args, err, out)
		}
	}
	watch := umask0("-chdir", conf, "watch")
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		watch.Process.Signal(syscall.SIGTERM)
		watch.Wait()
	}()
	status := filepath.Join(conf, ".robo", "state.json.watch.json")
	poll(t, "the watch status file", 30*time.Second, func() bool { _, err := os.Stat(status); return err == nil })

	seen := map[string]bool{}
	filepath.WalkDir(conf, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // the watch replaces its status file
				t.Error(err)
			}
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(conf, p)
		if d.IsDir() || rel == "robo.hcl" {
			return nil
		}
		seen[filepath.Base(filepath.Dir(rel))+"/"+kindOf(d.Name())] = true
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %o, want 600", rel, fi.Mode().Perm())
		}
		return nil
	})
	for _, d := range []string{".robo", ".robo/logs", ".robo/locks"} {
		if fi, err := os.Stat(filepath.Join(conf, d)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v, want 700", d, fi.Mode(), err)
		}
	}
	// The walk saw each kind of file (so the test checks something).
	for _, want := range []string{"./p.plan", ".robo/state.json", ".robo/state.json.backup", ".robo/state.json.lock",
		".robo/state.json.watch.json", ".robo/state.json.watch.lock", ".robo/audit.jsonl", "locks/a.lock", "logs/hook", "logs/native-run"} {
		if !seen[want] {
			t.Errorf("no %s written (saw %v)", want, seen)
		}
	}
}

// kindOf names a log file by its prefix, any other file by its name.
func kindOf(name string) string {
	for _, p := range []string{"hook", "native-run"} {
		if len(name) > len(p) && name[:len(p)] == p {
			return p
		}
	}
	return name
}
