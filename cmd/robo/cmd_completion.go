package main

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/robo-backup/robo/internal/complete"
	"github.com/robo-backup/robo/schema"
)

// Shell completion (docs/cli.md, "robo completion"). The command tree that
// completion walks is built by describe (usage.go) from the flag sets and
// subcommands the commands declare, so that it cannot drift from them; the
// two tables below say what the values complete to.

// flagKinds says what a flag's value completes to, by flag name: the same
// name means the same kind of value in every command. A flag not here takes
// free text (a -var, a duration).
var flagKinds = map[string]complete.Flag{
	"chdir":         {Kind: complete.Dir},
	"to":            {Kind: complete.Dir},
	"identity":      {Kind: complete.File},
	"o":             {Kind: complete.File},
	"out":           {Kind: complete.File},
	"file":          {Kind: complete.File},
	"log-file":      {Kind: complete.File},
	"token-file":    {Kind: complete.File},
	"password-file": {Kind: complete.File},
	"target":        {Kind: complete.Set},
	"log-format":    {Kind: complete.Values, Values: []string{"text", "json"}},
	"log-level":     {Kind: complete.Values, Values: []string{"trace", "debug", "info", "warn", "error"}},
	"encoding":      {Kind: complete.Values, Values: []string{"cp437", "cp850", "cp866", "cp932", "cp936", "utf-8", "utf-16le"}},
}

// argKinds says what a command's positional arguments complete to, by
// command path; argValues lists fixed ones. A command not here takes none
// (or free text).
var argKinds = map[string]complete.Kind{
	"apply":                complete.File,
	"show":                 complete.File,
	"fmt":                  complete.File,
	"verify":               complete.Set,
	"restore":              complete.Set,
	"import":               complete.Set,
	"state show":           complete.StateSet,
	"state rm":             complete.StateSet,
	"state mv":             complete.StateSet,
	"secret rm":            complete.Secret,
	"robocopy parse":       complete.File,
	"share check":          complete.Share,
	"audit verify":         complete.File,
	"notify test":          complete.Notifier,
	"completion install":   complete.Values,
	"completion uninstall": complete.Values,
}

// interspersed are the commands that take options after their arguments
// (parseInterspersed).
var interspersed = map[string]bool{"verify": true, "restore": true}

// completionTree is robo's command tree for completion.
func completionTree() *complete.Command {
	g, _, _, _ := globalFlags(&env{stderr: ioDiscard{}})
	root := &complete.Command{Name: "robo", Flags: completionFlags(g), Chdir: "chdir"}
	for _, c := range commands {
		root.Subs = append(root.Subs, completionCommand(c.name, c.summary, c.run))
	}
	help := &complete.Command{Name: "help", Summary: "Show the usage of robo or of a command", Subs: root.Subs}
	root.Subs = append(root.Subs, help)
	return root
}

func completionCommand(path, summary string, run func(*env, []string) error) *complete.Command {
	info := describe(run)
	c := &complete.Command{Name: path[strings.LastIndexByte(path, ' ')+1:], Summary: summary,
		Args: argKinds[path], Interspersed: interspersed[path]}
	if c.Args == complete.Values {
		c.ArgValues = complete.Shells
	}
	for _, s := range info.subs {
		if !s.hidden {
			c.Subs = append(c.Subs, completionCommand(path+" "+s.name, s.summary, s.run))
		}
	}
	if info.flags != nil {
		c.Flags = completionFlags(info.flags)
	}
	return c
}

func completionFlags(fs *flag.FlagSet) []complete.Flag {
	var out []complete.Flag
	fs.VisitAll(func(f *flag.Flag) {
		cf := flagKinds[f.Name]
		cf.Name, cf.Usage = f.Name, f.Usage
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			cf.Bool, cf.Kind, cf.Values = true, complete.None, nil
		}
		out = append(out, cf)
	})
	return out
}

// completionSource reads the dynamic values from the configuration in dir
// (robo's -chdir on the command line, else the current directory). It only
// reads: no audit entry, no state created, no secret decrypted.
func completionSource(e *env) complete.Source {
	return func(k complete.Kind, dir string) []string {
		if dir == "" {
			dir = e.dir
		} else if rest, ok := strings.CutPrefix(dir, "~/"); ok {
			if home, err := os.UserHomeDir(); err == nil {
				dir = filepath.Join(home, rest)
			}
		}
		cfg, _ := schema.Load(dir, schemaOptions(e, nil))
		var names []string
		switch k {
		case complete.Set:
			for _, b := range cfg.Backups {
				names = append(names, b.Name)
			}
		case complete.Share:
			for n := range cfg.Shares {
				names = append(names, n)
			}
		case complete.Notifier:
			for n := range cfg.Notifiers {
				names = append(names, n)
			}
		case complete.StateSet:
			if store, err := openStore(cfg); err == nil {
				if st, err := store.Read(); err == nil && st != nil {
					names = st.Names()
				}
			}
		case complete.Secret:
			if f, err := openSecrets(cfg); err == nil {
				names = f.Names()
			}
		}
		// Names a configuration could not declare are left out: the state
		// and secrets files may have been written by someone else.
		var ok []string
		for _, n := range names {
			if schema.ValidName(n) || k == complete.Secret {
				ok = append(ok, n)
			}
		}
		return ok
	}
}

