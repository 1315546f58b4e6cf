package schema

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// The secrets file is read and decrypted elsewhere (internal/secrets, wired
// in by cmd/robo). The configuration language only records references: the
// secret("name") function returns the name itself, marked with SecretMark, so
// schema never holds a plaintext and nothing it returns (plans, state,
// diagnostics) can contain one.

// DefaultSecretsFile is the secrets file's name in the configuration
// directory when the robo block sets no secrets_file.
const DefaultSecretsFile = "robo.secrets.json"

// SecretMark marks a cty value that came from secret("name"). Marks survive
// every operation on a value (interpolation, function calls, conditionals),
// so an attribute can tell that a secret reached it even indirectly.
type SecretMark struct {
	Name string
}

// SecretRef is a reference to a secret in the secrets file: what a plan
// records in place of a value. It holds the name only; internal/secrets
// resolves it at apply time.
type SecretRef struct {
	Name string `json:"secret"`
}

// String renders a reference as renderers must show it.
func (r SecretRef) String() string { return "(sensitive)" }

// GoString keeps %#v from printing anything but the reference either.
func (r SecretRef) GoString() string { return fmt.Sprintf("schema.SecretRef{Name: %q}", r.Name) }

// SecretOf returns the reference v stands for when v is exactly the result
// of secret("name") (possibly passed through variables, locals or
// conditionals). A value derived from a secret (interpolated into a larger
// string, upper-cased, ...) is not accepted: robo resolves names, not
// expressions.
//
// Limitation: a string function that happens to return its argument
// unchanged (lower() of an all-lower-case name, trimspace(), ...) cannot be
// told apart from the secret itself, since the value of secret("name") is
// its name.
func SecretOf(v cty.Value) (SecretRef, bool) {
	if !v.IsKnown() || v.IsNull() {
		return SecretRef{}, false
	}
	uv, marks := v.Unmark()
	if len(marks) == 0 || uv.Type() != cty.String {
		return SecretRef{}, false
	}
	// A conditional between two secrets carries the marks of both
	// branches; the value is the chosen one's name.
	var ref SecretRef
	found := false
	for m := range marks {
		if _, ok := m.(SensitiveMark); ok {
			// A sensitive variable may carry a secret reference.
			continue
		}
		sm, ok := m.(SecretMark)
		if !ok {
			return SecretRef{}, false
		}
		if uv.AsString() == sm.Name {
			ref, found = SecretRef{Name: sm.Name}, true
		}
	}
	return ref, found
}

// secretNames returns the names of the secrets anywhere inside v, sorted.
func secretNames(v cty.Value) []string {
	_, marks := v.UnmarkDeep()
	var names []string
	for m := range marks {
		if sm, ok := m.(SecretMark); ok {
			names = append(names, sm.Name)
		}
	}
	sort.Strings(names)
	return names
}

// sensitiveNames returns the sensitive variables v was computed from, as
// var.NAME, sorted.
func sensitiveNames(v cty.Value) []string {
	_, marks := v.UnmarkDeep()
	var names []string
	for m := range marks {
		if sm, ok := m.(SensitiveMark); ok {
			names = append(names, "var."+sm.Variable)
		}
	}
	sort.Strings(names)
	return names
}

// rejectSecret returns a diagnostic when v carries a secret into an
// attribute that does not take one, such as a path or a pattern: these end
// up in plans and the state.
func rejectSecret(a *hcl.Attribute, v cty.Value) *hcl.Diagnostic {
	if !v.ContainsMarked() {
		return nil
	}
	names := secretNames(v)
	if len(names) == 0 {
		if vars := sensitiveNames(v); len(vars) > 0 {
			return attrError(a, "Sensitive value not allowed here", fmt.Sprintf(
				"The value of %s comes from the sensitive variable %s: it would be written to plans, the state, logs and the audit trail. A sensitive variable can only be used where a secret is accepted, holding secret(\"NAME\").",
				a.Name, strings.Join(vars, ", ")))
		}
		// No other marks are produced today; refuse anything marked rather
		// than pass it on.
		return attrError(a, "Invalid "+a.Name, fmt.Sprintf("The value of %s is marked as sensitive and cannot be used here.", a.Name))
	}
	return attrError(a, "Secret not allowed here", fmt.Sprintf(
		"secret(...) cannot be used in %s: its value would be written to plans and the state. Secrets are only accepted where the configuration language says so (a share's password, a notify block's url or smtp password). This value uses secret %s.",
		a.Name, quoteList(names)))
}

