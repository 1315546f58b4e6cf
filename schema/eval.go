package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
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

// variableValues resolves declared variables: -var values first, then
// ROBO_VAR_name, then the default.
func variableValues(blocks []*hcl.Block, opts *Options, cfg *Config) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	vals := map[string]cty.Value{}
	for _, b := range blocks {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid variable name",
				Detail: fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", name), Subject: &b.LabelRanges[0]})
			continue
		}
		if prev, ok := cfg.Variables[name]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate variable",
				Detail: fmt.Sprintf("Variable %q was already declared at %s.", name, prev.DeclRange), Subject: &b.LabelRanges[0]})
			continue
		}
		content, d := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "default"}, {Name: "description"}}})
		diags = append(diags, d...)
		v := &Variable{Name: name, DeclRange: b.DefRange}
		cfg.Variables[name] = v
		if a, ok := content.Attributes["description"]; ok {
			dv, d := a.Expr.Value(nil)
			diags = append(diags, d...)
			if !d.HasErrors() && dv.Type() == cty.String && dv.IsKnown() && !dv.IsNull() {
				v.Description = dv.AsString()
			}
		}
		var def cty.Value
		hasDefault := false
		if a, ok := content.Attributes["default"]; ok {
			dv, d := a.Expr.Value(&hcl.EvalContext{Functions: functions(cfg.Dir, opts)})
			diags = append(diags, d...)
			if !d.HasErrors() {
				def, hasDefault = dv, true
			}
		}
		raw, given := opts.Vars[name]
		if !given {
			raw, given = opts.LookupEnv("ROBO_VAR_" + name)
		}
		switch {
		case given && hasDefault && def.Type() != cty.String:
			// Numbers, bools, lists and maps are written as HCL, as in
			// -var 'dirs=["a","b"]'.
			cv, err := parseVarValue(raw, def.Type())
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: fmt.Sprintf("Variable %q takes a %s (like its default): %s.", name, def.Type().FriendlyName(), err), Subject: &b.LabelRanges[0]})
				vals[name] = cty.DynamicVal
				continue
			}
			vals[name] = cv
		case given:
			vals[name] = cty.StringVal(raw)
		case hasDefault:
			vals[name] = def
		default:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No value for required variable",
				Detail: fmt.Sprintf("Variable %q has no default: set it with -var %s=VALUE or the environment variable ROBO_VAR_%s.", name, name, name), Subject: &b.LabelRanges[0]})
			vals[name] = cty.DynamicVal
		}
	}
	for name := range opts.Vars {
		if _, ok := cfg.Variables[name]; !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
				Detail: fmt.Sprintf("-var %s was given, but no variable %q is declared in the configuration.", name, name)})
		}
	}
	return vals, diags
}

// parseVarValue reads a -var or ROBO_VAR_ value for a variable whose
// default is not a string: a number or bool as written, anything else as an
// HCL expression.
func parseVarValue(raw string, ty cty.Type) (cty.Value, error) {
	if ty.IsPrimitiveType() {
		return convert.Convert(cty.StringVal(raw), ty)
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), "-var", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%q is not an HCL value such as [\"a\", \"b\"]", raw)
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%q is not a constant value", raw)
	}
	vt := v.Type()
	switch {
	case (ty.IsTupleType() || ty.IsListType() || ty.IsSetType()) && (vt.IsTupleType() || vt.IsListType() || vt.IsSetType()),
		(ty.IsObjectType() || ty.IsMapType()) && (vt.IsObjectType() || vt.IsMapType()):
		return v, nil
	}
	return convert.Convert(v, ty)
}

// evalLocals evaluates every locals attribute in dependency order.
func evalLocals(blocks []*hcl.Block, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	attrs := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		as, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for name, a := range as {
			if prev, ok := attrs[name]; ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate local value",
					Detail: fmt.Sprintf("Local value %q was already defined at %s.", name, prev.NameRange), Subject: &a.NameRange})
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