func runCompletion(e *env, args []string) error {
	subs := []subcommand{}
	for _, sh := range complete.Shells {
		subs = append(subs, subcommand{sh, "", "print the " + sh + " completion script", func(e *env, args []string) error {
			return completionScript(e, sh, args)
		}, false})
	}
	subs = append(subs,
		subcommand{"install", "[-file FILE] [SHELL...]", "add completion to your shell's startup file (default: the shell of $SHELL)", completionInstall, false},
		subcommand{"uninstall", "[-file FILE] [SHELL...]", "remove it again", completionUninstall, false},
		subcommand{"__complete", "", "what the scripts run", completionComplete, true})
	return group{name: "completion", more: "See docs/cli.md#robo-completion.", subs: subs}.run(e, args)
}

func completionScript(e *env, shell string, args []string) error {
	fs := newFlags(e, "completion "+shell, "completion "+shell)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs, "completion "+shell); err != nil {
		return err
	}
	s, err := complete.Script(shell, "robo")
	if err != nil {
		return fatalf("%v", err)
	}
	e.printf("%s", s)
	return nil
}

// completionComplete is robo completion __complete -cur=WORD -- WORDS...:
// the candidates for the word under the cursor (internal/complete).
func completionComplete(e *env, args []string) error {
	if len(args) < 2 || !strings.HasPrefix(args[0], "-cur=") || args[1] != "--" {
		return fatalf("usage: robo completion __complete -cur=WORD -- WORDS...")
	}
	cur := strings.TrimPrefix(args[0], "-cur=")
	r := complete.Complete(completionTree(), args[2:], cur, completionSource(e))
	e.printf("%s", r)
	return nil
}

func completionInstall(e *env, args []string) error   { return completionEdit(e, "install", args) }
func completionUninstall(e *env, args []string) error { return completionEdit(e, "uninstall", args) }

// completionEdit adds robo's completion to (or removes it from) each
// shell's startup file, idempotently.
func completionEdit(e *env, action string, args []string) error {
	fs := newFlags(e, "completion "+action, "completion "+action+" [-file FILE] [SHELL...]  (SHELL: "+strings.Join(complete.Shells, ", ")+")")
	file := fs.String("file", "", "edit FILE instead of the shell's usual startup file (~/.bashrc, ~/.zshrc, fish's completions directory, the PowerShell profile)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	shells := fs.Args()
	if len(shells) == 0 {
		sh, err := defaultShell(e)
		if err != nil {
			return err
		}
		shells = []string{sh}
	}
	if *file != "" && len(shells) > 1 {
		return fatalf("-file names one file: give one shell with it")
	}
	home, err := os.UserHomeDir()
	if err != nil && *file == "" {
		return fatalf("cannot find your home directory: %v", err).hint("name the file with -file FILE")
	}
	getenv := func(k string) string { v, _ := e.lookupEnv(k); return v }
	for _, sh := range shells {
		t, err := complete.TargetFor(sh, "robo", home, e.path(*file), runtime.GOOS, getenv)
		if err != nil {
			return fatalf("%v", err)
		}
		var changed bool
		if action == "install" {
			changed, err = complete.Install(t)
		} else {
			changed, err = complete.Uninstall(t)
		}
		if err != nil {
			return fatalf("%s completion: %v", t.Shell, err)
		}
		switch {
		case action == "install" && changed:
			e.printf("Installed %s completion in %s. Open a new shell (or source the file) to use it.\n", t.Shell, t.Path)
		case action == "install":
			e.printf("%s completion is already installed in %s.\n", t.Shell, t.Path)
		case changed:
			e.printf("Removed %s completion from %s.\n", t.Shell, t.Path)
		default:
			e.printf("%s completion was not installed in %s: nothing to remove.\n", t.Shell, t.Path)
		}
	}
	return nil
}

// defaultShell is the user's shell: $SHELL's name, PowerShell on Windows.
func defaultShell(e *env) (string, error) {
	if sh, ok := e.lookupEnv("SHELL"); ok && sh != "" {
		name := strings.TrimSuffix(filepath.Base(sh), ".exe")
		for _, s := range complete.Shells {
			if name == s || (name == "pwsh" && s == "powershell") {
				return s, nil
			}
		}
		return "", fatalf("robo has no completion for your shell %s", sh).hint("name one: robo completion install " + strings.Join(complete.Shells, "|"))
	}
	if runtime.GOOS == "windows" {
		return "powershell", nil
	}
	return "", fatalf("$SHELL is not set: name the shell").hint("robo completion install " + strings.Join(complete.Shells, "|"))
}
