package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadMissing(t *testing.T) {
	st := &Store{Path: filepath.Join(t.TempDir(), "x", "state.json")}
	s, err := st.Read()
	if s != nil || err != nil {
		t.Fatalf("%v %v", s, err)
	}
}

func TestWriteReadBackup(t *testing.T) {
	st := &Store{Path: filepath.Join(t.TempDir(), ".robo", "state.json")}
	s := New()
	s.Sets["docs"] = &Set{Name: "docs", ConfigDigest: "abc", Source: "/a", Destination: "/b", Mode: "mirror",
		LastRun: &Run{Outcome: Success, FilesCopied: 3, BytesCopied: 10, Duration: time.Second}}
	if err := st.Write(s); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(st.BackupPath()); !os.IsNotExist(err) {
		t.Fatal("backup written for the first state")
	}
	s.Sets["docs"].ConfigDigest = "def"
	if err := st.Write(s); err != nil {
		t.Fatal(err)
	}
	got, err := st.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial != 2 || got.Lineage != s.Lineage || got.Sets["docs"].ConfigDigest != "def" || got.Sets["docs"].LastRun.FilesCopied != 3 {
		t.Fatalf("%+v", got)
	}
	prev, err := os.ReadFile(st.BackupPath())
	if err != nil {
		t.Fatal(err)
	}
	old, err := Decode(prev)
	if err != nil || old.Serial != 1 || old.Sets["docs"].ConfigDigest != "abc" {
		t.Fatalf("backup %+v %v", old, err)
	}
	// A third write: the backup is the second version, the state the
	// third (the backup is a second name of the old file, never of the new).
	s.Sets["docs"].ConfigDigest = "ghi"
	if err := st.Write(s); err != nil {
		t.Fatal(err)
	}
	prev, _ = os.ReadFile(st.BackupPath())
	if old, err := Decode(prev); err != nil || old.Serial != 2 || old.Sets["docs"].ConfigDigest != "def" {
		t.Fatalf("backup after the third write %+v %v", old, err)
	}
	if got, err := st.Read(); err != nil || got.Serial != 3 || got.Sets["docs"].ConfigDigest != "ghi" {
		t.Fatalf("state after the third write %+v %v", got, err)
	}
	// No temp files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(st.Path))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{`:                           "not a valid state file",
		`{"version":9,"lineage":"x"}`: "version 9 is not supported",
		`{"version":1}`:               "no lineage",
		`{"version":1,"lineage":"x","sets":{"a":null}}`: `set "a" is null`,
	} {
		_, err := Decode([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
	st := &Store{Path: filepath.Join(t.TempDir(), "state.json")}
	os.WriteFile(st.Path, []byte("garbage"), 0o644)
	if _, err := st.Read(); err == nil || !strings.Contains(err.Error(), st.Path) {
		t.Fatalf("%v", err)
	}
}

func TestLockContention(t *testing.T) {
	st := &Store{Path: filepath.Join(t.TempDir(), "state.json")}
	info := CurrentLockInfo("apply")
	l, err := st.Lock(context.Background(), info, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Lock(context.Background(), CurrentLockInfo("plan"), 0)
	var le *LockedError
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.PID != os.Getpid() || le.Holder.Operation != "apply" {
		t.Fatalf("second lock: %v", err)
	}
	if !strings.Contains(err.Error(), "locked by apply (pid ") {
		t.Fatalf("message %q", err)
	}
	// With a timeout, the waiter gets the lock once it is released.
	done := make(chan error)
	go func() {
		l2, err := st.Lock(context.Background(), CurrentLockInfo("apply"), 5*time.Second)
		if err == nil {
			l2.Unlock()
		}
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiting lock: %v", err)
	}
	if _, err := os.Stat(st.InfoPath()); !os.IsNotExist(err) {
		t.Fatal("holder file left after unlock")
	}
}
