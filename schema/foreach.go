package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// for_each on backup and share blocks (docs/configuration.md, "for_each"),
// with terraform's semantics: the block is declared once and stands for one
// instance per element of a map (or object) or a set of strings; inside it,
// each.key is the element's key and each.value its value (for a set, both
// are the element). A list is refused, as terraform refuses it, with a hint
// to use toset(), because a list's order would decide nothing here but its
// duplicates would.
//
// An instance is named BLOCK.KEY: backup "home" with for_each = toset(["alice"])
// declares the set home.alice. That is an ordinary set name (letters,
// digits, '-', '_' and '.'), so plans, state, -target, logs, the dashboard
// and the CLI need nothing new; terraform's address form backup.home["alice"]
// is accepted wherever a configuration names a set (moved blocks) and by
// Config.ExpandTargets.

// Instance says which for_each element a Backup or Share is.
type Instance struct {
	// Block is the block's label; Key is the element's key.
	Block, Key string
	// ForEachRange is where the block's for_each is.
	ForEachRange hcl.Range

	each   cty.Value   // the each object of this instance
	bodies []hcl.Range // the block's body (and its overrides' bodies)
}

// newInstance describes element in of block b.
func newInstance(b *hcl.Block, in eachInstance, forEach *hcl.Attribute) *Instance {
	return &Instance{Block: b.Labels[0], Key: in.key, ForEachRange: forEach.Expr.Range(), each: in.each, bodies: bodyRanges(b.Body)}
}

// bodyRanges returns the source ranges of a body and of every override
// body laid over it.
func bodyRanges(body hcl.Body) []hcl.Range {
	switch b := body.(type) {
	case *hclsyntax.Body:
		return []hcl.Range{b.SrcRange}
	case mergeBody:
		return append(bodyRanges(b.base), bodyRanges(b.over)...)
	}
	return nil
}

// contains reports whether r lies in one of the instance's bodies.
func (i *Instance) contains(r hcl.Range) bool {
	for _, b := range i.bodies {
		if b.Filename == r.Filename && b.Start.Byte <= r.Start.Byte && r.End.Byte <= b.End.Byte {
			return true
		}
	}
	return false
}

// Address is the instance's terraform-style address, such as
// backup.home["alice"].
func (i *Instance) Address(blockType string) string {
	return fmt.Sprintf("%s.%s[%q]", blockType, i.Block, i.Key)
}

// instanceName is the set or share name of key in block.
func instanceName(block, key string) string { return block + "." + key }

// eachInstance is one element of a for_each value.
type eachInstance struct {
	key  string
	each cty.Value // object({key = string, value = ...})
}

