package schema

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Move is a moved block: the backup set recorded in the state as From is
// now declared as To (docs/configuration.md, "moved block"). The plan shows
// the rename; applying it moves the state entry, so the set keeps its last
// run, last success and health.
type Move struct {
	From, To  string
	FromRange hcl.Range
	ToRange   hcl.Range
	DeclRange hcl.Range
}

var movedSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "from", Required: true}, {Name: "to", Required: true}}}

// MoveTo returns the moved block whose to is name, or nil.
func (c *Config) MoveTo(name string) *Move {
	for _, m := range c.Moves {
		if m.To == name {
			return m
		}
	}
	return nil
}

// decodeMoved decodes the moved blocks and checks them against the backup
// blocks, which must be decoded first.
func decodeMoved(blocks []*hcl.Block, cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var moves []*Move
	for _, b := range blocks {
		content, d := b.Body.Content(movedSchema)
		diags = append(diags, d...)
		m := &Move{DeclRange: b.DefRange}
		okFrom := setNameAttr(content.Attributes["from"], &m.From, &m.FromRange, &diags)
		okTo := setNameAttr(content.Attributes["to"], &m.To, &m.ToRange, &diags)
		if !okFrom || !okTo {
			continue
		}
		if m.From == m.To {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Redundant moved block",
				Detail: fmt.Sprintf("This moved block moves %q to itself. Remove it.", m.From), Subject: m.ToRange.Ptr()})
			continue
		}
		moves = append(moves, expandBlockMove(m, cfg)...)
	}
	byFrom := map[string]*Move{}
	byTo := map[string]*Move{}
	var kept []*Move
	for _, m := range moves {
		if b := cfg.Backup(m.From); b != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Moved set still declared",
				Detail:  fmt.Sprintf("A moved block's from is the set's old name, but a backup block named %q is still declared at %s. Rename that block to %q, or remove this moved block.", m.From, b.DeclRange, m.To),
				Subject: m.FromRange.Ptr()})
			continue
		}
		if prev, ok := byFrom[m.From]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate moved block",
				Detail: fmt.Sprintf("%q was already moved (to %q) at %s: a set can be moved once.", m.From, prev.To, prev.DeclRange), Subject: m.FromRange.Ptr()})
			continue
		}
		if prev, ok := byTo[m.To]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Ambiguous moved blocks",
				Detail: fmt.Sprintf("Both %q and %q (moved at %s) are moved to %q: only one state entry can become %q.", m.From, prev.From, prev.DeclRange, m.To, m.To), Subject: m.ToRange.Ptr()})
			continue
		}
		byFrom[m.From], byTo[m.To] = m, m
		kept = append(kept, m)
	}
	for _, m := range kept {
		if next, ok := byFrom[m.To]; ok {
			// Follow the chain to say where it ends, or that it loops.
			path := []string{m.From, m.To}
			seen := map[string]bool{m.From: true, m.To: true}
			cur := next
			cycle := false
			for cur != nil {
				if seen[cur.To] {
					cycle = true
					path = append(path, cur.To)
					break
				}
				seen[cur.To] = true
				path = append(path, cur.To)
				cur = byFrom[cur.To]
			}
			if cycle {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle in moved blocks",
					Detail: fmt.Sprintf("These moved blocks move sets in a circle: %s. Remove the blocks that undo each other.", strings.Join(path, " -> ")), Subject: m.ToRange.Ptr()})
			} else {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Chained moved blocks",
					Detail: fmt.Sprintf("%q is moved to %q, which is itself moved on (%s at %s). Write one block: moved { from = %q, to = %q }, and remove the step in between.",
						m.From, m.To, strings.Join(path, " -> "), next.DeclRange, m.From, path[len(path)-1]), Subject: m.ToRange.Ptr()})
			}
			continue
		}
		if _, chained := byTo[m.From]; chained {
			continue // reported at the previous block's to
		}
		if cfg.Backup(m.To) == nil && cfg.forEachTarget(m.To) {
			// An instance of a block with for_each that has no such key on
			// this host (or no keys at all): the move waits for it.
			continue
		}
		if cfg.Backup(m.To) == nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown moved target",
				Detail: fmt.Sprintf("There is no backup block named %q: a moved block's to must name a set declared in the configuration.", m.To), Subject: m.ToRange.Ptr()})
			continue
		}
		cfg.Moves = append(cfg.Moves, m)
	}
	return diags
}

// setNameAttr reads a moved block's from or to: a set name as a string
// ("docs") or a reference to the backup block (backup.docs). Either form is
// a constant: variables cannot rename sets.
func setNameAttr(a *hcl.Attribute, out *string, rng *hcl.Range, diags *hcl.Diagnostics) bool {
	if a == nil {
		return false
	}
	*rng = a.Expr.Range()
	bad := func() bool {
		*diags = append(*diags, attrError(a, "Invalid "+a.Name, fmt.Sprintf(
			"%s must be a backup set's name, written as a string (\"docs\", \"home.alice\") or as a reference (backup.docs, backup.home[\"alice\"]); it cannot use variables or functions.", a.Name)))
		return false
	}
	var name string
	if tr, d := hcl.AbsTraversalForExpr(a.Expr); !d.HasErrors() {
		if len(tr) < 2 || len(tr) > 3 || tr.RootName() != "backup" {
			return bad()
		}
		at, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			return bad()
		}
		// backup.NAME, or an instance: backup.NAME["KEY"] (foreach.go).
		n, ok := traversalSetName(append(hcl.Traversal{hcl.TraverseRoot{Name: at.Name, SrcRange: at.SrcRange}}, tr[2:]...))
		if !ok {
			return bad()
		}
		name = n
	} else {
		v, d := a.Expr.Value(nil)
		if d.HasErrors() || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
			return bad()
		}
		name = v.AsString()
	}
	if !validName(name) {
		*diags = append(*diags, attrError(a, "Invalid "+a.Name, fmt.Sprintf(
			"%q is not a valid backup name: use letters, digits, '-', '_' and '.', starting with a letter or digit.", name)))
		return false
	}
	*out = name
	return true
}

// expandBlockMove turns a move to the label of a backup block with
// for_each (moved { from = "home", to = "homes" }, both blocks with
// for_each) into one move per instance, home.KEY to homes.KEY, as terraform
// moves every instance of a renamed resource. Any other move is returned
// as it is.
func expandBlockMove(m *Move, cfg *Config) []*Move {
	if cfg.Backup(m.To) != nil {
		return []*Move{m}
	}
	var out []*Move
	for _, b := range cfg.Backups {
		if b.Instance != nil && b.Instance.Block == m.To {
			c := *m
			c.From, c.To = instanceName(m.From, b.Instance.Key), b.Name
			out = append(out, &c)
		}
	}
	if len(out) == 0 {
		return []*Move{m}
	}
	return out
}

// forEachTarget reports whether name is the label of a backup block with
// for_each or names a possible instance of one (LABEL.KEY).
func (c *Config) forEachTarget(name string) bool {
	for label := range c.forEachBlocks {
		if name == label || strings.HasPrefix(name, label+".") {
			return true
		}
	}
	return false
}
