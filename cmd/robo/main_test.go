package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/vfs/vfstest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"robo": func() {
			faultsFromEnv()
			os.Exit(process(os.Args[1:]))
		},
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
		"rewrite": rewriteLoop,
		// rewritten READY: remove READY and wait (a minute at most) until
		// rewrite has written its file again and made READY anew.
		"rewritten": func() {
			os.Remove(os.Args[1])
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if _, err := os.Stat(os.Args[1]); err == nil {
					return
				}
			}
			fmt.Fprintln(os.Stderr, "rewritten: the file was not rewritten within a minute")
			os.Exit(1)
		},
	})
}

// faultsFromEnv injects the fault a testscript asks for in its
// environment into the copy path of the robo it runs (testOnlyWrapFS):
//
//	ROBO_TEST_REWRITE_ONCE=ROOT/NAME  NAME, in every source root whose last element
//	                                  is ROOT, is rewritten during its first copy
//	                                  (vfstest.Rewriter with Limit 1)
func faultsFromEnv() {
	root, name, ok := strings.Cut(os.Getenv("ROBO_TEST_REWRITE_ONCE"), "/")
	if !ok {
		return
	}
	testOnlyWrapFS = func(r string, fsys vfs.FS) vfs.FS {
		if filepath.Base(r) != root {
			return fsys
		}
		rw := vfstest.NewRewriter(fsys, r, name)
		rw.Limit = 1
		return rw
	}
}

// rewrite FILE READY STOP: rewrite FILE in a loop, each time emptying it
// and writing a whole new content of another size (a new size and
// modification time), as a shell's > or a program saving in place does,
// until the file STOP exists. READY is created after each rewrite that
// finds it missing.
// A write that fails (a sharing violation on Windows) is tried again.
func rewriteLoop() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: rewrite FILE READY STOP")
		os.Exit(2)
	}
	file, ready, stop := os.Args[1], os.Args[2], os.Args[3]
	for i := 0; ; i++ {
		if _, err := os.Stat(stop); err == nil {
			return
		}
		os.WriteFile(file, []byte(strings.Repeat(string(rune('a'+i%26)), 64<<10+(i*7919)%65536)), 0o644)
		if _, err := os.Stat(ready); err != nil {
			if err := os.WriteFile(ready, nil, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
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
			"waitfor": cmdWaitFor,
			"greplog": cmdGrepLog,
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

// waitfor FILE: wait until FILE exists (a background command's signal that
// it is running), failing after a minute.
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfor FILE")
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
	}
	ts.Fatalf("%s did not appear within a minute", args[0])
}

// greplog PATTERN GLOB: the one file matching GLOB (filepath.Match
// syntax, slash-separated) contains PATTERN (a regular expression): a run
// log, whose name holds the time it was written.
func cmdGrepLog(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: greplog PATTERN GLOB")
	}
	m, err := filepath.Glob(ts.MkAbs(filepath.FromSlash(args[1])))
	ts.Check(err)
	if len(m) != 1 {
		ts.Fatalf("%s matches %d files, want 1", args[1], len(m))
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	b, err := os.ReadFile(m[0])
	ts.Check(err)
	if re.Match(b) == neg {
		ts.Fatalf("%s: match of %q is %v", filepath.Base(m[0]), args[0], !neg)
	}
}
