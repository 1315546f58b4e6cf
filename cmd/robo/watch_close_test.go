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
// files (nameless: "/.robo-changes-… (deleted)").
func spillFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.Contains(l, ".robo-changes-") {
			n++
		}
	}
	return n
}

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
