package schema

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Variable blocks (docs/configuration.md, "variable block"): a value comes
// from -var, then ROBO_VAR_NAME, then the default; it is converted to the
// block's type constraint, replaced by the default when it is null and
// nullable = false, and checked by every validation block. A sensitive
// variable's value is marked with SensitiveMark: robo refuses it wherever
// it would be written down (plans, state, logs, the audit trail; the same
// attributes that refuse secret(...)), and no diagnostic shows it.

// SensitiveMark marks a cty value that came from a variable declared
// sensitive = true (or was computed from one). Like SecretMark, it
// survives every operation on the value.
type SensitiveMark struct {
	Variable string
}

// Variable is a variable block.
type Variable struct {
	Name        string
	Description string
	// Type is the type constraint: cty.DynamicPseudoType for "any" or when
	// the block has no type (the value is then read as its default's type).
	Type cty.Type
	// Typed says the block set a type.
	Typed bool
	// Sensitive says the value must never be shown or written down.
	Sensitive bool
	// Nullable is false when the block says nullable = false.
	Nullable bool
	// Validations are the validation blocks, in order.
	Validations []*Validation
	DeclRange   hcl.Range
}

// Validation is a variable's validation block.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "default"}, {Name: "description"}, {Name: "type"}, {Name: "sensitive"}, {Name: "nullable"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true}}}

// sensitiveText stands for a sensitive value in every message.
const sensitiveText = "(sensitive value)"

// variableValues resolves declared variables: the value given (from the
// command line, a variable file or ROBO_VAR_name, by precedence: see
// givenValues), else the default.
func variableValues(blocks []*hcl.Block, given map[string]givenValue, opts *Options, cfg *Config) (map[string]cty.Value, hcl.Diagnostics) {
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
		g, ok := given[name]
		v, val, d := decodeVariable(b, g, ok, opts, cfg)
		diags = append(diags, d...)
		cfg.Variables[name] = v
		vals[name] = val
	}
	return vals, diags
}

// varSourceRange is where a value given outside the configuration comes
// from, named as terraform names it: "<value for var.NAME>" for -var,
// "<value for var.NAME from ROBO_VAR_NAME>" for the environment.
func varSourceRange(name, from, raw string) hcl.Range {
	file := "<value for var." + name + ">"
	if from != "-var" {
		file = "<value for var." + name + " from " + from + ">"
	}
	return hcl.Range{Filename: file, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: 1 + len(raw), Byte: len(raw)}}
}

