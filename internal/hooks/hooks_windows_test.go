package hooks_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/hooks"
)

// TestMain makes the test binary a helper program when ROBO_HOOKS_ECHO is
// set: it prints its arguments, one per line between brackets, as the C
// runtime parsed them.
func TestMain(m *testing.M) {
	if os.Getenv("ROBO_HOOKS_ECHO") == "1" {
		for _, a := range os.Args[1:] {
			fmt.Printf("[%s]\n", a)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// echoHelper copies the test binary into a directory whose name holds a
// space and returns its path.
func echoHelper(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "hook dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "echo args.exe")
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(exe)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return exe
}

// Hooks written as ["cmd", "/c", COMMAND] reach cmd.exe verbatim: Go's
// quoting (\" inside quotes) is not what cmd parses (issue 14, bug 5).
func TestCmdHookCommandLineVerbatim(t *testing.T) {
	exe := echoHelper(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		argv []string
		want string // output, \r\n turned into \n and without trailing spaces
	}{
		{"quoted comparison", []string{"cmd", "/c", `if "a b"=="a b" (echo same) else (echo differ)`}, "same\n"},
		{"program path with spaces and quoted arguments", []string{"cmd", "/c", `"` + exe + `" "arg one" two "x \"y\" z"`},
			"[arg one]\n[two]\n[x \"y\" z]\n"},
		{"command split over elements", []string{"CMD.EXE", "/C", "echo", `"a  b"`}, "\"a  b\"\n"},
		{"switches before /c", []string{"cmd", "/d", "/c", `echo "x"`}, "\"x\"\n"},
		{"redirect to a quoted file name", []string{"cmd", "/c", `echo hello> "out file.txt" && type "out file.txt"`}, "hello\n"},
		{"not cmd: Go's quoting, as the C runtime parses it", []string{exe, `a "b" c`, `d\`}, "[a \"b\" c]\n[d\\]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := hooks.Exec(context.Background(), hooks.Command{Argv: tc.argv, Dir: dir, Env: append(os.Environ(), "ROBO_HOOKS_ECHO=1"), Timeout: time.Minute})
			// cmd's echo keeps the spaces before a redirection or &&.
			got := strings.ReplaceAll(strings.ReplaceAll(r.Output, "\r\n", "\n"), " \n", "\n")
			if !r.OK() || got != tc.want {
				t.Fatalf("%q: error %q, output %q, want %q", tc.argv, r.Error, got, tc.want)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(dir, "out file.txt")); err != nil || strings.TrimSpace(string(b)) != "hello" {
		t.Fatalf("out file.txt: %q, %v", b, err)
	}
}