// evalSecret evaluates an attribute that takes a secret, such as a share's
// password. The value must be exactly secret("name"), passed through
// variables, locals or conditionals at most; a literal string or a secret
// interpolated into a larger string is a diagnostic at the attribute.
func evalSecret(a *hcl.Attribute, ctx *hcl.EvalContext, diags *hcl.Diagnostics) (SecretRef, bool) {
	v, d := a.Expr.Value(ctx)
	*diags = append(*diags, d...)
	if d.HasErrors() || !v.IsWhollyKnown() {
		return SecretRef{}, false
	}
	if v.IsNull() {
		*diags = append(*diags, attrError(a, "Missing value for "+a.Name, fmt.Sprintf("%s must not be null.", a.Name)))
		return SecretRef{}, false
	}
	if ref, ok := SecretOf(v); ok {
		return ref, true
	}
	if names := secretNames(v); len(names) > 0 {
		*diags = append(*diags, attrError(a, "Invalid "+a.Name, fmt.Sprintf(
			"A secret must be used whole: write %s = secret(%q). robo resolves a secret by name when it applies, so it cannot be interpolated into a string or passed through a function.",
			a.Name, names[0])))
		return SecretRef{}, false
	}
	*diags = append(*diags, attrError(a, "Invalid "+a.Name, fmt.Sprintf(
		"%s takes a secret, not a value written in the configuration: store it with robo secret set NAME and write %s = secret(\"NAME\").",
		a.Name, a.Name)))
	return SecretRef{}, false
}

// secretFunc is secret(name): a reference to a secret in the secrets file.
// It checks the name's syntax and records it; whether the secret exists is
// checked after the robo block is decoded (checkSecrets), since the block
// names the secrets file.
func secretFunc(opts *Options) function.Function {
	return function.New(&function.Spec{
		Description: "Returns a reference to a secret in the secrets file; the value is only read when robo applies.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if !validName(name) {
				return cty.NilVal, fmt.Errorf("%q is not a valid secret name: use letters, digits, '-', '_' and '.', starting with a letter or digit", name)
			}
			if opts.secretRefs == nil {
				opts.secretRefs = map[string]bool{}
			}
			opts.secretRefs[name] = true
			return cty.StringVal(name).Mark(SecretMark{Name: name}), nil
		},
	})
}

// checkRecipients checks the robo block's recipients: a syntax check here,
// and the full parse when the caller supplied Options.CheckRecipient.
func checkRecipients(a *hcl.Attribute, list []string, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	elems := map[int]hcl.Range{}
	if tc, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && len(tc.Exprs) == len(list) {
		for i, e := range tc.Exprs {
			elems[i] = e.Range()
		}
	}
	for i, s := range list {
		var err error
		switch {
		case strings.HasPrefix(s, "AGE-SECRET-KEY-"):
			err = fmt.Errorf("element %d is an age identity (a private key), not a recipient: remove it from the configuration at once and use its public key, which robo secret keygen and age-keygen -y print", i+1)
		case strings.HasPrefix(s, "age1pq1"):
			err = fmt.Errorf("element %d is a post-quantum age recipient, which robo does not support yet: use an X25519 recipient (age1...) or an ssh-ed25519 or ssh-rsa public key", i+1)
		case strings.HasPrefix(s, "age1"), strings.HasPrefix(s, "ssh-ed25519 "), strings.HasPrefix(s, "ssh-rsa "):
			if opts.CheckRecipient != nil {
				if e := opts.CheckRecipient(s); e != nil {
					err = fmt.Errorf("element %d is not a valid recipient: %v", i+1, e)
				}
			}
		default:
			err = fmt.Errorf("element %d is not a recipient: use an age public key (age1...) or an SSH public key (\"ssh-ed25519 AAAA...\" or \"ssh-rsa AAAA...\")", i+1)
		}
		if err != nil {
			d := attrError(a, "Invalid recipients", err.Error()+".")
			if r, ok := elems[i]; ok {
				d.Subject = r.Ptr()
			}
			diags = append(diags, d)
		}
	}
	return diags
}

