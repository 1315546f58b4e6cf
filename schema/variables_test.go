package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// Issue 20: typed variables, validation located at the value's source,
// sensitive values never shown.
func TestTypedVariables(t *testing.T) {
	load := func(vars map[string]string) (*Config, hcl.Diagnostics) {
		o := testOptions()
		o.Vars = vars
		return Load("testdata/valid/variables-typed", o)
	}
	cfg, diags := load(nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b := cfg.Backups[0]
	if b.Threads != 4 || strings.Join(b.ExcludeDirs, ",") != "cache,tmp" || b.Watch {
		t.Errorf("defaults: %+v", b)
	}
	sh := cfg.Shares["nas"]
	if sh.Port != 445 || sh.UNC != `\\nas01\backups` || sh.Password.Name != "nas" {
		t.Errorf("optional attribute default or sensitive secret reference: %+v", sh)
	}
	if v := cfg.Variables["nas_password"]; !v.Sensitive || !v.Nullable || v.Typed {
		t.Errorf("nas_password %+v", v)
	}
	if v := cfg.Variables["watch"]; v.Nullable || !v.Typed {
		t.Errorf("watch %+v", v)
	}

	cfg, diags = load(map[string]string{"threads": "16", "dirs": `["a", "b c"]`, "share": `{server = "nas02", port = 1445}`})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if b := cfg.Backups[0]; b.Threads != 16 || strings.Join(b.ExcludeDirs, ",") != "a,b c" || b.Watch {
		t.Errorf("from -var: %+v", b)
	}
	if sh := cfg.Shares["nas"]; sh.Port != 1445 || sh.UNC != `\\nas02\backups` {
		t.Errorf("object from -var: %+v", sh)
	}

	_, diags = load(map[string]string{"threads": "500"})
	if len(diags) != 1 {
		t.Fatalf("want one diagnostic, got %v", diags)
	}
	d := diags[0]
	if d.Summary != "Invalid value for variable" || !strings.Contains(d.Detail, "threads must be from 1 to 128.") ||
		!strings.Contains(d.Detail, "validation rule at main.hcl:16,3") {
		t.Errorf("validation diagnostic: %s: %s", d.Summary, d.Detail)
	}
	if d.Subject == nil || d.Subject.Filename != "<value for var.threads>" || d.Subject.End.Column != 4 {
		t.Errorf("validation diagnostic located at %v, want the -var value", d.Subject)
	}

	_, diags = load(map[string]string{"dirs": `{a = 1}`})
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, `Variable "dirs" takes a list(string): list of string required`) || diags[0].Subject.Filename != "<value for var.dirs>" {
		t.Errorf("type diagnostic %v", diags)
	}
}

func TestSensitiveValueNeverShown(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", `
variable "token" {
  type      = number
  sensitive = true
  default   = 1
  validation {
    condition     = var.token > 100
    error_message = "token ${var.token} is too small"
  }
}
`)
	o := testOptions()
	for _, raw := range []string{"hunter2secret", "7"} {
		o.Vars = map[string]string{"token": raw}
		_, diags := Load(dir, o)
		if !diags.HasErrors() {
			t.Fatalf("%s: no error", raw)
		}
		for _, d := range diags {
			if strings.Contains(d.Summary+d.Detail, raw) {
				t.Errorf("diagnostic shows the sensitive value %q: %s: %s", raw, d.Summary, d.Detail)
			}
		}
	}
	o.LookupEnv = func(k string) (string, bool) { return "3", k == "ROBO_VAR_token" }
	o.Vars = nil
	_, diags := Load(dir, o)
	if len(diags) != 1 || diags[0].Subject.Filename != "<value for var.token from ROBO_VAR_token>" || strings.Contains(diags[0].Detail, "3 is") {
		t.Errorf("environment value: %v", diags)
	}
}

func writeFile(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
