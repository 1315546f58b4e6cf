package complete

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func testTree() *Command {
	plan := &Command{Name: "plan", Flags: []Flag{{Name: "target", Kind: Set}, {Name: "json", Bool: true}, {Name: "out", Kind: File},
		{Name: "log-level", Kind: Values, Values: []string{"info", "debug"}}}}
	verify := &Command{Name: "verify", Args: Set, Interspersed: true, Flags: []Flag{{Name: "checksum", Bool: true}}}
	apply := &Command{Name: "apply", Args: File, Flags: []Flag{{Name: "auto-approve", Bool: true}}}
	state := &Command{Name: "state", Subs: []*Command{{Name: "list", Summary: "list them"}, {Name: "show", Args: StateSet}}}
	return &Command{Name: "robo", Chdir: "chdir", Flags: []Flag{{Name: "chdir", Kind: Dir}, {Name: "version", Bool: true}},
		Subs: []*Command{plan, verify, apply, state}}
}

func words(r Result) []string {
	var out []string
	for _, c := range r.Candidates {
		out = append(out, c.Word)
	}
	return out
}

func TestComplete(t *testing.T) {
	var gotDir string
	src := func(k Kind, dir string) []string {
		gotDir = dir
		switch k {
		case Set:
			return []string{"photos", "docs", "bad\nname", "x\x1b[2J"}
		case StateSet:
			return []string{"old", "docs"}
		}
		return nil
	}
	for _, tc := range []struct {
		before []string
		cur    string
		dir    Directive
		want   []string
	}{
		{nil, "", Words, []string{"plan", "verify", "apply", "state"}},
		{nil, "st", Words, []string{"state"}},
		{nil, "-", Words, []string{"-chdir", "-version"}},
		{[]string{"-chdir"}, "", Dirs, nil},
		{[]string{"-chdir", "/etc/robo"}, "p", Words, []string{"plan"}},
		{[]string{"plan"}, "-", Words, []string{"-target", "-json", "-out", "-log-level"}},
		{[]string{"plan"}, "-t", Words, []string{"-target"}},
		{[]string{"plan", "-target"}, "", Words, []string{"docs", "photos"}}, // sorted, hostile names left out
		{[]string{"plan", "-target"}, "d", Words, []string{"docs"}},
		{[]string{"plan"}, "-target=d", Words, []string{"-target=docs"}},
		{[]string{"plan", "-target", "="}, "d", Words, []string{"-target=docs"}}, // bash's split
		{[]string{"plan", "-target"}, "=", Words, []string{"-target=docs", "-target=photos"}},
		{[]string{"plan", "-json"}, "-o", Words, []string{"-out"}},
		{[]string{"plan", "-out"}, "", Files, nil},
		{[]string{"plan", "-log-level"}, "", Words, []string{"info", "debug"}},
		{[]string{"verify"}, "", Words, []string{"docs", "photos"}},
		{[]string{"verify", "docs"}, "-", Words, []string{"-checksum"}}, // interspersed
		{[]string{"apply"}, "", Files, nil},
		{[]string{"apply", "plan.out"}, "-", Files, nil}, // flags stop at the first argument
		{[]string{"state"}, "", Words, []string{"list", "show"}},
		{[]string{"state", "show"}, "", Words, []string{"docs", "old"}},
		{[]string{"state", "list"}, "", Words, nil},
		{[]string{"frob"}, "", Words, nil},
	} {
		r := Complete(testTree(), tc.before, tc.cur, src)
		if r.Directive != tc.dir || !reflect.DeepEqual(words(r), tc.want) {
			t.Errorf("%q + %q: %s %q, want %s %q", tc.before, tc.cur, r.Directive, words(r), tc.dir, tc.want)
		}
	}
	Complete(testTree(), []string{"-chdir", "/srv/conf", "plan", "-target"}, "", src)
	if gotDir != "/srv/conf" {
		t.Errorf("the source was asked for %q, want the -chdir directory", gotDir)
	}
	Complete(testTree(), []string{"-chdir=/srv/b", "verify"}, "", src)
	if gotDir != "/srv/b" {
		t.Errorf("the source was asked for %q, want the -chdir= directory", gotDir)
	}
}

func TestResultString(t *testing.T) {
	r := Result{Directive: Words, Candidates: []Candidate{{"list", "list\tthem"}, {"show", ""}}}
	r.Candidates[0].Description = oneLine(r.Candidates[0].Description)
	if got := r.String(); got != ":words\nlist\tlist them\nshow\n" {
		t.Errorf("%q", got)
	}
}

