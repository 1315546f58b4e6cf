package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/engine"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// spillFDs counts this process's open descriptors of change-list spill
// files.
func spillFDs(t *testing.T) int { t.Helper(); return tt.OpenFDs(t, ".robo-changes-") }

// A watch run closes the plan it made: with change lists spilling, no
// spill file stays open after the run (a watch of months would otherwise
// hold one per run until the collector found it).
func TestWatchRunClosesItsPlan(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	old := engine.SpillBlockBytes
	engine.SpillBlockBytes = 256
	t.Cleanup(func() { engine.SpillBlockBytes = old })
	conf := twoSetConfig(t)
	for i := range 200 {
		os.WriteFile(filepath.Join(conf, "..", "src-a", fmt.Sprintf("f%03d.txt", i)), []byte("x"), 0o644)
	}
	e, _, _ := testEnv("", false)
	e.dir = conf
	cfg, err := loadConfig(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := spillFDs(t)
	for run := range 2 {
		o := convergeOne(context.Background(), e, cfg, "a", hclog.NewNullLogger(), runWatchers{})
		if !o.OK() {
			t.Fatalf("run %d: %+v", run, o)
		}
		if n := spillFDs(t); n != before {
			t.Fatalf("run %d left %d spill files open (%d before)", run, n, before)
		}
		os.WriteFile(filepath.Join(conf, "..", "src-a", "f000.txt"), []byte(fmt.Sprint(run)), 0o644)
	}
	if _, err := os.Stat(filepath.Join(conf, "..", "dst-a", "f199.txt")); err != nil {
		t.Fatal(err)
	}
}

// A restore's lists of what it copies and keeps are change lists that
// spill like a plan's (issue #22): with tiny blocks the restore still
// copies every file and keeps the newer one, and leaves no spill file open.
func TestRestoreSpilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	old := engine.SpillBlockBytes
	engine.SpillBlockBytes = 128
	t.Cleanup(func() { engine.SpillBlockBytes = old })
	conf, _, dst := backedUp(t)
	for i := range 100 {
		put(t, dst, fmt.Sprintf("many/f%03d.txt", i), fmt.Sprint(i), tt.Base)
	}
	to := filepath.Join(t.TempDir(), "restored")
	put(t, to, "a.txt", "newer in the target", time.Now().Add(48*time.Hour))
	before := spillFDs(t)
	code, out, errb := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-to", to, "-auto-approve")
	if code != exitOK || !strings.Contains(out, "Restored 103 files") || !strings.Contains(out, "= a.txt kept") || !strings.Contains(out, "+ many/f099.txt") {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	if b, err := os.ReadFile(filepath.Join(to, "many", "f057.txt")); err != nil || string(b) != "57" {
		t.Fatalf("f057: %q %v", b, err)
	}
	if n := spillFDs(t); n != before {
		t.Fatalf("the restore left %d spill files open (%d before)", n, before)
	}
}

// robo apply (with a fresh plan and with a saved one, applied or
// refused), robo plan -out and robo show close the plan they made or
// read: with change lists spilling, no spill file stays open after each
// command (robo runs in the test's process), and the files are copied.
func TestApplyAndPlanOutClosePlans(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	old := engine.SpillBlockBytes
	engine.SpillBlockBytes = 256
	t.Cleanup(func() { engine.SpillBlockBytes = old })
	conf := twoSetConfig(t)
	for _, set := range []string{"a", "b"} {
		for i := range 200 {
			os.WriteFile(filepath.Join(conf, "..", "src-"+set, fmt.Sprintf("f%03d.txt", i)), []byte(set), 0o644)
		}
	}
	before := spillFDs(t)
	check := func(what string, code, want int, out, errb string) {
		t.Helper()
		if code != want {
			t.Fatalf("%s: exit %d, want %d: %s %s", what, code, want, out, errb)
		}
		if n := spillFDs(t); n != before {
			t.Fatalf("%s left %d spill files open (%d before)", what, n, before)
		}
	}
	code, out, errb := runRobo(t, "", false, "-chdir", conf, "apply", "-auto-approve", "-target", "a")
	check("robo apply -auto-approve", code, exitOK, out, errb)
	if b, err := os.ReadFile(filepath.Join(conf, "..", "dst-a", "f199.txt")); err != nil || string(b) != "a" {
		t.Fatalf("dst-a/f199.txt: %q %v", b, err)
	}
	planFile := filepath.Join(t.TempDir(), "b.plan")
	code, out, errb = runRobo(t, "", false, "-chdir", conf, "plan", "-target", "b", "-out", planFile)
	check("robo plan -out", code, exitOK, out, errb)
	code, out, errb = runRobo(t, "", false, "-chdir", conf, "show", planFile)
	check("robo show PLANFILE", code, exitOK, out, errb)
	if !strings.Contains(out, "+ New File           1 B  f023.txt") || !strings.Contains(out, "Summary: 201 new files; 201 B to copy") {
		t.Fatalf("robo show: %s", out)
	}
	code, out, errb = runRobo(t, "", false, "-chdir", conf, "apply", planFile)
	check("robo apply PLANFILE", code, exitOK, out, errb)
	if b, err := os.ReadFile(filepath.Join(conf, "..", "dst-b", "f199.txt")); err != nil || string(b) != "b" {
		t.Fatalf("dst-b/f199.txt: %q %v", b, err)
	}
	// A refused saved plan (already applied: the state moved on) is
	// closed too.
	code, out, errb = runRobo(t, "", false, "-chdir", conf, "apply", planFile)
	check("robo apply of a stale PLANFILE", code, exitError, out, errb)
}
