package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/audit"
)

// Issue 20: the audit trail grew with every robo plan. It rotates by size;
// robo audit verify checks the chain across the files and names the file
// and line of an edited entry.
func TestAuditRotationCLI(t *testing.T) {
	defer func(n int64, k int) { auditMaxSize, auditKeep = n, k }(auditMaxSize, auditKeep)
	auditMaxSize, auditKeep = 3000, 0
	conf, _ := testConfig(t)
	for range 15 {
		e, _, errb := testEnv("", false)
		if code := run([]string{"-chdir", conf, "plan"}, e); code != 0 {
			t.Fatalf("plan: exit %d\n%s", code, errb)
		}
	}
	trail := filepath.Join(conf, ".robo", "audit.jsonl")
	rotated, _ := audit.Rotated(trail)
	if len(rotated) < 3 {
		t.Fatalf("%d rotated files after 15 plans with a 3000-byte limit", len(rotated))
	}
	e, out, errb := testEnv("", false)
	if code := run([]string{"-chdir", conf, "audit", "verify"}, e); code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errb)
	}
	if want := regexp.MustCompile(`audit\.jsonl: intact, \d+ entries in \d+ files \(\d+ rotated\)\.\n$`); !want.MatchString(out.String()) {
		t.Errorf("verify said %q", out)
	}
	b, _ := os.ReadFile(rotated[1])
	lines := strings.SplitAfter(string(b), "\n")
	lines[1] = strings.Replace(lines[1], `"user":"`, `"user":"x`, 1)
	os.WriteFile(rotated[1], []byte(strings.Join(lines, "")), 0o600)
	e, out, _ = testEnv("", false)
	if code := run([]string{"-chdir", conf, "audit", "verify"}, e); code != 1 {
		t.Fatalf("verify of an edited trail: exit %d\n%s", code, out)
	}
	if want := "  " + filepath.Base(rotated[1]) + " line 2: entry "; !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "TAMPERED") {
		t.Errorf("verify said %q, want %q", out, want)
	}
}
