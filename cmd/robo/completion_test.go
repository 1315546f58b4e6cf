package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/complete"
)

// completionConfig is a configuration with two sets (docs, photos) of
// which one was applied (so the state records docs), a share, a notifier
// and a saved plan file, plus the scripts robo completion prints.
func completionConfig(t *testing.T) (conf string, scripts map[string]string) {
	t.Helper()
	base := t.TempDir()
	conf = filepath.Join(base, "conf")
	for _, d := range []string{conf, filepath.Join(base, "src", "docs"), filepath.Join(base, "src", "photos")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(base, "src", "docs", "a.txt"), []byte("a"), 0o644)
	hcl := `backup "docs" {
  source      = "../src/docs"
  destination = "../dst/docs"
}

backup "photos" {
  source      = "../src/photos"
  destination = "../dst/photos"
}

notify "ops" {
  url = "http://127.0.0.1:1/hook"
}
`
	if err := os.WriteFile(filepath.Join(conf, "robo.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("robo", "-chdir", conf, "apply", "-auto-approve", "-target", "docs").CombinedOutput(); err != nil {
		t.Fatalf("robo apply: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(conf, "saved.plan"), []byte("{}"), 0o644)
	scripts = map[string]string{}
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		out, err := exec.Command("robo", "completion", sh).Output()
		if err != nil {
			t.Fatalf("robo completion %s: %v", sh, err)
		}
		p := filepath.Join(base, "robo."+sh)
		os.WriteFile(p, out, 0o644)
		scripts[sh] = p
	}
	return conf, scripts
}

func needShell(t *testing.T, sh, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(sh)
	if err != nil {
		if os.Getenv("ROBO_REQUIRE_SHELLS") != "" && sh != "pwsh" {
			t.Fatalf("%s is not installed (apt-get install %s) but ROBO_REQUIRE_SHELLS is set", sh, pkg)
		}
		t.Skipf("%s is not installed (apt-get install %s): its completion script cannot be exercised here", sh, pkg)
	}
	return p
}

// The bash script, sourced in a real bash: _robo_complete is called as
// bash calls it, with COMP_WORDS and COMP_CWORD, and COMPREPLY is read back.
func TestCompletionBash(t *testing.T) {
	needShell(t, "bash", "bash")
	conf, scripts := completionConfig(t)
	complete := func(words ...string) []string {
		t.Helper()
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c",
			`source "$1" || exit 1; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _robo_complete; printf '%s\n' "${COMPREPLY[@]}"`,
			"bash", scripts["bash"])
		cmd.Args = append(cmd.Args, words...)
		cmd.Dir = conf
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"robo", "st"}, []string{"state", "status"}},
		{[]string{"robo", "state", ""}, []string{"list", "show", "rm", "mv"}},
		{[]string{"robo", "service", "sh"}, []string{"show"}},
		{[]string{"robo", "plan", "-det"}, []string{"-detailed-exitcode"}},
		{[]string{"robo", "apply", "-auto"}, []string{"-auto-approve"}},
		{[]string{"robo", "plan", "-target", ""}, []string{"docs", "photos"}},
		{[]string{"robo", "plan", "-target", "p"}, []string{"photos"}},
		{[]string{"robo", "plan", "-target", "=", "p"}, []string{"photos"}}, // robo plan -target=p
		{[]string{"robo", "plan", "-target", "="}, []string{"=docs", "=photos"}},
		{[]string{"robo", "verify", "docs", "-ch"}, []string{"-checksum"}},
		{[]string{"robo", "state", "show", ""}, []string{"docs"}}, // what the state records
		{[]string{"robo", "notify", "test", ""}, []string{"ops"}},
		{[]string{"robo", "apply", "sav"}, []string{"saved.plan"}}, // a file
		{[]string{"robo", "-log-level", "w"}, []string{"warn"}},
		{[]string{"robo", "completion", "install", "z"}, []string{"zsh"}},
		{[]string{"robo", "frobnicate", ""}, nil},
	} {
		if got := complete(tc.words...); !reflect.DeepEqual(got, tc.want) && (len(got) > 0 || len(tc.want) > 0) {
			t.Errorf("%q: %q, want %q", tc.words, got, tc.want)
		}
	}
	// -chdir on the command line: the sets of that configuration.
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c",
		`source "$1"; COMP_WORDS=(robo -chdir "$2" plan -target ""); COMP_CWORD=5; _robo_complete; printf '%s\n' "${COMPREPLY[@]}"`,
		"bash", scripts["bash"], conf)
	cmd.Dir = t.TempDir()
	if out, err := cmd.Output(); err != nil || strings.Join(strings.Fields(string(out)), " ") != "docs photos" {
		t.Errorf("with -chdir: %q %v", out, err)
	}
}

