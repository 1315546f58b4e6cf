package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/engine"
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