// expandForEach evaluates a block's for_each and returns its elements,
// sorted by key. ok is false when the block has no for_each; when for_each
// is in error, the diagnostics say why and there are no instances.
func expandForEach(b *hcl.Block, ctx *hcl.EvalContext) (insts []eachInstance, attr *hcl.Attribute, diags hcl.Diagnostics) {
	content, _, _ := b.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "for_each"}}})
	a, ok := content.Attributes["for_each"]
	if !ok {
		return nil, nil, nil
	}
	bad := func(summary, detail string) ([]eachInstance, *hcl.Attribute, hcl.Diagnostics) {
		return nil, a, append(diags, attrError(a, summary, detail))
	}
	v, d := a.Expr.Value(ctx)
	diags = append(diags, d...)
	if d.HasErrors() {
		return nil, a, diags
	}
	if v == cty.DynamicVal {
		// An error already reported (a variable or local that could not
		// be resolved): nothing more to say.
		return nil, a, diags
	}
	// The keys become names; a map's values may carry marks (a share's
	// password = each.value.password holding secret("NAME")), its keys and
	// a set's elements may not.
	if v.IsMarked() || (v.Type().IsSetType() && v.ContainsMarked()) {
		return bad("Invalid for_each argument", sensitiveForEach(v))
	}
	if v.IsNull() {
		return bad("Invalid for_each argument", "for_each must not be null: give a map or a set of strings (an empty one declares no instances).")
	}
	ty := v.Type()
	switch {
	case ty.IsListType() || ty.IsTupleType():
		return bad("Invalid for_each argument", "for_each takes a map or a set of strings, and this is a list. Convert it with toset(...), as in for_each = toset([\"a\", \"b\"]): a set has no order and no duplicates, so each element names one instance.")
	case ty.IsSetType():
		if !v.IsWhollyKnown() {
			return bad("Invalid for_each argument", "The for_each set includes values that are not known (they come from a value in error, reported on its own), so robo cannot tell which instances the block declares.")
		}
		if et := ty.ElementType(); et != cty.String && !(et == cty.DynamicPseudoType && v.LengthInt() == 0) {
			return bad("Invalid for_each set argument", fmt.Sprintf(
				"for_each takes a map or a set of strings, and this is a set of %s: the elements are the instance keys, which must be strings. Convert them, as in toset([for x in LIST : tostring(x)]).", et.FriendlyName()))
		}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				return bad("Invalid for_each set argument", "The for_each set holds a null element: every element must be a string, the key of one instance.")
			}
			insts = append(insts, eachInstance{key: e.AsString(), each: cty.ObjectVal(map[string]cty.Value{"key": e, "value": e})})
		}
	case ty.IsMapType() || ty.IsObjectType():
		if !v.IsKnown() {
			return bad("Invalid for_each argument", "The for_each map is not known (it comes from a value in error, reported on its own), so robo cannot tell which instances the block declares.")
		}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			insts = append(insts, eachInstance{key: k.AsString(), each: cty.ObjectVal(map[string]cty.Value{"key": k, "value": e})})
		}
		diags = append(diags, duplicateLiteralKeys(a)...)
		if diags.HasErrors() {
			return nil, a, diags
		}
	default:
		return bad("Invalid for_each argument", fmt.Sprintf("for_each takes a map or a set of strings, not a %s.", ty.FriendlyName()))
	}
	sort.Slice(insts, func(i, j int) bool { return insts[i].key < insts[j].key })
	seen := map[string]string{}
	for _, in := range insts {
		if !validName(instanceName(b.Labels[0], in.key)) || in.key == "" {
			return bad("Invalid for_each key", fmt.Sprintf(
				"The key %q cannot name an instance: instance %s of %s %q is named %s, and a name holds only letters, digits, '-', '_' and '.'. Use keys made of those characters (a map can carry any value under a plain key).",
				in.key, quoteKey(in.key), b.Type, b.Labels[0], instanceName(b.Labels[0], in.key)))
		}
		fold := strings.ToLower(in.key)
		if prev, ok := seen[fold]; ok {
			return bad("Duplicate for_each key", fmt.Sprintf(
				"The keys %q and %q differ only in case: their instances' names would be the same file names on Windows, where names ignore case. Use keys that differ in more than case.", prev, in.key))
		}
		seen[fold] = in.key
	}
	return insts, a, diags
}

func quoteKey(k string) string { return fmt.Sprintf("[%q]", k) }

// duplicateLiteralKeys reports a key written twice in an object literal
// for_each = { a = ..., a = ... }, which HCL would otherwise resolve
// silently by keeping the last.
func duplicateLiteralKeys(a *hcl.Attribute) hcl.Diagnostics {
	oc, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	first := map[string]hcl.Range{}
	for _, it := range oc.Items {
		kv, d := it.KeyExpr.Value(nil)
		if d.HasErrors() || !kv.IsKnown() || kv.IsNull() || kv.Type() != cty.String {
			continue
		}
		k := kv.AsString()
		if prev, dup := first[k]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate for_each key",
				Detail: fmt.Sprintf("The key %q is written twice in for_each; the first is at %s. Each key declares one instance.", k, prev), Subject: it.KeyExpr.Range().Ptr()})
			continue
		}
		first[k] = it.KeyExpr.Range()
	}
	return diags
}

func sensitiveForEach(v cty.Value) string {
	what := "a sensitive value"
	if vars := sensitiveNames(v); len(vars) > 0 {
		what = "the sensitive variable " + strings.Join(vars, ", ")
	} else if names := secretNames(v); len(names) > 0 {
		what = "secret " + quoteList(names)
	}
	return fmt.Sprintf("for_each uses %s. Its keys become set names, shown in plans, the state, logs and the dashboard, so they cannot be sensitive. (A map's values may hold secret(\"NAME\") for a share's password; its keys may not.)", what)
}

// instanceCtx is ctx with each bound to one element.
func instanceCtx(ctx *hcl.EvalContext, each cty.Value) *hcl.EvalContext {
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{"each": each}
	return child
}

