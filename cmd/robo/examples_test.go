package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The bundled examples stay valid: the Windows fleet example validates on
// any OS (with its secrets file), and the quickstart plans cleanly.
func TestExamplesValidate(t *testing.T) {
	for _, dir := range []string{"../../examples", "../../examples/quickstart"} {
		e, out, errb := testEnv("", false)
		abs, _ := filepath.Abs(dir)
		if code := run([]string{"-chdir", abs, "validate"}, e); code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", dir, code, out, errb)
		}
		if !strings.Contains(out.String(), "The configuration is valid") {
			t.Fatalf("%s: %s", dir, out)
		}
	}
}