// decodeVariable decodes one variable block and resolves its value. A
// value that cannot be resolved is cty.DynamicVal, so the places that use it
// report nothing more.
func decodeVariable(b *hcl.Block, g givenValue, given bool, opts *Options, cfg *Config) (*Variable, cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	name := b.Labels[0]
	v := &Variable{Name: name, Type: cty.DynamicPseudoType, Nullable: true, DeclRange: b.DefRange}
	content, d := b.Body.Content(variableSchema)
	diags = append(diags, d...)
	attrs := content.Attributes
	if a, ok := attrs["description"]; ok {
		dv, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() && dv.Type() == cty.String && dv.IsKnown() && !dv.IsNull() {
			v.Description = dv.AsString()
		}
	}
	var defaults *typeexpr.Defaults
	if a, ok := attrs["type"]; ok {
		ty, def, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
		diags = append(diags, d...)
		if d.HasErrors() {
			// No value can be checked against a type that is not known.
			return v, cty.DynamicVal, diags
		}
		v.Type, v.Typed, defaults = ty, true, def
	}
	constBool := func(n string, out *bool) {
		a, ok := attrs[n]
		if !ok {
			return
		}
		bv, d := a.Expr.Value(nil)
		if d.HasErrors() || bv.Type() != cty.Bool || bv.IsNull() || !bv.IsKnown() {
			diags = append(diags, attrError(a, "Invalid "+n, fmt.Sprintf("%s must be the literal true or false.", n)))
			return
		}
		*out = bv.True()
	}
	constBool("sensitive", &v.Sensitive)
	constBool("nullable", &v.Nullable)
	for _, vb := range content.Blocks.OfType("validation") {
		vc, d := vb.Body.Content(validationSchema)
		diags = append(diags, d...)
		c, okc := vc.Attributes["condition"]
		m, okm := vc.Attributes["error_message"]
		if !okc || !okm {
			continue
		}
		if d := checkSelfReferences(name, c.Expr, "condition"); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		if d := checkSelfReferences(name, m.Expr, "error_message"); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		v.Validations = append(v.Validations, &Validation{Condition: c.Expr, ErrorMessage: m.Expr, DeclRange: vb.DefRange})
	}
	mark := func(val cty.Value) cty.Value {
		if v.Sensitive {
			return val.Mark(SensitiveMark{Variable: name})
		}
		return val
	}
	fail := func(d *hcl.Diagnostic) (*Variable, cty.Value, hcl.Diagnostics) {
		return v, cty.DynamicVal, append(diags, d)
	}

	var def cty.Value
	hasDefault := false
	var defRange hcl.Range
	if a, ok := attrs["default"]; ok {
		defRange = a.Expr.Range()
		dv, d := a.Expr.Value(&hcl.EvalContext{Functions: functions(cfg.Dir, opts)})
		diags = append(diags, d...)
		if d.HasErrors() {
			return v, cty.DynamicVal, diags
		}
		if v.Typed && !dv.IsNull() {
			if defaults != nil {
				dv = defaults.Apply(dv)
			}
			cv, err := convert.Convert(dv, v.Type)
			if err != nil {
				return fail(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid default value for variable",
					Detail: fmt.Sprintf("The default of variable %q is not a %s: %s.", name, typeexpr.TypeString(v.Type), redactErr(err, v.Sensitive)), Subject: &defRange})
			}
			dv = cv
		}
		def = dv
		// A null default with nullable = false means no default, as in
		// terraform: the variable is required.
		hasDefault = !(dv.IsNull() && !v.Nullable)
	}

	var val cty.Value
	var src hcl.Range
	switch {
	case given && g.expr != nil:
		src = g.src
		fv, d := g.expr.Value(nil)
		if d.HasErrors() {
			for _, x := range d {
				if v.Sensitive {
					x.Detail = "A variable file's value must be a constant (no variables or function calls). The value is not shown because the variable is sensitive."
					x.Expression, x.EvalContext = nil, nil
				} else {
					x.Detail = strings.TrimSpace(x.Detail + " A variable file holds constant values only.")
				}
			}
			return v, cty.DynamicVal, append(diags, d...)
		}
		if v.Typed && !fv.IsNull() {
			if defaults != nil {
				fv = defaults.Apply(fv)
			}
			cv, err := convert.Convert(fv, v.Type)
			if err != nil {
				return fail(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: fmt.Sprintf("Variable %q takes a %s: %s. The variable is declared at %s.", name, typeexpr.TypeString(v.Type), redactErr(err, v.Sensitive), b.DefRange), Subject: &src})
			}
			fv = cv
		}
		val = fv
	case given:
		src = g.src
		raw := g.raw
		gv, err := parseVarText(raw, src, v, def, hasDefault, defaults)
		if err != nil {
			what := "a " + typeexpr.TypeString(v.Type)
			switch {
			case v.Typed && v.Type == cty.DynamicPseudoType:
				what = "any value written as in HCL"
			case !v.Typed:
				what = "a " + def.Type().FriendlyName() + " (like its default)"
			}
			return fail(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
				Detail: fmt.Sprintf("Variable %q takes %s: %s. The variable is declared at %s.", name, what, redactErr(err, v.Sensitive), b.DefRange), Subject: &src})
		}
		val = gv
	case hasDefault:
		val, src = def, defRange
	default:
		return fail(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No value for required variable",
			Detail: fmt.Sprintf("Variable %q has no default: set it with -var %s=VALUE, in a variable file (%s = VALUE in robo.vars.hcl, a *.auto.vars.hcl file or a -var-file), or with the environment variable ROBO_VAR_%s.", name, name, name, name), Subject: &b.LabelRanges[0]})
	}
	if val.IsNull() && !v.Nullable {
		if !hasDefault || def.IsNull() {
			return fail(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
				Detail: fmt.Sprintf("Variable %q is declared nullable = false, so it cannot be null.", name), Subject: &src})
		}
		val, src = def, defRange
	}
	for _, rule := range v.Validations {
		if d := checkValidation(name, v.Sensitive, rule, mark(val), src, cfg.Dir, opts); d != nil {
			diags = append(diags, d)
			val = cty.DynamicVal
		}
	}
	if val == cty.DynamicVal {
		return v, val, diags
	}
	return v, mark(val), diags
}