// checkSecrets reports every secret("name") whose name the secrets file
// does not hold, at each call site. It runs only when the caller supplied
// Options.SecretExists, and reads the secrets file only when the
// configuration refers to a secret.
func checkSecrets(cfg *Config, ctx *hcl.EvalContext, opts *Options) hcl.Diagnostics {
	if opts.SecretExists == nil {
		return nil
	}
	// Call sites, found in the syntax so each diagnostic points at its call.
	sites := map[string][]hcl.Range{}
	fileNames := make([]string, 0, len(cfg.Files))
	for n := range cfg.Files {
		fileNames = append(fileNames, n)
	}
	sort.Strings(fileNames)
	for _, fn := range fileNames {
		body, ok := cfg.Files[fn].Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			call, ok := n.(*hclsyntax.FunctionCallExpr)
			if !ok || call.Name != "secret" || len(call.Args) != 1 {
				return nil
			}
			for _, c := range callContexts(cfg, ctx, call.Range()) {
				v, d := call.Args[0].Value(c)
				if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String || v.IsMarked() {
					continue
				}
				name := v.AsString()
				if l := sites[name]; len(l) == 0 || l[len(l)-1] != call.Range() {
					sites[name] = append(sites[name], call.Range())
				}
			}
			return nil
		})
	}
	names := map[string]bool{}
	for n := range opts.secretRefs {
		names[n] = true
	}
	for n := range sites {
		if validName(n) {
			names[n] = true
		}
	}
	if len(names) == 0 {
		return nil
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	file := cfg.Settings.SecretsFile
	shown := file
	if rel, err := filepath.Rel(cfg.Dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		shown = rel
	}
	var diags hcl.Diagnostics
	for _, name := range sorted {
		ok, err := opts.SecretExists(file, name)
		if err != nil {
			d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read the secrets file",
				Detail: fmt.Sprintf("The configuration refers to secrets, but %s cannot be read: %v.", shown, err)}
			if r := cfg.Settings.SecretsFileRange; r != nil {
				d.Subject = r
			} else if s := sites[name]; len(s) > 0 {
				d.Subject = s[0].Ptr()
			}
			return append(diags, d)
		}
		if ok {
			continue
		}
		detail := fmt.Sprintf("No secret named %q in %s; add it with robo secret set %s.", name, shown, name)
		if len(sites[name]) == 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown secret", Detail: detail})
		}
		for _, r := range sites[name] {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown secret", Detail: detail, Subject: r.Ptr()})
		}
	}
	return diags
}

// decodeRoboSecrets decodes the robo block's recipients, identity and
// secrets_file attributes.
func decodeRoboSecrets(attrs hcl.Attributes, ctx *hcl.EvalContext, cfg *Config, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if a, ok := attrs["recipients"]; ok {
		if l, ok := evalStrings(a, ctx, &diags); ok {
			if d := checkRecipients(a, l, opts); d.HasErrors() {
				diags = append(diags, d...)
			} else {
				cfg.Settings.Recipients = l
			}
		}
	}
	path := func(n string, out *string) {
		a, ok := attrs[n]
		if !ok {
			return
		}
		s, ok := evalString(a, ctx, &diags)
		if !ok {
			return
		}
		p, kind, err := NormalizePath(s, cfg.Dir, opts.goos())
		switch {
		case err != nil:
			diags = append(diags, attrError(a, "Invalid "+n, err.Error()))
		case kind == UNCPath && n == "identity":
			diags = append(diags, attrError(a, "Invalid identity", "The identity file must be on a local disk of this host, not on a share: it holds the private key that decrypts every secret."))
		default:
			*out = p
		}
	}
	path("identity", &cfg.Settings.Identity)
	path("secrets_file", &cfg.Settings.SecretsFile)
	if a, ok := attrs["secrets_file"]; ok {
		cfg.Settings.SecretsFileRange = a.Expr.Range().Ptr()
	}
	return diags
}

// callContexts returns the contexts a call at r is evaluated in: ctx, or
// inside a block with for_each, ctx with each bound to every instance.
func callContexts(cfg *Config, ctx *hcl.EvalContext, r hcl.Range) []*hcl.EvalContext {
	var out []*hcl.EvalContext
	add := func(i *Instance) {
		if i != nil && i.contains(r) {
			out = append(out, instanceCtx(ctx, i.each))
		}
	}
	for _, b := range cfg.Backups {
		add(b.Instance)
	}
	names := make([]string, 0, len(cfg.Shares))
	for n := range cfg.Shares {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		add(cfg.Shares[n].Instance)
	}
	if len(out) == 0 {
		return []*hcl.EvalContext{ctx}
	}
	return out
}
