package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Usage plumbing shared by every command: command groups (robo state,
// robo secret, ...) dispatch through group.run, which answers -h, -help,
// --help and help with the group's usage and exit 0; commands that take no
// arguments refuse them with noArgs; and describe runs a command in
// describe mode to read back the flag set or subcommands it declares, so
// that completion (cmd_completion.go) and the usage tests read the very
// definitions the command parses with.

// subcommand is one subcommand of a command group (robo state list).
type subcommand struct {
	name    string
	args    string // its arguments in the group's usage: "NAME...", "[-json]"
	summary string
	run     func(e *env, args []string) error
	hidden  bool // left out of usage and completion (robo service run)
}

// group is a command made of subcommands.
type group struct {
	name string // "state"
	subs []subcommand
	more string // a last line of the usage ("See docs/secrets.md.")
}

// isHelp says whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// run dispatches args[0] to its subcommand.
func (g group) run(e *env, args []string) error {
	if e.describe != nil {
		e.describe.subs = g.subs
		return exitErr(exitOK)
	}
	if len(args) == 0 {
		return fatalf("robo %s needs a subcommand: %s", g.name, g.names()).hint("robo " + g.name + " -h describes them")
	}
	if isHelp(args[0]) {
		g.usage(e.stderr)
		return exitErr(exitOK)
	}
	for _, s := range g.subs {
		if s.name == args[0] {
			return s.run(e, args[1:])
		}
	}
	return fatalf("unknown %s subcommand %q", g.name, args[0]).hint("use " + g.names() + "; robo " + g.name + " -h describes them")
}

// names lists the visible subcommands: "list, show NAME or rm NAME...".
func (g group) names() string {
	var l []string
	for _, s := range g.subs {
		if s.hidden {
			continue
		}
		n := s.name
		if s.args != "" && !strings.HasPrefix(s.args, "[") {
			n += " " + s.args
		}
		l = append(l, n)
	}
	if len(l) < 2 {
		return strings.Join(l, "")
	}
	return strings.Join(l[:len(l)-1], ", ") + " or " + l[len(l)-1]
}

func (g group) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: robo %s SUBCOMMAND [options]\n\nSubcommands:\n", g.name)
	width := 0
	for _, s := range g.subs {
		width = max(width, len(s.name)+1+len(s.args))
	}
	for _, s := range g.subs {
		if !s.hidden {
			fmt.Fprintf(w, "  %-*s  %s\n", width, strings.TrimSpace(s.name+" "+s.args), s.summary)
		}
	}
	fmt.Fprintf(w, "\nRun 'robo %s SUBCOMMAND -h' for a subcommand's options.", g.name)
	if g.more != "" {
		fmt.Fprintf(w, " %s", g.more)
	}
	fmt.Fprintln(w)
}

// globalPlaceholders name the values of robo's global options in its usage.
var globalPlaceholders = map[string]string{"chdir": "DIR", "log-format": "text|json", "log-level": "LEVEL",
	"log-file": "FILE", "log-file-max-size": "MB", "log-file-keep": "N"}

// globalUsage lists robo's global options from the flag set run parses
// them with.
func globalUsage(w io.Writer) {
	g, _, _, _ := globalFlags(&env{stderr: io.Discard})
	type line struct{ left, usage string }
	var lines []line
	width := 0
	g.VisitAll(func(f *flag.Flag) {
		left := "-" + f.Name
		if p := globalPlaceholders[f.Name]; p != "" {
			left += " " + p
		}
		_, u := flag.UnquoteUsage(f)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			u += " (default " + f.DefValue + ")"
		}
		lines = append(lines, line{left, u})
		width = max(width, len(left))
	})
	for _, l := range lines {
		fmt.Fprintf(w, "  %-*s  %s\n", width, l.left, l.usage)
	}
	fmt.Fprintf(w, "  %-*s  %s\n", width, "", "(the -log-* options are for robo watch and robo service: docs/monitoring.md#logging)")
}

// noArgs refuses the positional arguments of a command that takes none:
// an argument robo would silently ignore (robo validate otherdir) is an
// error.
func noArgs(fs *flag.FlagSet, cmd string, hints ...string) error {
	if fs.NArg() == 0 {
		return nil
	}
	f := fatalf("robo %s takes no arguments, got %q", cmd, fs.Arg(0))
	for _, h := range hints {
		f.hint(h)
	}
	return f
}

// runHelp is robo help [COMMAND [SUBCOMMAND]]: the usage of robo or of the
// command, exit 0.
func runHelp(e *env, args []string) error {
	if len(args) == 0 {
		usage(e.stderr)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(e, append(append([]string{}, args[1:]...), "-h"))
		}
	}
	return fatalf("unknown command %q", args[0]).hint("robo help lists the commands")
}

// cmdInfo is what a command declares in describe mode: its usage line and
// flag set (newFlags), or its subcommands (group.run).
type cmdInfo struct {
	usage string
	flags *flag.FlagSet
	subs  []subcommand
}

// describe runs a command in describe mode with -h: it returns at its flag
// parsing (or its dispatch), having touched nothing, and says what it
// declared.
func describe(run func(e *env, args []string) error, args ...string) cmdInfo {
	info := &cmdInfo{}
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, dir: ".", ctx: context.Background(),
		lookupEnv: func(string) (string, bool) { return "", false }, describe: info}
	_ = run(e, append(args, "-h"))
	return *info
}