// robo completion install bash writes ~/.bashrc once, and an interactive
// bash that reads it has the completion; uninstall takes it out again.
func TestCompletionInstallBash(t *testing.T) {
	needShell(t, "bash", "bash")
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, ".bashrc"), []byte("export MINE=1\n"), 0o644)
	robo := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("robo", args...)
		cmd.Env = append(os.Environ(), "HOME="+home, "SHELL=/bin/bash")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("robo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := robo("completion", "install"); !strings.Contains(out, "Installed bash completion in "+filepath.Join(home, ".bashrc")) {
		t.Errorf("install: %s", out)
	}
	if out := robo("completion", "install"); !strings.Contains(out, "already installed") {
		t.Errorf("second install: %s", out)
	}
	b, _ := os.ReadFile(filepath.Join(home, ".bashrc"))
	if strings.Count(string(b), "robo completion bash") != 1 || !strings.HasPrefix(string(b), "export MINE=1\n") {
		t.Errorf(".bashrc:\n%s", b)
	}
	cmd := exec.Command("bash", "-i", "-c", "complete -p robo")
	cmd.Env = append(os.Environ(), "HOME="+home)
	if out, err := cmd.Output(); err != nil || !strings.Contains(string(out), "complete -F _robo_complete robo") {
		t.Errorf("an interactive bash has no robo completion: %q %v", out, err)
	}
	robo("completion", "uninstall", "bash")
	if b, _ := os.ReadFile(filepath.Join(home, ".bashrc")); string(b) != "export MINE=1\n" {
		t.Errorf(".bashrc after uninstall: %q", b)
	}
}

// The zsh script in a real interactive zsh in a terminal (tmux): Tab is
// pressed and the line and the listing are read off the screen.
func TestCompletionZsh(t *testing.T) {
	needShell(t, "zsh", "zsh")
	conf, scripts := completionConfig(t)
	home := t.TempDir()
	s := startTmux(t, conf, 160, 40, "env", "HOME="+home, "ZDOTDIR="+home, "PS1=%% ", "zsh", "-f", "-i")
	s.typeText("autoload -Uz compinit && compinit -u -D && source " + scripts["zsh"] + " && echo READY")
	s.send("Enter")
	s.waitFor("zsh to load the completion", func(sc string) bool { return strings.Contains(sc, "\nREADY") })
	try := func(typed, what string, cond func(sc string) bool) {
		t.Helper()
		s.send("C-u", "C-l")
		s.waitFor("a clear screen", func(sc string) bool { return strings.TrimSpace(sc) == "%" })
		s.typeText(typed)
		s.send("Tab")
		s.waitFor(what+" after "+typed, cond)
	}
	lineIs := func(want string) func(string) bool {
		return func(sc string) bool { return strings.SplitN(sc, "\n", 2)[0] == "% "+want }
	}
	try("robo plan -target p", "the set name", lineIs("robo plan -target photos"))
	try("robo state sh", "the subcommand", lineIs("robo state show"))
	try("robo state show ", "the state entry", lineIs("robo state show docs"))
	try("robo apply sav", "the file", lineIs("robo apply saved.plan"))
	try("robo plan -detailed-e", "the option", lineIs("robo plan -detailed-exitcode"))
	// "st" completes to the common prefix "stat"; Tab on it lists both.
	try("robo st", "the common prefix", lineIs("robo stat"))
	try("robo stat", "the listing with descriptions", func(sc string) bool {
		return strings.Contains(sc, "state") && strings.Contains(sc, "status") && strings.Contains(sc, "Inspect or change the state")
	})
}

