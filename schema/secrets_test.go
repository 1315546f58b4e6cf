package schema

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// evalAttr parses src as one attribute "password = ..." and evaluates it
// with evalSecret in a context with robo's functions and the given locals.
func evalAttr(t *testing.T, src string, locals string) (SecretRef, bool, hcl.Diagnostics) {
	t.Helper()
	opts := testOptions()
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.EmptyObjectVal}, Functions: functions(t.TempDir(), &opts)}
	var diags hcl.Diagnostics
	if locals != "" {
		lf, d := hclsyntax.ParseConfig([]byte("locals {\n"+locals+"\n}\n"), "locals.hcl", hcl.InitialPos)
		if d.HasErrors() {
			t.Fatal(d)
		}
		content, _ := lf.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "locals"}}})
		diags = append(diags, evalLocals(content.Blocks, nil, ctx)...)
	}
	f, d := hclsyntax.ParseConfig([]byte("password = "+src+"\n"), "share.hcl", hcl.InitialPos)
	if d.HasErrors() {
		t.Fatal(d)
	}
	attrs, _ := f.Body.JustAttributes()
	ref, ok := evalSecret(attrs["password"], ctx, &diags)
	return ref, ok, diags
}

func TestEvalSecret(t *testing.T) {
	locals := `pw = secret("nas")
other = "x-${secret("nas")}"
pick = true ? secret("a") : secret("b")`
	for _, c := range []struct {
		src, want, diag string
	}{
		{`secret("nas")`, "nas", ""},
		{`"${secret("nas")}"`, "nas", ""}, // a lone interpolation is the value itself
		{`local.pw`, "nas", ""},
		{`local.pick`, "a", ""},
		{`false ? "x" : secret("b")`, "b", ""},
		{`"user:${secret("nas")}"`, "", "A secret must be used whole"},
		{`local.other`, "", "A secret must be used whole"},
		{`upper(secret("nas"))`, "", "A secret must be used whole"},
		{`"hunter2"`, "", "takes a secret, not a value written in the configuration"},
		{`null`, "", "must not be null"},
		{`secret("bad name")`, "", "is not a valid secret name"},
	} {
		t.Run(c.src, func(t *testing.T) {
			ref, ok, diags := evalAttr(t, c.src, locals)
			if c.diag == "" {
				if !ok || ref.Name != c.want || diags.HasErrors() {
					t.Fatalf("got %+v %v %v", ref, ok, diags)
				}
				return
			}
			if ok || !strings.Contains(diags.Error(), c.diag) {
				t.Fatalf("got %+v %v, diags %v, want %q", ref, ok, diags, c.diag)
			}
			for _, d := range diags {
				if d.Severity == hcl.DiagError && (d.Subject == nil || d.Subject.Filename != "share.hcl" || d.Subject.Start.Line != 1) {
					t.Errorf("diagnostic not located at the attribute: %+v", d)
				}
			}
			if strings.Contains(c.src, "hunter2") && strings.Contains(diags.Error(), "hunter2") {
				t.Error("the diagnostic repeats the literal value")
			}
		})
	}
}

func TestSecretOf(t *testing.T) {
	v := cty.StringVal("nas").Mark(SecretMark{Name: "nas"})
	if ref, ok := SecretOf(v); !ok || ref.Name != "nas" {
		t.Fatal(ref, ok)
	}
	// Both branches of a conditional mark its result.
	if ref, ok := SecretOf(v.Mark(SecretMark{Name: "b"})); !ok || ref.Name != "nas" {
		t.Fatal(ref, ok)
	}
	for _, bad := range []cty.Value{
		cty.StringVal("nas"),
		cty.StringVal("x-nas").Mark(SecretMark{Name: "nas"}),
		cty.StringVal("nas").Mark(SecretMark{Name: "nas"}).Mark("other"),
		cty.StringVal("nas").Mark(SecretMark{Name: "a"}).Mark(SecretMark{Name: "b"}),
		cty.ListVal([]cty.Value{v}),
		cty.UnknownVal(cty.String).Mark(SecretMark{Name: "nas"}),
		cty.NullVal(cty.String).Mark(SecretMark{Name: "nas"}),
	} {
		if ref, ok := SecretOf(bad); ok {
			t.Errorf("SecretOf(%#v) = %v", bad, ref)
		}
	}
	if s := (SecretRef{Name: "nas"}).String(); s != "(sensitive)" {
		t.Errorf("String() = %q", s)
	}
}