func TestScripts(t *testing.T) {
	for _, sh := range append(Shells, "pwsh") {
		s, err := Script(sh, "robo")
		if err != nil || !strings.Contains(s, "robo completion __complete -cur=") && !strings.Contains(s, "& robo completion __complete") {
			t.Errorf("%s: %v\n%s", sh, err, s)
		}
	}
	if _, err := Script("tcsh", "robo"); err == nil || !strings.Contains(err.Error(), "bash, zsh, fish, powershell") {
		t.Errorf("tcsh: %v", err)
	}
}

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Install is idempotent, keeps the rest of the file byte for byte, writes
// through a symbolic link, and Uninstall restores the file exactly. Where
// no link can be made (Windows without the privilege, Wine, whose
// CreateSymbolicLink creates nothing), the startup file is a plain file.
func TestInstallUninstall(t *testing.T) {
	home := t.TempDir()
	dotfiles := filepath.Join(home, "dotfiles")
	os.Mkdir(dotfiles, 0o755)
	orig := "# my bashrc\nalias ll='ls -l'\nexport X=1" // no final newline
	rc := filepath.Join(dotfiles, "bashrc")             // the file the link leads to
	if err := os.WriteFile(rc, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, linked := filepath.Join(dotfiles, "bashrc"), true
	err := os.Symlink(rc, filepath.Join(home, ".bashrc"))
	if fi, lerr := os.Lstat(filepath.Join(home, ".bashrc")); err != nil || lerr != nil || fi.Mode()&os.ModeSymlink == 0 {
		if runtime.GOOS != "windows" {
			t.Fatalf("symlink: %v %v", err, lerr)
		}
		if err == nil {
			err = errors.New("os.Symlink reported success but made no link (Wine 8.0)")
		}
		t.Logf("no symbolic link here (%v): the startup file is a plain file", err)
		rc, linked = filepath.Join(home, ".bashrc"), false
		if err := os.Rename(filepath.Join(dotfiles, "bashrc"), rc); err != nil {
			t.Fatal(err)
		}
	}
	tg, err := TargetFor("bash", "robo", home, "", "linux", getenv(nil))
	if err != nil || tg.Path != filepath.Join(home, ".bashrc") {
		t.Fatalf("%+v %v", tg, err)
	}
	for i, want := range []bool{true, false, false} {
		changed, err := Install(tg)
		if err != nil || changed != want {
			t.Fatalf("install %d: changed %v, %v", i, changed, err)
		}
	}
	b, _ := os.ReadFile(rc)
	if !strings.HasPrefix(string(b), orig+"\n\n"+beginMarker+"\n") || strings.Count(string(b), beginMarker) != 1 ||
		!strings.Contains(string(b), `eval "$(robo completion bash)"`) || !strings.HasSuffix(string(b), endMarker+"\n") {
		t.Fatalf("bashrc after install:\n%s", b)
	}
	if fi, _ := os.Lstat(filepath.Join(home, ".bashrc")); linked && fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	// Windows has no mode bits (Go reports 0666 for every writable file).
	if fi, _ := os.Stat(rc); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", fi.Mode().Perm())
	}
	// Something the user added after the block survives an update.
	os.WriteFile(rc, append(b, "export Y=2\n"...), 0o600)
	tg.Content = "changed\n"
	if changed, err := Install(tg); !changed || err != nil {
		t.Fatalf("update: %v %v", changed, err)
	}
	b, _ = os.ReadFile(rc)
	if !strings.Contains(string(b), beginMarker+"\nchanged\n"+endMarker+"\nexport Y=2\n") {
		t.Fatalf("after update:\n%s", b)
	}
	for i, want := range []bool{true, false} {
		changed, err := Uninstall(tg)
		if err != nil || changed != want {
			t.Fatalf("uninstall %d: changed %v, %v", i, changed, err)
		}
	}
	b, _ = os.ReadFile(rc)
	if string(b) != orig+"\nexport Y=2\n" {
		t.Fatalf("after uninstall: %q", b)
	}
}

func TestInstallFish(t *testing.T) {
	config := t.TempDir()
	tg, err := TargetFor("fish", "robo", "/nonexistent", "", "linux", getenv(map[string]string{"XDG_CONFIG_HOME": config}))
	if err != nil || tg.Path != filepath.Join(config, "fish", "completions", "robo.fish") || !tg.Whole {
		t.Fatalf("%+v %v", tg, err)
	}
	if changed, err := Install(tg); !changed || err != nil {
		t.Fatal(changed, err)
	}
	if changed, err := Install(tg); changed || err != nil {
		t.Fatal(changed, err)
	}
	if changed, err := Uninstall(tg); !changed || err != nil {
		t.Fatal(changed, err)
	}
	if _, err := os.Stat(tg.Path); !os.IsNotExist(err) {
		t.Fatalf("the file is still there: %v", err)
	}
	// A file of the user's own is neither overwritten nor removed.
	os.WriteFile(tg.Path, []byte("complete -c robo -a mine\n"), 0o644)
	if _, err := Install(tg); err == nil || !strings.Contains(err.Error(), "not robo's") {
		t.Errorf("install over the user's file: %v", err)
	}
	if _, err := Uninstall(tg); err == nil {
		t.Error("uninstall removed the user's file")
	}
	if b, _ := os.ReadFile(tg.Path); string(b) != "complete -c robo -a mine\n" {
		t.Errorf("the user's file changed: %q", b)
	}
}

func TestTargets(t *testing.T) {
	for _, tc := range []struct {
		shell, goos string
		env         map[string]string
		want        string
	}{
		{"zsh", "linux", nil, "/h/.zshrc"},
		{"zsh", "darwin", map[string]string{"ZDOTDIR": "/z"}, "/z/.zshrc"},
		{"powershell", "linux", nil, "/h/.config/powershell/Microsoft.PowerShell_profile.ps1"},
		{"pwsh", "windows", nil, filepath.Join("/h", "Documents", "PowerShell", "Microsoft.PowerShell_profile.ps1")},
	} {
		tg, err := TargetFor(tc.shell, "robo", "/h", "", tc.goos, getenv(tc.env))
		if err != nil || tg.Path != filepath.FromSlash(tc.want) && tg.Path != tc.want {
			t.Errorf("%s on %s: %q %v, want %q", tc.shell, tc.goos, tg.Path, err, tc.want)
		}
	}
	if tg, _ := TargetFor("bash", "robo", "/h", "/etc/x", "linux", getenv(nil)); tg.Path != "/etc/x" {
		t.Errorf("-file ignored: %q", tg.Path)
	}
}
