package state

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// Issue 20: a renamed set keeps its history.
func TestMoveKeepsHistory(t *testing.T) {
	st := &Store{Path: filepath.Join(t.TempDir(), "state.json")}
	s := New()
	ok := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	s.Sets["docs"] = &Set{Name: "docs", ConfigDigest: "sha256:x", Source: "/s", Destination: "/d", Mode: "mirror",
		AppliedAt: &ok, LastSuccess: &ok, LastRun: &Run{Started: ok, Outcome: Success, FilesCopied: 7}}
	s.Sets["photos"] = &Set{Name: "photos"}
	if err := st.Write(s); err != nil {
		t.Fatal(err)
	}
	var me *MoveError
	if err := s.Move("nope", "x"); !errors.As(err, &me) || !me.Missing {
		t.Errorf("missing from: %v", err)
	}
	if err := s.Move("docs", "photos"); !errors.As(err, &me) || me.Missing || err.Error() != `the state already has a backup set named "photos"` {
		t.Errorf("existing to: %v", err)
	}
	if err := s.Move("docs", "docs"); err == nil {
		t.Error("moving a set onto itself succeeded")
	}
	if s.Sets["docs"] == nil || len(s.Sets) != 2 {
		t.Fatalf("a refused move changed the state: %v", s.Names())
	}
	if err := s.Move("docs", "documents"); err != nil {
		t.Fatal(err)
	}
	if err := st.Write(s); err != nil {
		t.Fatal(err)
	}
	got, err := st.Read()
	if err != nil {
		t.Fatal(err)
	}
	d := got.Sets["documents"]
	if got.Sets["docs"] != nil || d == nil || d.Name != "documents" || d.ConfigDigest != "sha256:x" ||
		!d.LastSuccess.Equal(ok) || !d.AppliedAt.Equal(ok) || d.LastRun.FilesCopied != 7 || d.LastRun.Outcome != Success {
		t.Errorf("after the move: %v %+v", got.Names(), d)
	}
}
