package views

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/hooks"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
)

// hasControl reports a byte a terminal would act on (anything below 0x20
// but the newline, and DEL), or a byte that is not UTF-8.
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' {
			return true
		}
	}
	return false
}

// Issue 13 and 20: a name holding CR, newline and ANSI escapes cannot
// rewrite the lines above the prompt: every name is escaped and each
// change keeps its own line.
func TestPlanViewEscapesHostileNames(t *testing.T) {
	forged := "x\r\x1b[2K  +   New File         1 B  harmless.txt"
	names := []string{forged, "two\nlines", "tab\there", "b\xff", "rtl\u202etxt.exe", `"quoted`}
	var cs []engine.Change
	for _, n := range names {
		cs = append(cs, engine.Change{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: n, Phase: engine.PhaseDelete, Size: 1, Dst: &engine.Meta{Kind: engine.KindFile, Size: 1}})
	}
	p := &plan.Plan{FormatVersion: "1", Refresh: true, Sets: []*plan.Set{{Name: "docs", Action: plan.Sync, Reason: "files differ", Engine: "native", Mode: "mirror",
		Source: "/s", Destination: "/d", Spec: &engine.Spec{Name: "docs", Source: "/s", Destination: "/d", Mirror: true}, Changes: engine.ChangeListOf(cs),
		ScanErrors: []engine.FileError{{Path: "bad\nname", Op: "read", Err: "open /s/bad\nname: denied"}},
		Warnings:   []string{"warn \x1b]0;title\x07"}}}}
	var b bytes.Buffer
	if err := NewPlanView(false, &b, true).Plan(p); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if hasControl(out) {
		t.Fatalf("control characters reach the terminal:\n%q", out)
	}
	if n := strings.Count(out, "*EXTRA File"); n != len(names) {
		t.Errorf("%d change lines, want %d:\n%s", n, len(names), out)
	}
	for _, want := range []string{`"x\r\x1b[2K  +   New File         1 B  harmless.txt"`, `"two\nlines"`, `"b\xff"`, `"rtl\u202etxt.exe"`, `"\"quoted"`,
		`Error: cannot read "bad\nname": open /s/bad\nname: denied`, `Warning: warn \x1b]0;title\a`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "harmless.txt") && !strings.Contains(l, "*EXTRA File") {
			t.Errorf("a line was forged: %q", l)
		}
	}
}

func TestApplyViewEscapesHostileNames(t *testing.T) {
	r := &apply.Result{Sets: []*apply.SetResult{{Name: "docs", Outcome: state.Partial, Message: "1 failed\r\x1b[1Adocs: success",
		Hooks: []*hooks.Result{{Phase: "after", Error: "exit 1\n", Output: "line\x1b[31m red\nok"}},
		Result: &engine.Result{Errors: []engine.FileError{{Path: "a\nb", Op: "copy", Err: "open a\nb: denied"}},
			Skipped: []engine.Skip{{Path: "c\rd", Action: engine.Delete, Reason: "changed"}}}}}}
	var b bytes.Buffer
	if err := NewApplyView(false, &b).Result(r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if hasControl(out) {
		t.Fatalf("control characters reach the terminal:\n%q", out)
	}
	for _, want := range []string{`1 failed\r\x1b[1Adocs: success`, `Error: cannot copy "a\nb": open a\nb: denied`, `Skipped delete "c\rd": changed`, `| line\x1b[31m red`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}
