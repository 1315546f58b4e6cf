package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Variable files (docs/configuration.md, "Variable files"): NAME = VALUE
// lines, terraform's .tfvars under a name that robo's configuration loader
// can tell apart from its own *.hcl files. Every *.vars.hcl file of the
// configuration directory is a variable file, never configuration;
// robo.vars.hcl and *.auto.vars.hcl are read automatically, others only
// when named with -var-file.
//
// A variable's value is the last of, in this order (terraform's):
//  1. its default;
//  2. the environment variable ROBO_VAR_NAME;
//  3. robo.vars.hcl, then the *.auto.vars.hcl files in name order;
//  4. the -var-file FILE and -var NAME=VALUE arguments, in command-line order.

// VarArg is one command-line variable argument: -var NAME=VALUE (File is
// empty) or -var-file FILE (File is the path).
type VarArg struct {
	File        string
	Name, Value string
}

// IsVarFile reports whether a file of the configuration directory is a
// variable file (*.vars.hcl) rather than configuration.
func IsVarFile(name string) bool { return strings.HasSuffix(filepath.Base(name), ".vars.hcl") }

// IsAutoVarFile reports whether a variable file is read without -var-file:
// robo.vars.hcl and *.auto.vars.hcl.
func IsAutoVarFile(name string) bool {
	base := filepath.Base(name)
	return base == "robo.vars.hcl" || strings.HasSuffix(base, ".auto.vars.hcl")
}

// varFile is a parsed variable file.
type varFile struct {
	name  string // as diagnostics name it
	attrs hcl.Attributes
}

// givenValue is a variable's value from outside its block.
type givenValue struct {
	raw  string         // the -var or environment text, when expr is nil
	expr hcl.Expression // a variable file's expression
	src  hcl.Range
	from string // "-var", "ROBO_VAR_NAME", or the variable file's name
}

// readVarFile parses a variable file and registers it for diagnostics.
func readVarFile(parser *hclparse.Parser, path, name string, cfg *Config) (*varFile, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read variable file", Detail: err.Error()}}
	}
	file, diags := parser.ParseHCL(src, name)
	if file == nil {
		return nil, diags
	}
	cfg.Files[name] = file
	attrs, d := file.Body.JustAttributes()
	for _, x := range d {
		if strings.HasPrefix(x.Summary, "Unexpected ") && strings.HasSuffix(x.Summary, " block") {
			x.Detail = "A variable file holds only NAME = VALUE lines, one per variable. Configuration blocks belong in a *.hcl file whose name does not end in .vars.hcl."
		}
	}
	return &varFile{name: name, attrs: attrs}, append(diags, d...)
}

// varFileName is how diagnostics name a -var-file: relative to the
// configuration directory when it is inside, else as given.
func varFileName(path, dir string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if rel, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel) {
		return rel
	}
	return path
}

// givenValues gathers each declared variable's value from the environment,
// the automatic variable files and the command line, by precedence.
func givenValues(parser *hclparse.Parser, blocks []*hcl.Block, auto []*varFile, opts *Options, cfg *Config) (map[string]givenValue, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	declared := map[string]*hcl.Block{}
	for _, b := range blocks {
		if _, dup := declared[b.Labels[0]]; !dup && hclsyntax.ValidIdentifier(b.Labels[0]) {
			declared[b.Labels[0]] = b
		}
	}
	given := map[string]givenValue{}
	names := make([]string, 0, len(declared))
	for n := range declared {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		from := "ROBO_VAR_" + n
		if raw, ok := opts.LookupEnv(from); ok {
			given[n] = givenValue{raw: raw, src: varSourceRange(n, from, raw), from: from}
		}
	}
	redact := map[string][]hcl.Range{}
	fromFile := func(vf *varFile) {
		for _, n := range sortedNames(vf.attrs) {
			a := vf.attrs[n]
			b, ok := declared[n]
			if !ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Value for undeclared variable",
					Detail:  fmt.Sprintf("The variable file %s sets %q, but no variable %q is declared in the configuration, so the value is not used. To use it, declare variable %q { }.", vf.name, n, n, n),
					Subject: a.NameRange.Ptr()})
				continue
			}
			if declaredSensitive(b) {
				redact[vf.name] = append(redact[vf.name], a.Expr.Range())
			}
			given[n] = givenValue{expr: a.Expr, src: a.Expr.Range(), from: vf.name}
		}
	}
	sort.SliceStable(auto, func(i, j int) bool { // robo.vars.hcl first
		return filepath.Base(auto[i].name) == "robo.vars.hcl" && filepath.Base(auto[j].name) != "robo.vars.hcl"
	})
	for _, vf := range auto {
		fromFile(vf)
	}
	fromFlag := func(n, raw string) {
		if _, ok := declared[n]; !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
				Detail:  fmt.Sprintf("-var %s was given, but no variable %q is declared in the configuration.", n, n),
				Subject: varSourceRange(n, "-var", raw).Ptr()})
			return
		}
		given[n] = givenValue{raw: raw, src: varSourceRange(n, "-var", raw), from: "-var"}
	}
	for _, arg := range opts.VarArgs {
		if arg.File == "" {
			fromFlag(arg.Name, arg.Value)
			continue
		}
		vf, d := readVarFile(parser, arg.File, varFileName(arg.File, cfg.Dir), cfg)
		for _, x := range d {
			if x.Summary == "Cannot read variable file" {
				x.Detail = fmt.Sprintf("-var-file %s: %s", arg.File, x.Detail)
			}
		}
		diags = append(diags, d...)
		if vf != nil {
			fromFile(vf)
		}
	}
	legacy := make([]string, 0, len(opts.Vars))
	for n := range opts.Vars {
		legacy = append(legacy, n)
	}
	sort.Strings(legacy)
	for _, n := range legacy {
		fromFlag(n, opts.Vars[n])
	}
	for name, ranges := range redact {
		redactFile(cfg, name, ranges)
	}
	return given, diags
}

// declaredSensitive reads a variable block's sensitive = true.
func declaredSensitive(b *hcl.Block) bool {
	c, _, _ := b.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "sensitive"}}})
	a, ok := c.Attributes["sensitive"]
	if !ok {
		return false
	}
	v, d := a.Expr.Value(nil)
	return !d.HasErrors() && v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() && v.True()
}

// redactFile replaces, in the copy of a variable file that diagnostics
// quote, each sensitive variable's value with asterisks (keeping line
// breaks, so every position stays where it was).
func redactFile(cfg *Config, name string, ranges []hcl.Range) {
	f := cfg.Files[name]
	if f == nil {
		return
	}
	b := append([]byte(nil), f.Bytes...)
	for _, r := range ranges {
		for i := r.Start.Byte; i < r.End.Byte && i < len(b); i++ {
			if b[i] != '\n' && b[i] != '\r' {
				b[i] = '*'
			}
		}
	}
	cfg.Files[name] = &hcl.File{Body: f.Body, Bytes: b, Nav: f.Nav}
}