// parseVarText reads a -var or ROBO_VAR_ value. With a type constraint: a
// string type takes the text as it is, number and bool convert it, any
// other type (and "any") reads it as an HCL value. Without one it is read
// according to the default's type, as before types existed.
func parseVarText(raw string, src hcl.Range, v *Variable, def cty.Value, hasDefault bool, defaults *typeexpr.Defaults) (cty.Value, error) {
	if !v.Typed {
		if hasDefault && !def.IsNull() && def.Type() != cty.String {
			return parseVarValue(raw, def.Type(), src.Filename)
		}
		return cty.StringVal(raw), nil
	}
	ty := v.Type
	switch {
	case ty == cty.String:
		return cty.StringVal(raw), nil
	case ty.IsPrimitiveType():
		return convert.Convert(cty.StringVal(raw), ty)
	}
	val, err := parseHCLValue(raw, src.Filename)
	if err != nil {
		return cty.NilVal, err
	}
	if defaults != nil {
		val = defaults.Apply(val)
	}
	return convert.Convert(val, ty)
}

// parseVarValue reads a -var or ROBO_VAR_ value for a variable whose
// default is not a string: a number or bool as written, anything else as an
// HCL expression.
func parseVarValue(raw string, ty cty.Type, file string) (cty.Value, error) {
	if ty.IsPrimitiveType() {
		return convert.Convert(cty.StringVal(raw), ty)
	}
	v, err := parseHCLValue(raw, file)
	if err != nil {
		return cty.NilVal, err
	}
	vt := v.Type()
	switch {
	case (ty.IsTupleType() || ty.IsListType() || ty.IsSetType()) && (vt.IsTupleType() || vt.IsListType() || vt.IsSetType()),
		(ty.IsObjectType() || ty.IsMapType()) && (vt.IsObjectType() || vt.IsMapType()):
		return v, nil
	}
	return convert.Convert(v, ty)
}

// parseHCLValue reads text as a constant HCL value.
func parseHCLValue(raw, file string) (cty.Value, error) {
	expr, diags := hclsyntax.ParseExpression([]byte(raw), file, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%q is not an HCL value such as [\"a\", \"b\"]", raw)
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%q is not a constant value", raw)
	}
	return v, nil
}

// redactErr renders a conversion error; for a sensitive variable the text,
// which may quote the value, is replaced.
func redactErr(err error, sensitive bool) string {
	if sensitive {
		return "the given value does not fit, and is not shown because the variable is sensitive"
	}
	return strings.TrimSuffix(err.Error(), ".")
}

// checkSelfReferences reports every reference in a validation expression
// other than var.<self>: a rule checks the variable's own value, before
// locals and other variables exist.
func checkSelfReferences(self string, expr hcl.Expression, attr string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		ok := false
		if tr.RootName() == "var" && len(tr) >= 2 {
			if a, isAttr := tr[1].(hcl.TraverseAttr); isAttr && a.Name == self {
				ok = true
			}
		}
		if !ok {
			r := tr.SourceRange()
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid reference in variable validation",
				Detail: fmt.Sprintf("The %s of a validation rule for variable %q can only refer to the variable itself, as var.%s.", attr, self, self), Subject: &r})
		}
	}
	return diags
}

// checkValidation evaluates one rule against the variable's value; src is
// where the value came from (the default, or a -var or ROBO_VAR_ value).
func checkValidation(name string, sensitive bool, rule *Validation, val cty.Value, src hcl.Range, dir string, opts *Options) *hcl.Diagnostic {
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{name: val})},
		Functions: functions(dir, opts),
	}
	cr := rule.Condition.Range()
	res, d := rule.Condition.Value(ctx)
	if d.HasErrors() {
		detail := d[0].Detail
		if sensitive {
			detail = "The condition could not be evaluated for the variable's value (not shown: the variable is sensitive)."
		}
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition", Detail: detail, Subject: &cr}
	}
	res, _ = res.Unmark()
	if res.IsNull() || !res.IsKnown() || res.Type() != cty.Bool {
		if cv, err := convert.Convert(res, cty.Bool); err == nil && !cv.IsNull() && cv.IsKnown() {
			res = cv
		} else {
			return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition",
				Detail: "The condition must be true or false.", Subject: &cr}
		}
	}
	if res.True() {
		return nil
	}
	msg := "(the error_message could not be evaluated)"
	if mv, d := rule.ErrorMessage.Value(ctx); !d.HasErrors() {
		mv, marks := mv.Unmark()
		switch {
		case len(marks) > 0:
			msg = "The error message included a sensitive value, so it is not shown."
		case mv.Type() == cty.String && mv.IsKnown() && !mv.IsNull() && strings.TrimSpace(mv.AsString()) != "":
			msg = mv.AsString()
		}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
		Detail:  fmt.Sprintf("%s\n\nThis was checked by the validation rule at %s.", msg, rule.DeclRange),
		Subject: &src}
}
