package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/schema"
)

// The phases.
const (
	Before    = "before"
	After     = "after"
	OnFailure = "on_failure"
)

// Limits of what is kept of a command's output.
const (
	// MaxOutput is how much of the end of the combined output a Result keeps.
	MaxOutput = 64 << 10
	// MaxLogFile is how much of the output a run log file keeps.
	MaxLogFile = 16 << 20
	// waitDelay is how long robo waits for the output pipes to close after
	// the command ended (a background child may hold them open).
	waitDelay = 5 * time.Second
)

// Call is one phase of one set.
type Call struct {
	Set         string
	Source      string
	Destination string
	Phase       string
	// Outcome is the set's outcome so far, for after and on_failure.
	Outcome string
}

// Result is what one command did.
type Result struct {
	Phase   string   `json:"phase"`
	Command []string `json:"command"`
	// ExitCode is the command's exit status; -1 when it did not start or
	// was killed.
	ExitCode int           `json:"exit_code"`
	Duration time.Duration `json:"duration_ns"`
	// Output is the end of the combined standard output and error, at
	// most MaxOutput bytes; OutputTruncated says that earlier output was
	// dropped.
	Output          string `json:"output,omitempty"`
	OutputTruncated bool   `json:"output_truncated,omitempty"`
	TimedOut        bool   `json:"timed_out,omitempty"`
	// Error says why the command failed ("exit status 1", "timed out
	// after 5m0s: killed", "cannot start: ..."); empty on success.
	Error string `json:"error,omitempty"`
	// LogFile is the run log holding the output, when one was written.
	LogFile string `json:"log_file,omitempty"`
}

// OK reports whether the command ran and exited 0.
func (r *Result) OK() bool { return r.Error == "" }

// Command is one process to run.
type Command struct {
	Argv    []string
	Dir     string
	Env     []string
	Timeout time.Duration
	// Log, when set, receives the combined output (at most MaxLogFile
	// bytes of it).
	Log io.Writer
}

// Exec runs c and waits for it. It never returns nil. When ctx ends the
// command is killed and the Result says it was interrupted.
func Exec(ctx context.Context, c Command) *Result {
	r := &Result{Command: c.Argv, ExitCode: -1}
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		r.Error = "cannot start: the command is empty"
		return r
	}
	tctx, cancel := ctx, context.CancelFunc(func() {})
	if c.Timeout > 0 {
		tctx, cancel = context.WithTimeout(ctx, c.Timeout)
	}
	defer cancel()
	out := &capture{max: MaxOutput, log: c.Log, logLeft: MaxLogFile}
	cmd := exec.CommandContext(tctx, c.Argv[0], c.Argv[1:]...)
	cmd.Dir, cmd.Env = c.Dir, c.Env
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = waitDelay
	killGroup(cmd)
	setCmdLine(cmd, c.Argv)
	start := time.Now()
	err := cmd.Run()
	r.Duration = time.Since(start)
	r.Output, r.OutputTruncated = out.result()
	if cmd.ProcessState != nil {
		r.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case cmd.Process == nil && err != nil:
		r.Error = "cannot start: " + err.Error()
	case err == nil, errors.Is(err, exec.ErrWaitDelay) && r.ExitCode == 0:
		// ErrWaitDelay: the command exited 0 but left a child holding its
		// output open; the pipes were closed.
	case ctx.Err() != nil:
		r.ExitCode = -1
		r.Error = "interrupted: killed"
	case tctx.Err() == context.DeadlineExceeded:
		r.ExitCode, r.TimedOut = -1, true
		r.Error = fmt.Sprintf("timed out after %s: killed", c.Timeout)
	default:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.Error = ee.Error()
		} else {
			r.Error = err.Error()
		}
	}
	return r
}

// capture keeps the tail of the output in memory and writes the output to
// a log up to a limit. exec calls Write from one goroutine at a time when
// Stdout and Stderr are the same writer; the mutex covers reads.
type capture struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	dropped bool
	log     io.Writer
	logLeft int64
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.log != nil && c.logLeft > 0 {
		n := int64(len(p))
		if n > c.logLeft {
			n = c.logLeft
		}
		if _, err := c.log.Write(p[:n]); err != nil {
			c.log = nil // a full disk must not fail the hook
		}
		c.logLeft -= n
	}
	c.buf = append(c.buf, p...)
	if len(c.buf) > 2*c.max {
		c.buf = append(c.buf[:0], c.buf[len(c.buf)-c.max:]...)
		c.dropped = true
	}
	return len(p), nil
}

func (c *capture) result() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, dropped := c.buf, c.dropped
	if len(b) > c.max {
		b, dropped = b[len(b)-c.max:], true
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), dropped
}

