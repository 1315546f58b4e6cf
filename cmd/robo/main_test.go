package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	tt "github.com/robo-backup/robo/internal/testtree"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"robo": func() { os.Exit(process(os.Args[1:])) },
		// mkfile FILE...: create empty files; a hook command that runs on
		// every OS (touch is not a Windows program).
		"mkfile": func() {
			for _, p := range os.Args[1:] {
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
			}
		},
	})
}

// TestScripts runs the CLI end-to-end tests in testdata/script against the
// real binary (testscript re-executes this test binary as "robo").
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"treeeq":  cmdTreeEq,
			"mtime":   cmdMtime,
			"grepcnt": cmdGrepCount,
			"glob":    cmdGlob,
			"replace": cmdReplace,
			"exits":   cmdExits,
		},
	})
}

// exits N COMMAND ARGS...: run a command (as exec does) and require exit
// code N; its output is kept for stdout/stderr checks.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// treeeq [-nodirtimes] [-ignore P1,P2] A B: the trees are identical: names,
// kinds, bytes, file mtimes and modes, and directory mtimes. Paths equal to
// or under an ignored prefix are left out.
func cmdTreeEq(ts *testscript.TestScript, neg bool, args []string) {
	o := tt.Options{DirTimes: true}
	var ignore []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-nodirtimes":
			o.DirTimes = false
		case "-ignore":
			ignore = strings.Split(args[1], ",")
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: treeeq [-nodirtimes] [-ignore P,...] A B")
	}
	o.Ignore = func(p string) bool {
		for _, i := range ignore {
			if p == i || strings.HasPrefix(p, i+"/") {
				return true
			}
		}
		return false
	}
	a, err := tt.Read(ts.MkAbs(args[0]))
	ts.Check(err)
	b, err := tt.Read(ts.MkAbs(args[1]))
	ts.Check(err)
	d := tt.Diff(a, b, o)
	switch {
	case neg && d == "":
		ts.Fatalf("trees %s and %s are identical", args[0], args[1])
	case !neg && d != "":
		ts.Fatalf("trees %s and %s differ:\n%s", args[0], args[1], d)
	}
}

// mtime FILE [+-]SECONDS: set a file's modification time relative to the
// fixed test epoch (2024-03-01 12:00:00 UTC).
func cmdMtime(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mtime FILE SECONDS")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	when := tt.Base.Add(time.Duration(n) * time.Second)
	ts.Check(os.Chtimes(ts.MkAbs(args[0]), when, when))
}

// grepcnt N PATTERN FILE: FILE has exactly N lines containing PATTERN.
func cmdGrepCount(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: grepcnt N TEXT FILE")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	text := ts.ReadFile(args[2])
	got := 0
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, args[1]) {
			got++
		}
	}
	if got != want {
		ts.Fatalf("%d lines of %s contain %q, want %d", got, filepath.Base(args[2]), args[1], want)
	}
}

// glob PATTERN: a file matches PATTERN (filepath.Match syntax,
// slash-separated, relative to the script's directory); ! glob: none does.
// ls is not a Windows program.
func cmdGlob(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: glob PATTERN")
	}
	m, err := filepath.Glob(ts.MkAbs(filepath.FromSlash(args[0])))
	ts.Check(err)
	switch {
	case neg && len(m) > 0:
		ts.Fatalf("%s matches %q", args[0], m)
	case !neg && len(m) == 0:
		ts.Fatalf("no file matches %s", args[0])
	}
}

// replace IN OUT OLD NEW [OLD NEW]...: write IN to OUT with every OLD
// replaced by its NEW, in order (sed is not a Windows program). Each OLD
// must occur, so an edit that no longer applies fails instead of testing
// an unedited file.
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 4 || len(args)%2 != 0 {
		ts.Fatalf("usage: replace IN OUT OLD NEW [OLD NEW]...")
	}
	text := ts.ReadFile(args[0])
	for i := 2; i < len(args); i += 2 {
		if !strings.Contains(text, args[i]) {
			ts.Fatalf("replace: %q is not in %s", args[i], args[0])
		}
		text = strings.ReplaceAll(text, args[i], args[i+1])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(text), 0o644))
}
