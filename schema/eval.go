package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions returns the functions available in expressions: the HCL
// standard library plus env, hostname, file and secret.
func functions(dir string, opts *Options) map[string]function.Function {
	fns := map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "chomp": stdlib.ChompFunc,
		"coalesce": stdlib.CoalesceFunc, "compact": stdlib.CompactFunc, "concat": stdlib.ConcatFunc,
		"contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc, "element": stdlib.ElementFunc,
		"flatten": stdlib.FlattenFunc, "floor": stdlib.FloorFunc, "format": stdlib.FormatFunc,
		"formatdate": stdlib.FormatDateFunc, "formatlist": stdlib.FormatListFunc, "indent": stdlib.IndentFunc,
		"index": stdlib.IndexFunc, "join": stdlib.JoinFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc, "keys": stdlib.KeysFunc, "length": stdlib.LengthFunc,
		"lookup": stdlib.LookupFunc, "lower": stdlib.LowerFunc, "max": stdlib.MaxFunc, "merge": stdlib.MergeFunc,
		"min": stdlib.MinFunc, "parseint": stdlib.ParseIntFunc, "range": stdlib.RangeFunc,
		"regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc, "replace": stdlib.ReplaceFunc,
		"reverse": stdlib.ReverseListFunc, "slice": stdlib.SliceFunc, "sort": stdlib.SortFunc,
		"split": stdlib.SplitFunc, "strrev": stdlib.ReverseFunc, "substr": stdlib.SubstrFunc,
		"title": stdlib.TitleFunc, "trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc,
		"trimspace": stdlib.TrimSpaceFunc, "trimsuffix": stdlib.TrimSuffixFunc, "upper": stdlib.UpperFunc,
		"values": stdlib.ValuesFunc, "zipmap": stdlib.ZipmapFunc,
		// terraform's type conversions; toset is what for_each over a list
		// needs (foreach.go).
		"toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)), "tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap": stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)), "tostring": stdlib.MakeToFunc(cty.String),
		"tonumber": stdlib.MakeToFunc(cty.Number), "tobool": stdlib.MakeToFunc(cty.Bool),
	}
	fns["env"] = function.New(&function.Spec{
		Description: "Returns an environment variable; a second argument is the default when it is unset.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, fmt.Errorf("env takes a name and at most one default, got %d arguments", len(args))
			}
			name := args[0].AsString()
			if v, ok := opts.LookupEnv(name); ok {
				return cty.StringVal(v), nil
			}
			if len(args) > 1 {
				return args[1], nil
			}
			return cty.NilVal, fmt.Errorf("environment variable %s is not set (give a default as env(%q, \"...\"))", name, name)
		},
	})
	fns["secret"] = secretFunc(opts)
	fns["hostname"] = function.New(&function.Spec{
		Description: "Returns this host's name.",
		Type:        function.StaticReturnType(cty.String),
		Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
			h, err := opts.Hostname()
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(h), nil
		},
	})
	fns["file"] = function.New(&function.Spec{
		Description: "Returns the contents of a file, relative to the configuration directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return cty.NilVal, err
			}
			if !utf8.Valid(b) {
				return cty.NilVal, fmt.Errorf("%s is not UTF-8 text", p)
			}
			return cty.StringVal(string(b)), nil
		},
	})
	return fns
}

// evalLocals evaluates every locals attribute in dependency order.
// The locals blocks of override files replace local values by name.
func evalLocals(blocks, overrides []*hcl.Block, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	attrs := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		as, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for _, name := range sortedNames(as) {
			a := as[name]
			if prev, ok := attrs[name]; ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate local value",
					Detail: fmt.Sprintf("Local value %q was already defined at %s.", name, prev.NameRange), Subject: &a.NameRange})
				continue
			}
			attrs[name] = a
		}
	}
	for _, b := range overrides {
		as, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for _, name := range sortedNames(as) {
			a := as[name]
			if _, ok := attrs[name]; !ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing base local value to override",
					Detail:  fmt.Sprintf("There is no local value %q in the configuration's other files for this override file to replace. Define new local values in a file whose name does not end in override.hcl.", name),
					Subject: &a.NameRange})
				continue
			}
			attrs[name] = a
		}
	}
	vals := map[string]cty.Value{}
	pending := make([]string, 0, len(attrs))
	for n := range attrs {
		pending = append(pending, n)
	}
	sort.Strings(pending)
	for len(pending) > 0 {
		progress := false
		var next []string
		for _, name := range pending {
			a := attrs[name]
			ready := true
			for _, tr := range a.Expr.Variables() {
				if tr.RootName() != "local" || len(tr) < 2 {
					continue
				}
				if s, ok := tr[1].(hcl.TraverseAttr); ok {
					if _, done := vals[s.Name]; !done {
						if _, exists := attrs[s.Name]; exists {
							ready = false
						}
					}
				}
			}
			if !ready {
				next = append(next, name)
				continue
			}
			ctx.Variables["local"] = cty.ObjectVal(vals)
			v, d := a.Expr.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				v = cty.DynamicVal
			}
			vals[name] = v
			progress = true
		}
		if !progress {
			for _, name := range next {
				a := attrs[name]
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle in local values",
					Detail: fmt.Sprintf("Local value %q depends on itself through: %s.", name, strings.Join(next, ", ")), Subject: a.Expr.Range().Ptr()})
				vals[name] = cty.DynamicVal
			}
			break
		}
		pending = next
	}
	ctx.Variables["local"] = cty.ObjectVal(vals)
	return diags
}

func sortedNames(as hcl.Attributes) []string {
	names := make([]string, 0, len(as))
	for n := range as {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
