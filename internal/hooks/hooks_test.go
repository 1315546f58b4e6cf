package hooks_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/hooks"
	"github.com/robo-backup/robo/schema"
)

func needSh(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the hook tests run POSIX commands (sh, sleep)")
	}
}

func TestExecExitCodeAndOutput(t *testing.T) {
	needSh(t)
	r := hooks.Exec(context.Background(), hooks.Command{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, Timeout: 10 * time.Second})
	if r.OK() || r.ExitCode != 3 || r.Error != "exit status 3" || r.TimedOut {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(r.Output, "out\n") || !strings.Contains(r.Output, "err\n") {
		t.Fatalf("output %q", r.Output)
	}
	if r := hooks.Exec(context.Background(), hooks.Command{Argv: []string{"true"}}); !r.OK() || r.ExitCode != 0 {
		t.Fatalf("true: %+v", r)
	}
}

func TestExecNoShell(t *testing.T) {
	needSh(t)
	// Arguments reach the program as they are: no shell expands them.
	r := hooks.Exec(context.Background(), hooks.Command{Argv: []string{"echo", "$HOME", "*", "a;b"}})
	if !r.OK() || r.Output != "$HOME * a;b\n" {
		t.Fatalf("%+v", r)
	}
}

func TestExecCannotStart(t *testing.T) {
	r := hooks.Exec(context.Background(), hooks.Command{Argv: []string{"robo-no-such-program-xyz"}})
	if r.OK() || !strings.HasPrefix(r.Error, "cannot start: ") || r.ExitCode != -1 {
		t.Fatalf("%+v", r)
	}
}

// A timeout kills the command and its children (a shell's background
// sleep would otherwise keep the output pipe, and robo, waiting).
func TestExecTimeoutKillsGroup(t *testing.T) {
	needSh(t)
	start := time.Now()
	r := hooks.Exec(context.Background(), hooks.Command{Argv: []string{"sh", "-c", "echo started; sleep 30 & sleep 30"}, Timeout: 500 * time.Millisecond})
	if el := time.Since(start); el > 4*time.Second {
		t.Fatalf("took %s", el)
	}
	if r.OK() || !r.TimedOut || r.ExitCode != -1 || !strings.Contains(r.Error, "timed out after 500ms") || r.Output != "started\n" {
		t.Fatalf("%+v", r)
	}
}

func TestExecInterrupted(t *testing.T) {
	needSh(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	r := hooks.Exec(ctx, hooks.Command{Argv: []string{"sleep", "30"}, Timeout: time.Minute})
	if time.Since(start) > 4*time.Second || r.OK() || r.TimedOut || r.Error != "interrupted: killed" {
		t.Fatalf("%+v after %s", r, time.Since(start))
	}
}

// Output beyond MaxOutput keeps the end.
func TestExecOutputBounded(t *testing.T) {
	needSh(t)
	// 200 000 lines of "x" then a last line.
	r := hooks.Exec(context.Background(), hooks.Command{Argv: []string{"sh", "-c", "i=0; while [ $i -lt 40000 ]; do echo xxxx; i=$((i+1)); done; echo LAST"}, Timeout: time.Minute})
	if !r.OK() || len(r.Output) != hooks.MaxOutput || !r.OutputTruncated || !strings.HasSuffix(r.Output, "xxxx\nLAST\n") {
		t.Fatalf("ok=%v len=%d truncated=%v tail=%q", r.OK(), len(r.Output), r.OutputTruncated, r.Output[max(0, len(r.Output)-20):])
	}
}

func TestRunnerEnvDirAndLog(t *testing.T) {
	needSh(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	r := &hooks.Runner{Dir: dir, LogDir: logs,
		Environ: func() []string { return []string{"PATH=" + os.Getenv("PATH"), "ROBO_OUTCOME=stale", "KEEP=1"} },
		Sets: map[string]schema.Hooks{"db": {
			Before: []string{"sh", "-c", `echo "set=$ROBO_SET src=$ROBO_SOURCE dst=$ROBO_DESTINATION phase=$ROBO_PHASE outcome=${ROBO_OUTCOME-unset} keep=$KEEP pwd=$(pwd)"`},
			After:  []string{"sh", "-c", `echo "phase=$ROBO_PHASE outcome=$ROBO_OUTCOME"`},
		}}}
	if r.Run(context.Background(), hooks.Call{Set: "other", Phase: hooks.Before}) != nil {
		t.Fatal("a set without hooks ran something")
	}
	if r.Run(context.Background(), hooks.Call{Set: "db", Phase: hooks.OnFailure}) != nil {
		t.Fatal("a phase without a command ran something")
	}
	res := r.Run(context.Background(), hooks.Call{Set: "db", Source: "/s", Destination: "/d", Phase: hooks.Before, Outcome: "ignored"})
	real, _ := filepath.EvalSymlinks(dir)
	want := "set=db src=/s dst=/d phase=before outcome=unset keep=1 pwd=" + real + "\n"
	if !res.OK() || res.Phase != hooks.Before || res.Output != want {
		t.Fatalf("%+v\nwant output %q", res, want)
	}
	b, err := os.ReadFile(res.LogFile)
	if err != nil || filepath.Dir(res.LogFile) != logs || !strings.Contains(string(b), want) || !strings.Contains(string(b), "# exit 0 after") {
		t.Fatalf("log %s: %q %v", res.LogFile, b, err)
	}
	res = r.Run(context.Background(), hooks.Call{Set: "db", Phase: hooks.After, Outcome: "partial"})
	if res.Output != "phase=after outcome=partial\n" {
		t.Fatalf("%+v", res)
	}
}

func TestRunnerDefaultTimeout(t *testing.T) {
	cfg := &schema.Config{Dir: "/conf", Backups: []*schema.Backup{
		{Name: "a", Hooks: schema.Hooks{Before: []string{"x"}, Timeout: time.Minute}},
		{Name: "b"},
	}}
	r := hooks.New(cfg)
	if len(r.Sets) != 1 || !r.Has("a", hooks.Before) || r.Has("a", hooks.After) || r.Has("b", hooks.Before) || r.Dir != "/conf" {
		t.Fatalf("%+v", r)
	}
}
