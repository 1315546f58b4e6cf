package complete

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The markers around robo's block in a startup file. Install replaces what
// is between them, Uninstall removes them and what is between them; the
// rest of the file is left byte for byte.
const (
	beginMarker = "# >>> robo completion (added by robo completion install; remove with robo completion uninstall) >>>"
	endMarker   = "# <<< robo completion <<<"
)

// Target is where one shell's completion is installed.
type Target struct {
	Shell string
	// Path is the startup file (~/.bashrc) or, for fish, the completion
	// file robo owns.
	Path string
	// Whole says that Path is robo's own file (fish's completions
	// directory): written whole on install, removed on uninstall, and never
	// overwritten when it does not carry robo's marker.
	Whole bool
	// Content is the block between the markers, or the whole file.
	Content string
}

// TargetFor says where shell's completion goes for a user whose home is
// home; getenv reads ZDOTDIR and XDG_CONFIG_HOME; path, when not empty,
// overrides the file.
func TargetFor(shell, prog, home, path, goos string, getenv func(string) string) (Target, error) {
	config := getenv("XDG_CONFIG_HOME")
	if config == "" {
		config = filepath.Join(home, ".config")
	}
	guard := "command -v " + prog + " >/dev/null 2>&1"
	var t Target
	switch shell {
	case "bash":
		t = Target{Shell: shell, Path: filepath.Join(home, ".bashrc"),
			Content: "if " + guard + "; then\n    eval \"$(" + prog + " completion bash)\"\nfi\n"}
	case "zsh":
		dir := getenv("ZDOTDIR")
		if dir == "" {
			dir = home
		}
		t = Target{Shell: shell, Path: filepath.Join(dir, ".zshrc"),
			Content: "if " + guard + "; then\n    (( $+functions[compdef] )) || { autoload -Uz compinit && compinit -i; }\n    eval \"$(" + prog + " completion zsh)\"\nfi\n"}
	case "fish":
		s, _ := Script("fish", prog)
		t = Target{Shell: shell, Path: filepath.Join(config, "fish", "completions", prog+".fish"), Whole: true, Content: s}
	case "powershell", "pwsh":
		p := filepath.Join(config, "powershell", "Microsoft.PowerShell_profile.ps1")
		if goos == "windows" {
			p = filepath.Join(home, "Documents", "PowerShell", "Microsoft.PowerShell_profile.ps1")
		}
		t = Target{Shell: "powershell", Path: p,
			Content: "if (Get-Command " + prog + " -ErrorAction SilentlyContinue) {\n    " + prog + " completion powershell | Out-String | Invoke-Expression\n}\n"}
	default:
		return Target{}, fmt.Errorf("unknown shell %q (robo completes in %s)", shell, strings.Join(Shells, ", "))
	}
	if path != "" {
		t.Path = path
	}
	return t, nil
}

// Install adds or updates robo's completion in t.Path; changed is false
// when it was already there as it would be written.
func Install(t Target) (changed bool, err error) {
	old, mode, err := readFile(t.Path)
	if err != nil {
		return false, err
	}
	var next []byte
	if t.Whole {
		if old != nil && !bytes.Contains(old, []byte(beginMarker)) {
			return false, fmt.Errorf("%s exists and is not robo's: not overwriting it", t.Path)
		}
		next = []byte(beginMarker + "\n" + t.Content)
	} else {
		block := beginMarker + "\n" + t.Content + endMarker + "\n"
		if before, after, found := cutBlock(old); found {
			next = []byte(before + block + after)
		} else {
			s := string(old)
			if s != "" && !strings.HasSuffix(s, "\n") {
				s += "\n"
			}
			if s != "" {
				s += "\n"
			}
			next = []byte(s + block)
		}
	}
	if bytes.Equal(old, next) {
		return false, nil
	}
	return true, writeFile(t.Path, next, mode)
}

// Uninstall removes robo's completion from t.Path; changed is false when
// it was not there.
func Uninstall(t Target) (changed bool, err error) {
	old, mode, err := readFile(t.Path)
	if err != nil || old == nil {
		return false, err
	}
	if t.Whole {
		if !bytes.Contains(old, []byte(beginMarker)) {
			return false, fmt.Errorf("%s is not robo's: not removing it", t.Path)
		}
		if err := os.Remove(t.Path); err != nil {
			return false, err
		}
		return true, nil
	}
	before, after, found := cutBlock(old)
	if !found {
		return false, nil
	}
	// Drop the blank line Install put before the block.
	if strings.HasSuffix(before, "\n\n") {
		before = before[:len(before)-1]
	}
	return true, writeFile(t.Path, []byte(before+after), mode)
}

// cutBlock splits a file around robo's block (markers included).
func cutBlock(b []byte) (before, after string, found bool) {
	s := string(b)
	i := strings.Index(s, beginMarker)
	if i < 0 || (i > 0 && s[i-1] != '\n') {
		return s, "", false
	}
	j := strings.Index(s[i:], endMarker)
	if j < 0 {
		return s, "", false
	}
	end := i + j + len(endMarker)
	if end < len(s) && s[end] == '\n' {
		end++
	}
	return s[:i], s[end:], true
}

// readFile reads path through symbolic links (dotfiles kept in a
// repository are often linked); a missing file is nil.
func readFile(path string) ([]byte, fs.FileMode, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0o644, nil
	}
	if err != nil {
		return nil, 0, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	return b, fi.Mode().Perm(), nil
}

// writeFile replaces the file at path (the target of a link) through a
// temporary file and a rename, so that a crash leaves the old or the new
// file, never half of one.
func writeFile(path string, b []byte, mode fs.FileMode) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".robo-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