// robo completion install zsh: an interactive zsh reading ~/.zshrc (without
// any compinit of its own) completes robo.
func TestCompletionInstallZsh(t *testing.T) {
	needShell(t, "zsh", "zsh")
	home := t.TempDir()
	cmd := exec.Command("robo", "completion", "install", "zsh")
	cmd.Env = append(os.Environ(), "HOME="+home, "ZDOTDIR=")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), filepath.Join(home, ".zshrc")) {
		t.Fatalf("install: %v\n%s", err, out)
	}
	z := exec.Command("zsh", "-i", "-c", "print -r -- ${_comps[robo]}")
	z.Env = append(os.Environ(), "HOME="+home, "ZDOTDIR="+home)
	if out, err := z.Output(); err != nil || strings.TrimSpace(string(out)) != "_robo" {
		t.Errorf("an interactive zsh has no robo completion: %q %v", out, err)
	}
}

// The fish script in a real fish: complete -C asks fish for the
// completions of a command line.
func TestCompletionFish(t *testing.T) {
	needShell(t, "fish", "fish")
	conf, scripts := completionConfig(t)
	for _, tc := range []struct{ line, want string }{
		{"robo plan -target ", "docs photos"},
		{"robo state show ", "docs"},
		{"robo sta", "state status"},
	} {
		cmd := exec.Command("fish", "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, scripts["fish"], tc.line)
		cmd.Dir = conf
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("fish: %v\n%s", err, out)
		}
		var words []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			words = append(words, strings.SplitN(l, "\t", 2)[0])
		}
		if got := strings.Join(words, " "); got != tc.want {
			t.Errorf("%q: %q, want %q\n%s", tc.line, got, tc.want, out)
		}
	}
}

// PowerShell, when installed: TabExpansion2 asks for the completions.
func TestCompletionPowerShell(t *testing.T) {
	needShell(t, "pwsh", "powershell (not in Debian's registry: Microsoft's repository has it)")
	conf, scripts := completionConfig(t)
	line := "robo plan -target "
	cmd := exec.Command("pwsh", "-NoProfile", "-NonInteractive", "-Command",
		`. '`+scripts["powershell"]+`'; (TabExpansion2 -inputScript '`+line+`' -cursorColumn `+itoa(len(line))+`).CompletionMatches | ForEach-Object { $_.CompletionText }`)
	cmd.Dir = conf
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Join(strings.Fields(string(out)), " ") != "docs photos" {
		t.Errorf("pwsh: %q %v", out, err)
	}
}

// Completion comes from the flag sets the commands parse with: every flag
// of every command is offered, and each non-bool flag's value kind is a
// deliberate choice (flagKinds) or free text.
func TestCompletionTreeMatchesFlags(t *testing.T) {
	root := completionTree()
	plan := findSub(root, "plan")
	if plan == nil {
		t.Fatal("no plan in the completion tree")
	}
	info := describe(runPlan)
	n := 0
	info.flags.VisitAll(func(*flag.Flag) { n++ })
	if len(plan.Flags) != n {
		t.Errorf("plan: %d flags offered, the flag set has %d", len(plan.Flags), n)
	}
	for _, path := range [][]string{{"state", "show"}, {"service", "install"}, {"completion", "install"}} {
		c := root
		for _, p := range path {
			if c = findSub(c, p); c == nil {
				t.Fatalf("%v missing from the completion tree", path)
			}
		}
	}
	if findSub(findSub(root, "service"), "run") != nil {
		t.Error("the hidden robo service run is offered")
	}
	for k := range argKinds {
		first := strings.Fields(k)[0]
		if findSub(root, first) == nil && first != "import" {
			t.Errorf("argKinds names %q, which is not a command", k)
		}
	}
}

func findSub(c *complete.Command, name string) *complete.Command {
	if c == nil {
		return nil
	}
	for _, s := range c.Subs {
		if s.Name == name {
			return s
		}
	}
	return nil
}
