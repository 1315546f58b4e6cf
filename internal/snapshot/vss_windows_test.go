package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
)

// Issue 17: a source on a Windows volume maps beneath the snapshot's
// device path for the native engine and beneath the directory link for
// robocopy, which does not take \\?\GLOBALROOT sources.
func TestVSSPathMapping(t *testing.T) {
	v := &volume{kind: KindVSS, root: `C:\`, resolved: `C:\Users\Ann\Documents`}
	snap := &Snapshot{Kind: KindVSS, Root: `\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy3`, Link: `C:\ProgramData\robo\snapshots\link\robo-20250101T000000-0123abcd`}
	l, err := leaseOf(v, snap)
	if err != nil {
		t.Fatal(err)
	}
	if want := `\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy3\Users\Ann\Documents`; l.Path != want {
		t.Errorf("path %s, want %s", l.Path, want)
	}
	if want := `C:\ProgramData\robo\snapshots\link\robo-20250101T000000-0123abcd\Users\Ann\Documents`; l.LinkPath != want {
		t.Errorf("link path %s, want %s", l.LinkPath, want)
	}
	spec := engine.Spec{Name: "docs", Source: `C:\Users\Ann\Documents`}
	if got := mapped(spec, l, "robocopy").Source; got != l.LinkPath {
		t.Errorf("robocopy reads %s, want the link", got)
	}
	if got := mapped(spec, l, "native").Source; got != l.Path {
		t.Errorf("native reads %s, want the device path", got)
	}
	root := &volume{kind: KindVSS, root: `C:\`, resolved: `C:\`}
	if l, _ := leaseOf(root, snap); l.Path != snap.Root || l.LinkPath != snap.Link {
		t.Errorf("volume root: %+v", l)
	}
	if _, err := leaseOf(&volume{root: `D:\`, resolved: `C:\x`}, snap); err == nil {
		t.Error("a source on another volume mapped")
	}
}

// Issue 17: snapshot = "required" either takes a real VSS snapshot (an
// elevated Windows host: it is read, then removed with its link) or fails
// with a clear reason (not elevated, no backup privilege, VSS absent as
// under Wine); "auto" then copies live and says why.
func TestVSSRequiredOrClearError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f.txt"), []byte("f"), 0o644)
	reg := filepath.Join(t.TempDir(), "snapshots")
	m := NewManager(reg, Events{})
	l, err := m.Acquire(context.Background(), "x", dir, Required)
	if err == nil {
		// A real Windows host with VSS and the privileges.
		if b, err := os.ReadFile(filepath.Join(l.Path, "f.txt")); err != nil || string(b) != "f" {
			t.Errorf("reading the snapshot: %q %v", b, err)
		}
		if b, err := os.ReadFile(filepath.Join(l.LinkPath, "f.txt")); err != nil || string(b) != "f" {
			t.Errorf("reading through the link: %q %v", b, err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(l.Snapshot.Link); !os.IsNotExist(err) {
			t.Errorf("link left: %v", err)
		}
		return
	}
	defer m.Close()
	msg := err.Error()
	var ue *UnsupportedError
	if !errors.As(err, &ue) && !strings.Contains(msg, "VSS") && !strings.Contains(msg, "elevated") && !strings.Contains(msg, "privilege") {
		t.Fatalf("unclear error: %v", err)
	}
	t.Logf("no VSS snapshot here: %v", err)
	la, err := m.Acquire(context.Background(), "y", dir, Auto)
	if err != nil || la.Snapshot != nil || la.Live == "" || la.Path != dir {
		t.Fatalf("auto: %+v %v, want a live lease saying why", la, err)
	}
	if ents, _ := os.ReadDir(reg); len(ents) > 1 {
		t.Errorf("registry after failures: %v", ents)
	}
}
