package schema

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// ArgProblem is one objection to a robocopy extra argument: Index is the
// argument's position in extra_args.
type ArgProblem struct {
	Index   int
	Message string
}

// decodeRobocopyBlocks reads a backup's robocopy { extra_args = [...] }
// block and checks each argument with Options.CheckRobocopyArgs, reporting
// every problem at the element it concerns.
func decodeRobocopyBlocks(blocks hcl.Blocks, ctx *hcl.EvalContext, bk *Backup, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, b := range blocks {
		if i > 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate robocopy block",
				Detail: fmt.Sprintf("A backup takes one robocopy block; the first is at %s.", blocks[0].DefRange), Subject: &b.DefRange})
			continue
		}
		content, d := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "extra_args"}}})
		diags = append(diags, d...)
		a, ok := content.Attributes["extra_args"]
		if !ok {
			continue
		}
		args, ok := evalStrings(a, ctx, &diags)
		if !ok {
			continue
		}
		bk.RobocopyArgs = args
		if opts.CheckRobocopyArgs == nil {
			continue
		}
		elems := elementRanges(a)
		threads := bk.Threads
		if threads == 0 {
			threads = 2 // the machine's default is always several threads
		}
		for _, p := range opts.CheckRobocopyArgs(args, threads, bk.Mode == Mirror) {
			r := a.Expr.Range()
			if p.Index >= 0 && p.Index < len(elems) {
				r = elems[p.Index]
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid robocopy argument",
				Detail: p.Message, Subject: &r})
		}
	}
	return diags
}

// elementRanges returns the source range of each element of a literal list.
func elementRanges(a *hcl.Attribute) []hcl.Range {
	tuple, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		return nil
	}
	out := make([]hcl.Range, len(tuple.Exprs))
	for i, e := range tuple.Exprs {
		out[i] = e.Range()
	}
	return out
}
