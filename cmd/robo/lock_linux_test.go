package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/testtree"
)

// Issue 13: a full disk while taking a set's lock says so, with the path,
// instead of "being applied by another robo process". Real tmpfs of 64
// KiB, filled; skipped when not root (mount needs it).
func TestSetLockFullDisk(t *testing.T) {
	dir := testtree.Tmpfs(t, "64k")
	testtree.Fill(t, dir)
	e, _, _ := testEnv("", false)
	store := &state.Store{Path: filepath.Join(dir, "state.json")}
	unlock, err := setLocker(e, store, "apply", 0)(context.Background(), "docs")
	if err == nil {
		unlock()
		t.Fatal("the set lock was taken on a full file system")
	}
	msg := err.Error()
	if strings.Contains(msg, "another robo process") {
		t.Errorf("a full disk is reported as contention: %s", msg)
	}
	for _, want := range []string{"set docs: cannot take the set lock", "no space left on device", filepath.Join(dir, "locks")} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}

	// Contention is still reported as contention.
	other := &state.Store{Path: filepath.Join(t.TempDir(), "state.json")}
	held, err := other.LockSet(context.Background(), "docs", state.CurrentLockInfo("watch"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	if _, err := setLocker(e, other, "apply", 0)(context.Background(), "docs"); err == nil || !strings.Contains(err.Error(), "set docs is being applied by another robo process") {
		t.Errorf("contention: %v", err)
	}
}
