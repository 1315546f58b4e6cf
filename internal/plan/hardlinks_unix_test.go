//go:build linux || darwin

package plan_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/plan"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// noLinksEngine is the native engine posing as one that cannot keep hard
// links (robocopy).
type noLinksEngine struct{ *native.Engine }

func (noLinksEngine) Name() string { return "robocopy" }
func (e noLinksEngine) Properties() engine.Properties {
	p := e.Engine.Properties()
	p.HardLinks = false
	return p
}

// A set with hard_links counts a linked file once: one new file and its
// bytes, one hard link; an engine without hard links gets a warning.
func TestPlanCountsHardLinksOnce(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "0123456789"}, "sub": tt.Dir{}})
	if err := os.Link(filepath.Join(src, "a"), filepath.Join(src, "sub", "b")); err != nil {
		t.Fatal(err)
	}
	cfg := load(t, filepath.Join(dir, "conf"), "backup \"x\" {\n source = \"../src\"\n destination = \"../dst\"\n hard_links = true\n}\n")
	p := build(t, cfg, nil, nil)
	s := p.Sets[0]
	if !s.Spec.HardLinks {
		t.Fatal("hard_links did not reach the spec")
	}
	sum := s.Summary
	if sum.NewFiles != 1 || sum.HardLinks != 1 || sum.BytesToCopy != 10 || sum.SourceBytes != 10 || sum.SourceFiles != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if len(s.Warnings) != 0 {
		t.Fatalf("warnings %q", s.Warnings)
	}
	p = build(t, cfg, nil, func(in *plan.Input) { in.Engines = engines{noLinksEngine{native.New()}} })
	if w := p.Sets[0].Warnings; len(w) != 1 || !strings.Contains(w[0], "the robocopy engine cannot keep hard links") {
		t.Fatalf("warnings %q", w)
	}
}
