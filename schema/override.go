package schema

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Override files (docs/configuration.md, "Override files"), merged by
// terraform's rules: a file named override.hcl or NAME_override.hcl holds
// blocks that change blocks declared in the other files. An override block
// replaces the attributes it sets in the block of the same type and labels;
// a nested block type it contains (robocopy, versions, validation, ...)
// replaces every nested block of that type, wholesale; everything else is
// kept. A local value in an override file's locals block replaces the
// local of the same name. Override files are applied after every other
// file, in name order, so a later one wins. They exist so that a Group
// Policy can drop one file on a group of hosts without editing the rest.

// IsOverrideFile reports whether a configuration file name is an override
// file: override.hcl or *_override.hcl.
func IsOverrideFile(name string) bool {
	base := filepath.Base(name)
	return base == "override.hcl" || strings.HasSuffix(base, "_override.hcl")
}

// applyOverrides merges the blocks of override files into the primary
// blocks. It returns the merged primary blocks (in their order) and the
// override files' local values, which evalLocals applies by name.
func applyOverrides(primary, overrides []*hcl.Block) ([]*hcl.Block, []*hcl.Block, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := make([]*hcl.Block, len(primary))
	copy(out, primary)
	var locals []*hcl.Block
	for _, ob := range overrides {
		switch ob.Type {
		case "locals":
			locals = append(locals, ob)
			continue
		case "moved":
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot override moved blocks",
				Detail:  "A moved block records that a set was renamed; it can appear only in a normal configuration file, not in an override file.",
				Subject: ob.DefRange.Ptr()})
			continue
		}
		i := findBlock(out, ob)
		if i < 0 {
			what := ob.Type + " block"
			if len(ob.Labels) > 0 {
				what = fmt.Sprintf("%s %q", ob.Type, ob.Labels[0])
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing base block to override",
				Detail:  fmt.Sprintf("There is no %s in the configuration's other files for this override file to change. An override file only changes blocks declared elsewhere: declare new blocks in a file whose name does not end in override.hcl.", what),
				Subject: overrideSubject(ob)})
			continue
		}
		base := out[i]
		merged := *base
		merged.Body = mergeBody{base: base.Body, over: ob.Body}
		out[i] = &merged
	}
	return out, locals, diags
}

func overrideSubject(b *hcl.Block) *hcl.Range {
	if len(b.LabelRanges) > 0 {
		return b.LabelRanges[0].Ptr()
	}
	return b.DefRange.Ptr()
}

// findBlock returns the index of the first block of ob's type and labels.
func findBlock(blocks []*hcl.Block, ob *hcl.Block) int {
	for i, b := range blocks {
		if b.Type != ob.Type || len(b.Labels) != len(ob.Labels) {
			continue
		}
		same := true
		for j := range b.Labels {
			same = same && b.Labels[j] == ob.Labels[j]
		}
		if same {
			return i
		}
	}
	return -1
}

// mergeBody is a block body with an override body laid over it.
type mergeBody struct {
	base, over hcl.Body
}

var _ hcl.Body = mergeBody{}

// optionalSchema is s with no attribute required: the base and the
// override are each partial; the merged result is checked.
func optionalSchema(s *hcl.BodySchema) *hcl.BodySchema {
	o := &hcl.BodySchema{Blocks: s.Blocks}
	for _, a := range s.Attributes {
		a.Required = false
		o.Attributes = append(o.Attributes, a)
	}
	return o
}

func (m mergeBody) Content(s *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	o := optionalSchema(s)
	bc, diags := m.base.Content(o)
	oc, d := m.over.Content(o)
	diags = append(diags, d...)
	c := mergeContent(bc, oc)
	return c, append(diags, m.required(s, c)...)
}

func (m mergeBody) PartialContent(s *hcl.BodySchema) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	o := optionalSchema(s)
	bc, brest, diags := m.base.PartialContent(o)
	oc, orest, d := m.over.PartialContent(o)
	diags = append(diags, d...)
	c := mergeContent(bc, oc)
	return c, mergeBody{base: brest, over: orest}, append(diags, m.required(s, c)...)
}

func (m mergeBody) JustAttributes() (hcl.Attributes, hcl.Diagnostics) {
	ba, diags := m.base.JustAttributes()
	oa, d := m.over.JustAttributes()
	diags = append(diags, d...)
	out := hcl.Attributes{}
	for n, a := range ba {
		out[n] = a
	}
	for n, a := range oa {
		out[n] = a
	}
	return out, diags
}

func (m mergeBody) MissingItemRange() hcl.Range { return m.base.MissingItemRange() }

func (m mergeBody) required(s *hcl.BodySchema, c *hcl.BodyContent) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, a := range s.Attributes {
		if _, ok := c.Attributes[a.Name]; a.Required && !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing required argument",
				Detail: fmt.Sprintf("The argument %q is required, but no definition was found.", a.Name), Subject: m.MissingItemRange().Ptr()})
		}
	}
	return diags
}

// mergeContent lays oc over bc: its attributes replace those of the same
// name; its nested blocks replace every base block of the same type.
func mergeContent(bc, oc *hcl.BodyContent) *hcl.BodyContent {
	c := &hcl.BodyContent{Attributes: hcl.Attributes{}, MissingItemRange: bc.MissingItemRange}
	for n, a := range bc.Attributes {
		c.Attributes[n] = a
	}
	for n, a := range oc.Attributes {
		c.Attributes[n] = a
	}
	replaced := map[string]bool{}
	for _, b := range oc.Blocks {
		replaced[b.Type] = true
	}
	for _, b := range bc.Blocks {
		if !replaced[b.Type] {
			c.Blocks = append(c.Blocks, b)
		}
	}
	c.Blocks = append(c.Blocks, oc.Blocks...)
	return c
}
