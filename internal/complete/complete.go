package complete

import (
	"sort"
	"strings"
	"unicode"
)

// Kind is what a word completes to.
type Kind int

const (
	None     Kind = iota // free text: nothing to offer
	File                 // a path (the shell completes it)
	Dir                  // a directory (the shell completes it)
	Set                  // a backup set of the configuration
	StateSet             // a backup set the state records
	Notifier             // a notify block of the configuration
	Share                // a share block of the configuration
	Secret               // a secret of the secrets file
	Values               // one of Flag.Values
)

// Flag is one option of a command.
type Flag struct {
	Name   string
	Usage  string
	Bool   bool // takes no value
	Kind   Kind // what its value completes to
	Values []string
}

// Command is robo or one of its commands or subcommands.
type Command struct {
	Name    string
	Summary string
	Flags   []Flag
	Subs    []*Command
	// Args is what the positional arguments complete to.
	Args Kind
	// ArgValues are the values of Args == Values.
	ArgValues []string
	// Interspersed commands take options after their arguments (robo verify
	// NAME -checksum); the others stop at the first argument, as Go's flag
	// package does.
	Interspersed bool
	// Chdir names the flag whose value is the configuration directory the
	// dynamic values come from (robo's -chdir).
	Chdir string
}

// Source gives the values of a dynamic kind for the configuration in dir
// ("" is the current directory).
type Source func(k Kind, dir string) []string

// Directive tells the shell what to do with the candidates.
type Directive string

const (
	Words Directive = ":words" // offer the candidates
	Files Directive = ":files" // complete a path
	Dirs  Directive = ":dirs"  // complete a directory
)

// Candidate is one completion with an optional description.
type Candidate struct {
	Word, Description string
}

// Result is what Complete offers.
type Result struct {
	Directive  Directive
	Candidates []Candidate
}

// String is the protocol's output: the directive line, then one line per
// candidate ("word\tdescription").
func (r Result) String() string {
	var b strings.Builder
	b.WriteString(string(r.Directive) + "\n")
	for _, c := range r.Candidates {
		b.WriteString(c.Word)
		if c.Description != "" {
			b.WriteString("\t" + c.Description)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Complete offers the completions of cur, the word under the cursor, after
// the words before it (the program's name excluded). bash splits
// "-target=do" into "-target", "=", "do": Complete joins them again, and the
// candidates are whole words ("-target=docs"); the bash script cuts them
// back to what bash replaces.
func Complete(root *Command, before []string, cur string, src Source) Result {
	before, cur = rejoin(before, cur)
	cmd, dir := root, ""
	var pending *Flag // the flag whose value comes next
	pendingChdir := false
	positional, dashdash := 0, false
	for _, w := range before {
		if pending != nil {
			if pendingChdir {
				dir = w
			}
			pending, pendingChdir = nil, false
			continue
		}
		if !dashdash && w == "--" {
			dashdash = true
			continue
		}
		if !dashdash && isFlag(w) && (positional == 0 || cmd.Interspersed) {
			name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			f := cmd.flag(name)
			if f == nil {
				continue
			}
			isChdir := cmd.Chdir != "" && name == cmd.Chdir
			if hasValue {
				if isChdir {
					dir = value
				}
			} else if !f.Bool {
				pending, pendingChdir = f, isChdir
			}
			continue
		}
		if positional == 0 && len(cmd.Subs) > 0 {
			sub := cmd.sub(w)
			if sub == nil {
				return Result{Directive: Words}
			}
			cmd, dashdash = sub, false
			continue
		}
		positional++
	}
	if pending != nil {
		return values(pending, "", cur, dir, src)
	}
	if !dashdash && strings.HasPrefix(cur, "-") && (positional == 0 || cmd.Interspersed) {
		name, value, hasValue := strings.Cut(strings.TrimLeft(cur, "-"), "=")
		if hasValue {
			if f := cmd.flag(name); f != nil && !f.Bool {
				return values(f, cur[:len(cur)-len(value)], value, dir, src)
			}
			return Result{Directive: Words}
		}
		var out []Candidate
		for _, f := range cmd.Flags {
			if strings.HasPrefix(f.Name, name) {
				out = append(out, Candidate{"-" + f.Name, oneLine(f.Usage)})
			}
		}
		return Result{Directive: Words, Candidates: out}
	}
	if positional == 0 && len(cmd.Subs) > 0 {
		var out []Candidate
		for _, s := range cmd.Subs {
			if strings.HasPrefix(s.Name, cur) {
				out = append(out, Candidate{s.Name, oneLine(s.Summary)})
			}
		}
		return Result{Directive: Words, Candidates: out}
	}
	return kind(cmd.Args, cmd.ArgValues, "", cur, dir, src)
}

// rejoin undoes bash's split at "=" of the last option before the cursor.
func rejoin(before []string, cur string) ([]string, string) {
	n := len(before)
	switch {
	case cur == "=" && n > 0 && isFlag(before[n-1]):
		return before[:n-1], before[n-1] + "="
	case n > 1 && before[n-1] == "=" && isFlag(before[n-2]):
		return before[:n-2], before[n-2] + "=" + cur
	}
	return before, cur
}

func isFlag(w string) bool { return len(w) > 1 && w[0] == '-' }

func values(f *Flag, prefix, cur, dir string, src Source) Result {
	return kind(f.Kind, f.Values, prefix, cur, dir, src)
}

func kind(k Kind, fixed []string, prefix, cur, dir string, src Source) Result {
	switch k {
	case None:
		return Result{Directive: Words}
	case File:
		return Result{Directive: Files}
	case Dir:
		return Result{Directive: Dirs}
	}
	vals := fixed
	if k != Values && src != nil {
		vals = src(k, dir)
		sort.Strings(vals)
	}
	var out []Candidate
	for _, v := range vals {
		if strings.HasPrefix(v, cur) && printable(v) {
			out = append(out, Candidate{Word: prefix + v})
		}
	}
	return Result{Directive: Words, Candidates: out}
}

// printable refuses a value that would break the one-line-per-candidate
// protocol or put control characters on the terminal: values come from
// configuration and state files that others may write.
func printable(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '\t' {
			return false
		}
	}
	return true
}

// oneLine keeps a description to its first line, without tabs.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.ReplaceAll(s, "\t", " ")
}

func (c *Command) flag(name string) *Flag {
	for i := range c.Flags {
		if c.Flags[i].Name == name {
			return &c.Flags[i]
		}
	}
	return nil
}

func (c *Command) sub(name string) *Command {
	for _, s := range c.Subs {
		if s.Name == name {
			return s
		}
	}
	return nil
}
