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
	s := &plan.Set{Name: "docs", Action: plan.Sync, Engine: "native", Mode: "mirror", Source: "/src", Destination: "/dst",
		Spec:    &engine.Spec{Name: "docs", Source: "/src", Destination: "/dst", Mirror: true, Threads: 2},
		Summary: &plan.Summary{NewFiles: int64(len(paths)), BytesToCopy: int64(len(paths))}}
	var cs []engine.Change
	for _, path := range paths {
		cs = append(cs, engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: path,
			Phase: engine.PhaseCopy, Size: 1, Src: &engine.Meta{Kind: engine.KindFile, Size: 1, MTime: 7}})
	}
	s.Changes = engine.ChangeListOf(cs)
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
		if err == nil || !strings.Contains(err.Error(), `set "docs": change 2: `) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	os.WriteFile(path, seedPlan("ok", "a/b..c/..d"), 0o600)
	if _, err := plan.Read(path); err != nil {
		t.Error(err)
	}
}

// Issue 13: a saved plan whose changes are malformed is refused by Read,
// with the set and the change named, before anything could run them.
func TestReadRefusesMalformedChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	edit := func(f func(s *plan.Set, c *engine.Change)) []byte {
		var p plan.Plan
		if err := json.Unmarshal(seedPlan("a", "b"), &p); err != nil {
			t.Fatal(err)
		}
		cs := p.Sets[0].Changes.Slice()
		f(p.Sets[0], &cs[1])
		p.Sets[0].Changes = engine.ChangeListOf(cs)
		b, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for want, b := range map[string][]byte{
		"needs the source entry it copies (src)":              edit(func(_ *plan.Set, c *engine.Change) { c.Src = nil }),
		`unknown action "chmod"`:                              rawEdit(t, "action", "chmod"),
		`unknown kind "fifo"`:                                 rawEdit(t, "kind", "fifo"),
		"unknown phase 7":                                     edit(func(_ *plan.Set, c *engine.Change) { c.Phase = 7 }),
		`"a" appears twice`:                                   edit(func(_ *plan.Set, c *engine.Change) { c.Path = "a" }),
		"a create runs in the copy or replace":                edit(func(_ *plan.Set, c *engine.Change) { c.Phase = engine.PhaseDelete }),
		"a link target on a file":                             edit(func(_ *plan.Set, c *engine.Change) { c.Src.Target = "/etc/shadow" }),
		"copies only":                                         edit(func(s *plan.Set, c *engine.Change) { s.Mode, s.Spec.Mirror = "copy", false; *c = delChange("b") }),
		"the summary's new_files is 2 but the changes make 1": edit(func(_ *plan.Set, c *engine.Change) { *c = delChange("b") }),
		"inside .robo-versions":                               edit(func(_ *plan.Set, c *engine.Change) { c.Path = ".robo-versions/x" }),
		`unknown action "rm"`:                                 edit(func(s *plan.Set, _ *engine.Change) { s.Action = "rm" }),
		`destination is "/dst" but the spec's destination is "/elsewhere"`: edit(func(s *plan.Set, _ *engine.Change) { s.Spec.Destination = "/elsewhere" }),
		`mode is "mirror" but the spec is a copy`:                          edit(func(s *plan.Set, _ *engine.Change) { s.Spec.Mirror = false }),
		"file operations for an unknown engine":                            edit(func(s *plan.Set, _ *engine.Change) { s.Engine = "" }),
		`set "old" appears twice`:                                          edit(func(s *plan.Set, _ *engine.Change) { s.Name, s.Spec.Name = "old", "old" }),
	} {
		os.WriteFile(path, b, 0o600)
		_, err := plan.Read(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q, got %v", want, err)
		}
	}
}

// rawEdit sets field of the second change of seedPlan("a", "b") to value
// in the JSON text: a value no engine.Change can hold.
func rawEdit(t *testing.T, field, value string) []byte {
	var p map[string]any
	if err := json.Unmarshal(seedPlan("a", "b"), &p); err != nil {
		t.Fatal(err)
	}
	p["sets"].([]any)[0].(map[string]any)["changes"].([]any)[1].(map[string]any)[field] = value
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A refused set keeps its operations in the plan (they are shown, never
// run): such a plan is valid.
func TestReadAcceptsRefusedSetWithChanges(t *testing.T) {
	var p plan.Plan
	if err := json.Unmarshal(seedPlan("a"), &p); err != nil {
		t.Fatal(err)
	}
	p.Sets[0].Refused = "max_delete"
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Read(path); err != nil {
		t.Fatal(err)
	}
}

func delChange(p string) engine.Change {
	return engine.Change{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: p, Phase: engine.PhaseDelete,
		Dst: &engine.Meta{Kind: engine.KindFile, Size: 1}}
}

// FuzzPlanRead: plan.Read never panics on any file, a plan it accepts
// passes Validate, and it survives a write and a read unchanged, names
// byte for byte.
func FuzzPlanRead(f *testing.F) {
	f.Add(seedPlan("a", "d/e.txt"))
	f.Add(seedPlan("b\xff", "b\ufffd", "\x1b[2K\r+ New"))
	f.Add([]byte(`{"format_version":"1","sets":[{"name":"s","action":"sync","engine":"native","mode":"copy","spec":{"name":"s"},` +
		`"changes":[{"action":"create","class":"New","kind":"file","path":"b\ufffd","path_b64":"Yv8=","phase":1,"src":{"kind":"file"}}]}]}`))
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
		if err := p.Validate(); err != nil {
			t.Fatalf("Read accepted a plan that Validate refuses: %v", err)
		}
		for _, s := range p.Sets {
			for _, c := range s.Changes.Slice() {
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

// Issue 16: a saved plan with a metadata-only change reads back as it was
// written; one whose summary does not count it, or whose change lists an
// unknown class, is refused.
func TestReadTweaked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	var p plan.Plan
	if err := json.Unmarshal(seedPlan("a"), &p); err != nil {
		t.Fatal(err)
	}
	u := uint32(1000)
	m := func(mode uint32) *engine.Meta {
		return &engine.Meta{Kind: engine.KindDir, MTime: 7, Mode: mode, X: &engine.MetaX{UID: &u, Xattr: "sha256:0123456789abcdef"}}
	}
	s := p.Sets[0]
	s.Changes = engine.ChangeListOf(append(s.Changes.Slice(), engine.Change{Action: engine.Update, Class: engine.Tweaked, Kind: engine.KindDir, Path: "d",
		Phase: engine.PhaseCopy, Src: m(0o755), Dst: m(0o700), Differs: []string{engine.DiffMode}}))
	write := func() {
		b, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, b, 0o600)
	}
	write()
	if _, err := plan.Read(path); err == nil || !strings.Contains(err.Error(), "the summary's tweaked is 0 but the changes make 1") {
		t.Fatalf("summary without the tweak: %v", err)
	}
	s.Summary.Tweaked = 1
	write()
	got, err := plan.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Sets[0].Changes.Slice()[1]
	if c.Class != engine.Tweaked || c.Src.Mode != 0o755 || *c.Src.X.UID != 1000 || c.Differs[0] != "mode" {
		t.Fatalf("%+v", c)
	}
	cs := s.Changes.Slice()
	cs[1].Differs = []string{"mode", "colour"}
	s.Changes = engine.ChangeListOf(cs)
	write()
	if _, err := plan.Read(path); err == nil || !strings.Contains(err.Error(), `unknown metadata class "colour"`) {
		t.Fatalf("unknown class: %v", err)
	}
}
