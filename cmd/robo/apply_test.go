package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/state"
)

// testConfig writes a one-set configuration and a source tree, and returns
// the config dir and the destination.
func testConfig(t *testing.T) (conf, dst string) {
	t.Helper()
	dir := t.TempDir()
	conf, dst = filepath.Join(dir, "conf"), filepath.Join(dir, "dst")
	os.MkdirAll(conf, 0o755)
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src", "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte("backup \"docs\" {\n  source = \"../src\"\n  destination = \"../dst\"\n}\n"), 0o644)
	return conf, dst
}

func testEnv(stdin string, interactive bool) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, interactive: interactive,
		lookupEnv: func(string) (string, bool) { return "", false }, ctx: context.Background()}, &out, &errb
}

func TestApplyLockContention(t *testing.T) {
	conf, dst := testConfig(t)
	store := &state.Store{Path: filepath.Join(conf, ".robo", "state.json")}
	holder := state.CurrentLockInfo("apply")
	lock, err := store.Lock(context.Background(), holder, 0)
	if err != nil {
		t.Fatal(err)
	}
	e, _, stderr := testEnv("", false)
	if code := run([]string{"-chdir", conf, "apply", "-auto-approve"}, e); code != exitError {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, want := range []string{"is locked by apply (pid ", " on " + holder.Host, "robo: hint: wait for it to finish, or pass -lock-timeout"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatal("destination touched while the state was locked")
	}
	// -lock-timeout waits for the holder.
	go func() {
		time.Sleep(300 * time.Millisecond)
		lock.Unlock()
	}()
	e, _, stderr = testEnv("", false)
	if code := run([]string{"-chdir", conf, "apply", "-auto-approve", "-lock-timeout", "10s"}, e); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "a.txt")); err != nil || string(b) != "a" {
		t.Fatalf("a.txt: %q %v", b, err)
	}
}

func TestApplyConfirmation(t *testing.T) {
	conf, dst := testConfig(t)
	e, out, _ := testEnv("no\n", true)
	if code := run([]string{"-chdir", conf, "apply"}, e); code != exitError {
		t.Fatalf("exit %d after 'no'", code)
	}
	if !strings.Contains(out.String(), "Only 'yes' will be accepted") {
		t.Fatalf("no prompt: %s", out)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatal("applied after 'no'")
	}
	e, out, errb := testEnv("yes\n", true)
	if code := run([]string{"-chdir", conf, "apply"}, e); code != exitOK {
		t.Fatalf("exit %d after 'yes': %s %s", code, out, errb)
	}
	if _, err := os.Stat(filepath.Join(dst, "a.txt")); err != nil {
		t.Fatal(err)
	}
}
