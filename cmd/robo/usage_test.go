package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// commandPaths lists every visible command and subcommand as argument
// lists (["state", "list"]), from what the commands declare.
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	var paths [][]string
	var walk func(path []string, run func(*env, []string) error)
	walk = func(path []string, run func(*env, []string) error) {
		info := describe(run)
		if info.subs == nil && info.flags == nil {
			t.Errorf("robo %s declares neither flags nor subcommands: it must parse its options with newFlags or dispatch with group", strings.Join(path, " "))
		}
		paths = append(paths, path)
		for _, s := range info.subs {
			if !s.hidden {
				walk(append(append([]string{}, path...), s.name), s.run)
			}
		}
	}
	for _, c := range commands {
		walk([]string{c.name}, c.run)
	}
	return paths
}

// Issue 20: robo state -h (and service, audit, notify, share, robocopy -h)
// printed "unknown subcommand" and exited 1. Every command and subcommand
// answers -h, -help, --help and robo help with its usage, exit 0.
func TestEveryHelpExitsZero(t *testing.T) {
	paths := commandPaths(t)
	if len(paths) < 30 {
		t.Fatalf("only %d command paths: %v", len(paths), paths)
	}
	for _, path := range paths {
		for _, args := range [][]string{
			append(append([]string{}, path...), "-h"),
			append(append([]string{}, path...), "--help"),
			append(append([]string{}, path...), "-help"),
			append([]string{"help"}, path...),
		} {
			e, out, errb := testEnv("", false)
			e.dir = t.TempDir()
			code := run(args, e)
			if code != 0 {
				t.Errorf("robo %s: exit %d, want 0\n%s", strings.Join(args, " "), code, errb)
				continue
			}
			if !strings.Contains(errb.String(), "Usage: robo ") {
				t.Errorf("robo %s: no usage on stderr:\n%s", strings.Join(args, " "), errb)
			}
			if out.Len() > 0 {
				t.Errorf("robo %s wrote to stdout: %s", strings.Join(args, " "), out)
			}
		}
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		e, _, errb := testEnv("", false)
		if code := run(args, e); code != 0 || !strings.Contains(errb.String(), "Commands:") {
			t.Errorf("robo %s: exit %d\n%s", strings.Join(args, " "), code, errb)
		}
	}
}

// A group's usage lists its subcommands; an unknown one is an error that
// lists them.
func TestGroupUsage(t *testing.T) {
	e, _, errb := testEnv("", false)
	if code := run([]string{"state", "-h"}, e); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Usage: robo state SUBCOMMAND [options]", "  list [-json]", "  show NAME", "  rm NAME...", "Run 'robo state SUBCOMMAND -h'"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("robo state -h lacks %q:\n%s", want, errb)
		}
	}
	e, _, errb = testEnv("", false)
	if code := run([]string{"state", "frob"}, e); code != 1 || !strings.Contains(errb.String(), `unknown state subcommand "frob"`) ||
		!strings.Contains(errb.String(), "use list, show NAME, rm NAME... or mv") {
		t.Errorf("robo state frob: exit %d\n%s", code, errb)
	}
	e, _, errb = testEnv("", false)
	if code := run([]string{"service", "-h"}, e); code != 0 || strings.Contains(errb.String(), "  run ") {
		t.Errorf("robo service -h: exit %d, the hidden run listed?\n%s", code, errb)
	}
}

// Issue 20: robo validate otherdir validated the current directory and
// robo state list X ignored X. Arguments a command does not take are
// errors, before it reads anything.
func TestExtraArgumentsAreErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"validate", "otherdir"}, `robo validate takes no arguments, got "otherdir"`},
		{[]string{"state", "list", "X"}, `robo state list takes no arguments, got "X"`},
		{[]string{"version", "X"}, `robo version takes no arguments, got "X"`},
		{[]string{"status", "X"}, `robo status takes no arguments`},
		{[]string{"plan", "X"}, `robo plan takes no arguments`},
		{[]string{"watch", "X"}, `takes no arguments`},
		{[]string{"ui", "X"}, `takes no arguments`},
		{[]string{"secret", "list", "X"}, `takes no arguments`},
		{[]string{"secret", "keygen", "X"}, `takes no arguments`},
		{[]string{"secret", "rekey", "X"}, `takes no arguments`},
		{[]string{"service", "install", "X"}, `robo service install takes no arguments, got "X"`},
		{[]string{"service", "status", "X"}, `robo service status takes no arguments, got "X"`},
		{[]string{"service", "stop", "X"}, `robo service stop takes no arguments, got "X"`},
		{[]string{"completion", "bash", "X"}, `robo completion bash takes no arguments, got "X"`},
		{[]string{"show", "a", "b"}, `robo show takes one plan file`},
		{[]string{"apply", "a", "b"}, `at most one plan file`},
		{[]string{"audit", "verify", "a", "b"}, `at most one file`},
		{[]string{"notify", "test", "a", "b"}, `takes one notifier name`},
		{[]string{"state", "show", "a", "b"}, `takes one backup set name`},
	} {
		e, out, errb := testEnv("", false)
		e.dir = t.TempDir()
		code := run(tc.args, e)
		if code != 1 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("robo %s: exit %d, stderr %q, want exit 1 and %q", strings.Join(tc.args, " "), code, errb, tc.want)
		}
		if out.Len() > 0 {
			t.Errorf("robo %s printed %q", strings.Join(tc.args, " "), out)
		}
	}
	// The hint says how to do what was meant.
	e, _, errb := testEnv("", false)
	run([]string{"validate", "otherdir"}, e)
	if !strings.Contains(errb.String(), "robo -chdir DIR validate") {
		t.Errorf("no -chdir hint:\n%s", errb)
	}
}

// The usage block at the top of docs/cli.md is robo's usage, byte for byte.
func TestCLIDocUsageBlock(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "```\n")
	end := strings.Index(doc[start+4:], "```\n")
	if start < 0 || end < 0 {
		t.Fatal("docs/cli.md has no code block")
	}
	got := doc[start+4 : start+4+end]
	var want strings.Builder
	usage(&want)
	if got != want.String() {
		t.Errorf("the usage block of docs/cli.md differs from robo's usage; replace it with the output of robo -h:\n--- docs/cli.md\n%s\n--- robo -h\n%s", got, want.String())
	}
}

// Issue 20: format_version was the number 1 in status -json and the string
// "1" elsewhere. It is the string "1" in every JSON document.
func TestFormatVersionIsAString(t *testing.T) {
	conf, _ := testConfig(t)
	for _, args := range [][]string{
		{"validate", "-json"}, {"plan", "-json"}, {"apply", "-json", "-auto-approve"}, {"status", "-json"},
		{"verify", "-json"}, {"audit", "verify", "-json"},
	} {
		e, out, errb := testEnv("", false)
		if code := run(append([]string{"-chdir", conf}, args...), e); code != 0 {
			t.Fatalf("robo %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errb)
		}
		var doc map[string]any
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("robo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if doc["format_version"] != "1" {
			t.Errorf("robo %s: format_version %#v, want \"1\"", strings.Join(args, " "), doc["format_version"])
		}
	}
}