// mergeInstanceDiags folds the diagnostics of a block's instances: a
// diagnostic that every instance produced is reported once; one that only
// some produced names their keys.
func mergeInstanceDiags(keys []string, per []hcl.Diagnostics) hcl.Diagnostics {
	type entry struct {
		d    *hcl.Diagnostic
		keys []string
	}
	var order []string
	byID := map[string]*entry{}
	for i, ds := range per {
		for _, d := range ds {
			id := fmt.Sprintf("%d|%s|%s|%v", d.Severity, d.Summary, d.Detail, d.Subject)
			e, ok := byID[id]
			if !ok {
				e = &entry{d: d}
				byID[id] = e
				order = append(order, id)
			}
			if len(e.keys) == 0 || e.keys[len(e.keys)-1] != keys[i] {
				e.keys = append(e.keys, keys[i])
			}
		}
	}
	var out hcl.Diagnostics
	for _, id := range order {
		e := byID[id]
		d := e.d
		if len(e.keys) < len(keys) {
			c := *d
			c.Detail = strings.TrimSpace(d.Detail + fmt.Sprintf(" (for_each key %s)", quoteList(e.keys)))
			d = &c
		}
		out = append(out, d)
	}
	return out
}

// eachOutsideForEach explains HCL's "Unknown variable" for each.* in a
// block without for_each.
func eachOutsideForEach(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		if d.Summary == "Unknown variable" && strings.Contains(d.Detail, `named "each"`) {
			d.Detail = "each.key and each.value exist only in a block that has for_each; this block has none."
		}
	}
	return diags
}

// ExpandTargets resolves -target names: a set's name as it is, terraform's
// address forms (home["alice"], backup.home["alice"], backup.docs) as the
// set they name, and the label of a backup block with for_each as every
// instance it declares, in order. Names that match nothing are returned
// unchanged for the caller to report.
func (c *Config) ExpandTargets(targets []string) []string {
	var out []string
	for _, t := range targets {
		name := t
		if n, ok := ParseSetAddress(t); ok {
			name = n
		}
		if c.Backup(name) == nil {
			var insts []string
			for _, b := range c.Backups {
				if b.Instance != nil && b.Instance.Block == name {
					insts = append(insts, b.Name)
				}
			}
			if len(insts) > 0 {
				out = append(out, insts...)
				continue
			}
		}
		out = append(out, name)
	}
	return out
}

// ParseSetAddress reads terraform's address of a set: NAME, backup.NAME,
// NAME["KEY"] or backup.NAME["KEY"], and returns the set name (NAME or
// NAME.KEY). ok is false for text that is not such an address.
func ParseSetAddress(s string) (string, bool) {
	tr, d := hclsyntax.ParseTraversalAbs([]byte(s), "", hcl.InitialPos)
	if d.HasErrors() || len(tr) == 0 {
		return "", false
	}
	if tr.RootName() == "backup" && len(tr) > 1 {
		tr = tr[1:]
		if at, ok := tr[0].(hcl.TraverseAttr); ok {
			tr = append(hcl.Traversal{hcl.TraverseRoot{Name: at.Name}}, tr[1:]...)
		} else {
			return "", false
		}
	}
	return traversalSetName(tr)
}

// traversalSetName reads NAME or NAME["KEY"] (NAME[KEY] for a key that is
// a number is refused: keys are strings).
func traversalSetName(tr hcl.Traversal) (string, bool) {
	name := tr.RootName()
	switch len(tr) {
	case 1:
		return name, validName(name)
	case 2:
		ix, ok := tr[1].(hcl.TraverseIndex)
		if !ok || ix.Key.Type() != cty.String || !ix.Key.IsKnown() || ix.Key.IsNull() {
			return "", false
		}
		n := instanceName(name, ix.Key.AsString())
		return n, validName(n)
	}
	return "", false
}

// decodeInstances decodes every instance of block b (label, for_each
// attribute fe) with decode, given each instance's name, its Instance and
// its evaluation context, and merges their diagnostics (mergeInstanceDiags).
// With no instance the block's structure is still checked against sch.
func decodeInstances(b *hcl.Block, label string, insts []eachInstance, fe *hcl.Attribute, sch *hcl.BodySchema, ctx *hcl.EvalContext,
	decode func(name string, inst *Instance, ctx *hcl.EvalContext) hcl.Diagnostics) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if len(insts) == 0 {
		_, d := b.Body.Content(optionalSchema(sch))
		diags = append(diags, d...)
	}
	keys := make([]string, len(insts))
	per := make([]hcl.Diagnostics, len(insts))
	for i, in := range insts {
		keys[i] = in.key
		per[i] = decode(instanceName(label, in.key), newInstance(b, in, fe), instanceCtx(ctx, in.each))
	}
	return append(diags, mergeInstanceDiags(keys, per)...)
}
