package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

// link_to survives a saved plan byte for byte, with its _b64 twin when it
// is not UTF-8, and a change whose link_to is not a clean relative path
// inside the set is refused.
func TestLinkToJSONAndValidation(t *testing.T) {
	src := &Meta{Kind: KindFile, Size: 3, MTime: 1}
	c := Change{Action: Create, Class: New, Kind: KindFile, Path: "b", Phase: PhaseCopy, Src: src, LinkTo: "dir/a\xff"}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"link_to_b64":"ZGlyL2H/"`) {
		t.Fatalf("no link_to_b64 in %s", b)
	}
	var back Change
	if err := json.Unmarshal(b, &back); err != nil || back.LinkTo != c.LinkTo {
		t.Fatalf("read back %q, %v", back.LinkTo, err)
	}
	if err := c.Validate(true); err != nil {
		t.Fatalf("valid link: %v", err)
	}
	for _, tc := range []struct {
		mod  func(*Change)
		want string
	}{
		{func(c *Change) { c.LinkTo = "../x" }, "clean relative"},
		{func(c *Change) { c.LinkTo = "/etc/passwd" }, "absolute"},
		{func(c *Change) { c.LinkTo = "a/./b" }, "clean relative"},
		{func(c *Change) { c.LinkTo = "b" }, "own path"},
		{func(c *Change) { c.LinkTo = ".robo-versions/20260101T000000Z/a" }, ".robo-versions"},
		{func(c *Change) { c.Size = 3 }, "copies no bytes"},
		{func(c *Change) { c.Kind, c.Src.Kind, c.Size = KindDir, KindDir, 0 }, "only files"},
	} {
		m := *src
		d := c
		d.Src = &m
		tc.mod(&d)
		if err := d.Validate(true); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", d, err, tc.want)
		}
	}
	del := Change{Action: Delete, Class: Extra, Kind: KindFile, Path: "b", Phase: PhaseDelete, Dst: src, LinkTo: "a"}
	if err := del.Validate(true); err == nil || !strings.Contains(err.Error(), "only a create, update or replace") {
		t.Errorf("delete with link_to: %v", err)
	}
	spec := &Spec{HardLinks: true, Mirror: true}
	later := []Change{c, {Action: Create, Class: New, Kind: KindFile, Path: "dir/a\xff", Phase: PhaseReplace, Size: 3, Src: src}}
	if err := ValidateChanges(spec, later, true); err == nil || !strings.Contains(err.Error(), "later phase") {
		t.Errorf("target in a later phase: %v", err)
	}
	gone := []Change{c, {Action: Delete, Class: Extra, Kind: KindFile, Path: "dir/a\xff", Phase: PhaseDelete, Size: 3, Dst: src}}
	if err := ValidateChanges(spec, gone, true); err == nil || !strings.Contains(err.Error(), "deleted by the plan") {
		t.Errorf("deleted target: %v", err)
	}
	if err := ValidateChanges(spec, []Change{c}, false); err == nil {
		t.Error("link_to in a plan without exact changes validates")
	}
}