// Runner runs the hooks configured for each set. It implements the Hooks
// interface of internal/apply.
type Runner struct {
	// Dir is the working directory of every command (the configuration
	// directory).
	Dir string
	// Sets are the hooks by set name.
	Sets map[string]schema.Hooks
	// Environ is the base environment (os.Environ when nil).
	Environ func() []string
	// LogDir, when set, receives one run log file per command.
	LogDir string
	Logger hclog.Logger
}

// New returns a Runner for every set of cfg that has hooks.
func New(cfg *schema.Config) *Runner {
	r := &Runner{Dir: cfg.Dir, Sets: map[string]schema.Hooks{}}
	for _, b := range cfg.Backups {
		if !b.Hooks.Empty() {
			r.Sets[b.Name] = b.Hooks
		}
	}
	return r
}

// Has reports whether set has a command for phase.
func (r *Runner) Has(set, phase string) bool { return len(r.argv(set, phase)) > 0 }

func (r *Runner) argv(set, phase string) []string {
	h := r.Sets[set]
	switch phase {
	case Before:
		return h.Before
	case After:
		return h.After
	case OnFailure:
		return h.OnFailure
	}
	return nil
}

// Run runs set's command for c.Phase and returns what it did, or nil when
// the set has none.
func (r *Runner) Run(ctx context.Context, c Call) *Result {
	argv := r.argv(c.Set, c.Phase)
	if len(argv) == 0 {
		return nil
	}
	log := r.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	timeout := r.Sets[c.Set].Timeout
	if timeout <= 0 {
		timeout = schema.DefaultHookTimeout
	}
	cmd := Command{Argv: argv, Dir: r.Dir, Env: r.env(c), Timeout: timeout}
	var logFile *os.File
	if r.LogDir != "" {
		f, err := r.openLog(c, argv)
		if err != nil {
			log.Warn("cannot write the hook's run log", "set", c.Set, "phase", c.Phase, "error", err)
		} else {
			logFile, cmd.Log = f, f
		}
	}
	log.Info("running hook", "set", c.Set, "phase", c.Phase, "command", argv)
	res := Exec(ctx, cmd)
	res.Phase = c.Phase
	if logFile != nil {
		status := "exit 0"
		if !res.OK() {
			status = res.Error
		}
		fmt.Fprintf(logFile, "\n# %s after %s\n", status, res.Duration.Round(time.Millisecond))
		if err := logFile.Close(); err == nil {
			res.LogFile = logFile.Name()
		}
	}
	if res.OK() {
		log.Info("hook finished", "set", c.Set, "phase", c.Phase, "duration", res.Duration)
	} else {
		log.Error("hook failed", "set", c.Set, "phase", c.Phase, "error", res.Error, "duration", res.Duration, "output", lastLines(res.Output, 20))
	}
	return res
}

func (r *Runner) env(c Call) []string {
	base := r.Environ
	if base == nil {
		base = os.Environ
	}
	ours := map[string]string{"ROBO_SET": c.Set, "ROBO_SOURCE": c.Source, "ROBO_DESTINATION": c.Destination, "ROBO_PHASE": c.Phase}
	if c.Phase != Before {
		ours["ROBO_OUTCOME"] = c.Outcome
	}
	var env []string
	for _, kv := range base() {
		k, _, _ := strings.Cut(kv, "=")
		// robo's variables replace inherited ones; ROBO_OUTCOME is dropped
		// in before so a stale value cannot leak in.
		if _, ok := ours[strings.ToUpper(k)]; ok || strings.EqualFold(k, "ROBO_OUTCOME") {
			continue
		}
		env = append(env, kv)
	}
	for _, k := range []string{"ROBO_SET", "ROBO_SOURCE", "ROBO_DESTINATION", "ROBO_PHASE", "ROBO_OUTCOME"} {
		if v, ok := ours[k]; ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func (r *Runner) openLog(c Call, argv []string) (*os.File, error) {
	if err := PrepareLogDir(r.LogDir); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	f, err := os.CreateTemp(r.LogDir, fmt.Sprintf("hook-%s-%s-%s-*.log", c.Set, c.Phase, now.Format("20060102T150405Z")))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "# robo hook %s of set %s, started %s\n# command: %q\n# directory: %s\n\n", c.Phase, c.Set, now.Format(time.RFC3339), argv, r.Dir)
	return f, nil
}

// lastLines returns at most n lines from the end of s.
func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\r\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LogDirFor is where run logs are kept for a state file: logs/ beside it,
// as the robocopy engine does.
func LogDirFor(stateFile string) string { return filepath.Join(filepath.Dir(stateFile), "logs") }
