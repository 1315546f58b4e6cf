package schema

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// Issue 16: "~" at the start of a path is the home directory of the user
// robo runs as, on every path NormalizePath resolves; "~user" is refused.
func TestNormalizePathHome(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the home directory is set through HOME, which Windows does not read (USERPROFILE): TestNormalizePathHomeWindows")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, c := range []struct{ raw, want string }{
		{"~", home}, {"~/", home}, {"~/docs", home + "/docs"}, {"~/a/../b", home + "/b"},
		{"docs/~", "/etc/robo/docs/~"}, {"./~alice", "/etc/robo/~alice"},
	} {
		got, kind, err := NormalizePath(c.raw, "/etc/robo", "linux")
		if err != nil || got != c.want || kind != LocalPath {
			t.Errorf("%q: %q %v %v; want %q", c.raw, got, kind, err, c.want)
		}
	}
	for _, c := range []struct{ raw, err string }{
		{"~alice/docs", `"~alice" names another user's home directory`},
		{"~alice", `"~alice" names another user's home directory`},
		{"~$lock.docx", `"~$lock.docx" names another user's home directory`},
		{`~\docs`, `"~\" is not a separator on linux`},
	} {
		if _, _, err := NormalizePath(c.raw, "/etc/robo", "linux"); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: %v; want %q", c.raw, err, c.err)
		}
	}
	// A home of "/" (root's on some systems) gives "/docs", not the UNC
	// path "//docs".
	t.Setenv("HOME", "/")
	if got, kind, err := NormalizePath("~/docs", "/etc/robo", "linux"); got != "/docs" || kind != LocalPath || err != nil {
		t.Errorf("home /: %q %v %v", got, kind, err)
	}
	// No home directory, or a relative one: an error, never "~" under
	// the configuration directory.
	for _, h := range []string{"", "relative/home"} {
		t.Setenv("HOME", h)
		if p, _, err := NormalizePath("~/docs", "/etc/robo", "linux"); err == nil || !strings.Contains(err.Error(), "home directory of the user robo runs as") {
			t.Errorf("HOME=%q: %q %v", h, p, err)
		}
	}
}

// On Windows the home is %USERPROFILE% (os.UserHomeDir) and "~\" is a
// separator too.
func TestNormalizePathHomeWindows(t *testing.T) {
	defer func(f func() (string, error)) { userHomeDir = f }(userHomeDir)
	userHomeDir = func() (string, error) { return `C:\Users\alice`, nil }
	for raw, want := range map[string]string{`~\Documents`: `C:\Users\alice\Documents`, "~/Documents/x": `C:\Users\alice\Documents\x`, "~": `C:\Users\alice`} {
		got, kind, err := NormalizePath(raw, `C:\ProgramData\robo`, "windows")
		if err != nil || got != want || kind != DrivePath {
			t.Errorf("%q: %q %v %v; want %q", raw, got, kind, err, want)
		}
	}
	userHomeDir = func() (string, error) { return "", errors.New("%userprofile% is not defined") }
	if _, _, err := NormalizePath(`~\Documents`, `C:\ProgramData\robo`, "windows"); err == nil || !strings.Contains(err.Error(), "%userprofile% is not defined") {
		t.Errorf("no profile: %v", err)
	}
}