func writeConfig(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for n, s := range files {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSecretExistence(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"main.hcl": `robo {
  secrets_file = "s/secrets.json"
}
locals {
  a = secret("known")
  b = secret("missing")
  c = [for n in ["loop"] : secret(n)]
}
variable "v" {
  default = secret("missing")
}
`})
	var asked []string
	opts := hostOptions()
	opts.SecretExists = func(path, name string) (bool, error) {
		if path != filepath.Join(dir, "s", "secrets.json") {
			t.Errorf("asked about %s", path)
		}
		asked = append(asked, name)
		return name == "known", nil
	}
	_, diags := Load(dir, opts)
	if !slices.Equal(asked, []string{"known", "loop", "missing"}) {
		t.Errorf("asked %v", asked)
	}
	var lines []int
	for _, d := range diags {
		if d.Summary != "Unknown secret" {
			t.Errorf("unexpected %s: %s", d.Summary, d.Detail)
			continue
		}
		if d.Subject == nil {
			if !strings.Contains(d.Detail, `"loop"`) {
				t.Errorf("unlocated: %s", d.Detail)
			}
			continue
		}
		lines = append(lines, d.Subject.Start.Line)
		want := `No secret named "missing" in ` + filepath.Join("s", "secrets.json") + `; add it with robo secret set missing.`
		if d.Detail != want {
			t.Errorf("detail %q, want %q", d.Detail, want)
		}
	}
	// Each call site of the missing name; the name built in a for loop
	// cannot be located at its call but is still reported.
	if !slices.Equal(lines, []int{6, 10}) || len(diags) != 3 {
		t.Errorf("lines %v, %d diagnostics: %v", lines, len(diags), diags)
	}

	// A secrets file that cannot be read is one diagnostic at secrets_file.
	opts.SecretExists = func(string, string) (bool, error) { return false, errors.New("unexpected end of JSON input") }
	_, diags = Load(dir, opts)
	if len(diags) != 1 || diags[0].Summary != "Cannot read the secrets file" || diags[0].Subject == nil || diags[0].Subject.Start.Line != 2 {
		t.Errorf("diags %v", diags)
	}

	// Without references the file is never consulted.
	dir2 := writeConfig(t, map[string]string{"main.hcl": "backup \"a\" {\n  source = \"" + hostAbs("/a") + "\"\n  destination = \"" + hostAbs("/b") + "\"\n}\n"})
	opts.SecretExists = func(string, string) (bool, error) { t.Error("consulted"); return false, nil }
	if _, diags := Load(dir2, opts); diags.HasErrors() {
		t.Error(diags)
	}
}

func TestSecretSettings(t *testing.T) {
	dir := writeConfig(t, map[string]string{"main.hcl": `robo {
  recipients   = ["age1one", "ssh-ed25519 AAAA two"]
  identity     = "keys/id.txt"
  secrets_file = "` + hostAbs("/etc/robo/secrets.json") + `"
}
`})
	opts := hostOptions()
	var checked []string
	opts.CheckRecipient = func(s string) error {
		checked = append(checked, s)
		if s == "age1one" {
			return errors.New("malformed")
		}
		return nil
	}
	cfg, diags := Load(dir, opts)
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "element 1 is not a valid recipient: malformed") ||
		diags[0].Subject.Start.Line != 2 || diags[0].Subject.Start.Column != 19 {
		t.Fatalf("diags %v", diags)
	}
	if len(checked) != 2 || cfg.Settings.Recipients != nil {
		t.Errorf("checked %v, recipients %v", checked, cfg.Settings.Recipients)
	}
	if cfg.Settings.Identity != filepath.Join(dir, "keys", "id.txt") || cfg.Settings.SecretsFile != filepath.FromSlash(hostAbs("/etc/robo/secrets.json")) {
		t.Errorf("settings %+v", cfg.Settings)
	}
	opts.CheckRecipient = nil
	cfg, diags = Load(dir, opts)
	if diags.HasErrors() || len(cfg.Settings.Recipients) != 2 {
		t.Fatalf("%v %v", diags, cfg.Settings.Recipients)
	}

	// Defaults.
	cfg, _ = Load(writeConfig(t, map[string]string{"main.hcl": "robo {}\n"}), testOptions())
	if filepath.Base(cfg.Settings.SecretsFile) != DefaultSecretsFile || cfg.Settings.Identity != "" || cfg.Settings.Recipients != nil {
		t.Errorf("defaults %+v", cfg.Settings)
	}
}
