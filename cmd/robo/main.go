// Command robo is a declarative backup reconciler: it reads HCL backup sets,
// plans what would change, and converges destinations with robocopy's
// semantics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/robo-backup/robo/internal/audit"
	"github.com/robo-backup/robo/internal/harden"
	"github.com/robo-backup/robo/internal/memlimit"
	"github.com/robo-backup/robo/internal/safetext"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes. Only main turns errors into these.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan -detailed-exitcode: changes present
	exitFormat  = 3 // fmt -check: files need formatting
)

func main() {
	os.Exit(process(os.Args[1:]))
}

// process is a robo process: hardened against crash dumps before anything
// reads a secret (internal/harden, docs/secrets.md), then run.
func process(args []string) int {
	if err := harden.Process(); err != nil {
		fmt.Fprintf(os.Stderr, "robo: warning: core dumps may hold secrets: %v\n", err)
	}
	memlimit.Init(os.LookupEnv)
	return run(args, newEnv())
}

// env is what a command may touch of the outside world.
type env struct {
	stdin       io.Reader
	stdout      io.Writer
	stderr      io.Writer
	interactive bool // stdin is a terminal
	dir         string
	lookupEnv   func(string) (string, bool)
	ctx         context.Context
	audit       *audit.Log  // the configuration's audit trail, once opened
	logOpts     *logOptions // -log-format, -log-level, -log-file (logging.go)
	describe    *cmdInfo    // set in describe mode (usage.go)
}

func newEnv() *env {
	return &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		interactive: term.IsTerminal(int(os.Stdin.Fd())), lookupEnv: os.LookupEnv, ctx: context.Background()}
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"validate", "Check the configuration files", runValidate},
		{"fmt", "Rewrite the configuration files in canonical format", runFmt},
		{"plan", "Show what apply would change", runPlan},
		{"apply", "Converge the destinations", runApply},
		{"verify", "Compare sources and destinations (-checksum: by content too)", runVerify},
		{"restore", "Copy a set's backup (or a kept version) back to its source or a folder", runRestore},
		{"show", "Show a saved plan", runShow},
		{"state", "Inspect or change the state (list, show, rm, mv)", runState},
		{"import", "Record sets whose destinations already hold their backup as applied", runImport},
		{"secret", "Manage age-encrypted secrets (keygen, set, list, rm, rekey, recipients)", runSecret},
		{"robocopy", "Read robocopy logs (parse)", runRobocopy},
		{"share", "Check that shares are reachable with their credentials (check)", runShare},
		{"remote", "Check that offsite remotes are reachable with their credentials (check)", runRemote},
		{"audit", "Verify the tamper-evident audit trail (verify)", runAudit},
		{"notify", "Send a test notification (test NAME)", runNotify},
		{"fleet", "Read the reports of a fleet of hosts (status PATH)", runFleet},
		{"status", "Show each set's health, last run and next scheduled run", runStatus},
		{"watch", "Run the backup sets on their schedules and source changes", runWatch},
		{"ui", "Serve the dashboard, its JSON API and metrics (docs/api.md)", runUI},
		{"service", "Run robo watch as a system service (install, show, uninstall, start, stop, restart, status)", runService},
		{"version", "Print the version", runVersion},
		{"completion", "Print or install shell completion (bash, zsh, fish, powershell, install, uninstall)", runCompletion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: robo [-chdir DIR] COMMAND [options]\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "\nGlobal options (before the command):\n")
	globalUsage(w)
	fmt.Fprintf(w, "\nRun 'robo COMMAND -h' or 'robo help COMMAND' for a command's options.\n")
}

// globalFlags are robo's options before the command.
func globalFlags(e *env) (g *flag.FlagSet, chdir *string, showVersion *bool, logOpts *logOptions) {
	g = flag.NewFlagSet("robo", flag.ContinueOnError)
	g.SetOutput(e.stderr)
	g.Usage = func() { usage(e.stderr) }
	chdir = g.String("chdir", "", "use DIR as the configuration directory (default: the current directory)")
	showVersion = g.Bool("version", false, "print the version")
	return g, chdir, showVersion, addLogFlags(g)
}

func run(args []string, e *env) int {
	g, chdir, showVersion, logOpts := globalFlags(e)
	if err := g.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if err := logOpts.check(); err != nil {
		return finish(e, err)
	}
	e.logOpts = logOpts
	defer logOpts.close()
	if *showVersion {
		return finish(e, runVersion(e, nil))
	}
	rest := g.Args()
	if len(rest) == 0 {
		usage(e.stderr)
		return exitError
	}
	e.dir = "."
	if *chdir != "" {
		fi, err := os.Stat(*chdir)
		if err != nil || !fi.IsDir() {
			return finish(e, fatalf("-chdir %s: not a directory", *chdir))
		}
		e.dir = *chdir
	}
	if rest[0] == "help" {
		return finish(e, runHelp(e, rest[1:]))
	}
	for _, c := range commands {
		if c.name == rest[0] {
			ctx, cancel := context.WithCancel(e.ctx)
			defer cancel()
			defer handleSignals(e, ctx, cancel)()
			e.ctx = ctx
			return finish(e, c.run(e, rest[1:]))
		}
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	sort.Strings(names)
	return finish(e, fatalf("unknown command %q", rest[0]).hint("commands are: "+strings.Join(names, ", ")))
}

// finish prints an error once and maps it to an exit code. Error texts
// quote paths and names other people chose, so they are printed through
// safetext.Line: no control character (CR, LF, ESC) reaches the terminal
// raw, and an error stays on its own "robo: error:" line.
func finish(e *env, err error) int {
	if err == nil {
		return exitOK
	}
	var ex exitErr
	if errors.As(err, &ex) {
		return int(ex)
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var fe *fatalError
	if errors.As(err, &fe) {
		fmt.Fprintf(e.stderr, "robo: error: %s\n", safetext.Line(fe.msg))
		for _, h := range fe.hints {
			fmt.Fprintf(e.stderr, "robo: hint: %s\n", safetext.Line(h))
		}
		return fe.code
	}
	fmt.Fprintf(e.stderr, "robo: error: %s\n", safetext.Line(err.Error()))
	return exitError
}

// fatalError is a message meant for the user, printed as it is, with hints.
type fatalError struct {
	msg   string
	hints []string
	code  int
}

// Error includes the hints, so that a fatal error that ends up inside a
// set's result (a share's identity problem during plan) keeps them.
func (f *fatalError) Error() string {
	if len(f.hints) == 0 {
		return f.msg
	}
	return f.msg + " (hint: " + strings.Join(f.hints, "; ") + ")"
}

func (f *fatalError) hint(h string) *fatalError {
	f.hints = append(f.hints, h)
	return f
}

func fatalf(format string, args ...any) *fatalError {
	return &fatalError{msg: fmt.Sprintf(format, args...), code: exitError}
}

// exitErr ends a command with a code after it printed everything itself.
type exitErr int

func (e exitErr) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// newFlags returns a command's flag set writing usage to stderr.
func newFlags(e *env, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: robo %s\n\nOptions:\n", usageLine)
		fs.PrintDefaults()
	}
	if e.describe != nil {
		e.describe.usage, e.describe.flags = usageLine, fs
		fs.SetOutput(io.Discard)
		fs.Usage = func() {}
	}
	return fs
}

// parseFlags parses a command's flags; a usage error is exit 1, already printed.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitErr(exitOK)
		}
		return exitErr(exitError)
	}
	return nil
}
