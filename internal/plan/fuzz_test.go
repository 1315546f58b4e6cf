package plan_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
)

// seedPlan is a small valid plan document.
func seedPlan(paths ...string) []byte {
	p := &plan.Plan{FormatVersion: plan.FormatVersion, RoboVersion: "dev", CreatedAt: time.Unix(0, 0).UTC(), ConfigDir: "/conf",
		ConfigDigest: "abc", StateLineage: "l", StateSerial: 3, Refresh: true, Targets: []string{"docs"}}
	s := &plan.Set{Name: "docs", Action: plan.Sync, Source: "/src", Destination: "/dst",
		Spec: &engine.Spec{Name: "docs", Source: "/src", Destination: "/dst", Mirror: true, Threads: 2}, Summary: &plan.Summary{NewFiles: 1}}
	for _, path := range paths {
		s.Changes = append(s.Changes, engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: path,
			Phase: engine.PhaseCopy, Size: 1, Src: &engine.Meta{Kind: engine.KindFile, Size: 1, MTime: 7}})
	}
	p.Sets = append(p.Sets, s, &plan.Set{Name: "old", Action: plan.Forget})
	b, _ := json.Marshal(p)
	return b
}

// A saved plan is a file anyone with write access could have edited. Read
// refuses change paths that would reach outside the set's root.
func TestReadRefusesEscapingPaths(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	for _, bad := range []string{"../outside", "a/../../b", "/etc/passwd", "", "a//b", "./a"} {
		os.WriteFile(path, seedPlan("ok", bad), 0o600)
		_, err := plan.Read(path)
		if err == nil || !strings.Contains(err.Error(), `set "docs": a change path is not valid`) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	os.WriteFile(path, seedPlan("ok", "a/b..c/..d"), 0o600)
	if _, err := plan.Read(path); err != nil {
		t.Error(err)
	}
}

// FuzzPlanRead: plan.Read never panics on any file, and a plan it accepts
// survives a write and a read unchanged.
func FuzzPlanRead(f *testing.F) {
	f.Add(seedPlan("a", "d/e.txt"))
	f.Add(seedPlan("../x"))
	f.Add([]byte(`{"format_version":"1","sets":[null]}`))
	f.Add([]byte(`{"format_version":"1","sets":[{"changes":[{"path":"a","src":null,"dst":{}}]}]}`))
	f.Add([]byte(`{"format_version":"1","sets":[{"spec":{"threads":-1,"retry_wait":"x"}}]}`))
	f.Add([]byte(`{"format_version":"99"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "plan.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := plan.Read(path)
		if err != nil {
			return
		}
		for _, s := range p.Sets {
			for _, c := range s.Changes {
				if engine.CheckPath(c.Path) != nil {
					t.Fatalf("accepted change path %q", c.Path)
				}
			}
			_ = s.HasChanges()
			_ = s.Failed()
		}
		_ = p.HasChanges()
		again := filepath.Join(dir, "again.json")
		if err := p.Write(again); err != nil {
			t.Fatal(err)
		}
		q, err := plan.Read(again)
		if err != nil {
			t.Fatalf("a plan read back after writing: %v", err)
		}
		b1, _ := json.Marshal(p)
		b2, _ := json.Marshal(q)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("round trip changed the plan:\n%s\n%s", b1, b2)
		}
	})
}
