package schema

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// PathKind says how a configured path is reached.
type PathKind int

// The path kinds.
const (
	LocalPath PathKind = iota // a path on this host
	DrivePath                 // a Windows drive path such as C:\Data
	UNCPath                   // \\server\share\dir
)

var (
	drivePattern  = regexp.MustCompile(`^[A-Za-z]:([\\/]|$)`)
	driveRelative = regexp.MustCompile(`^[A-Za-z]:[^\\/]`)
	// An unexpanded cmd.exe variable anywhere, or a shell variable at the
	// start ($HOME/x); "$" elsewhere is legal in Windows names ($RECYCLE.BIN,
	// admin shares such as \\server\c$).
	envVarsPattern = regexp.MustCompile(`%[A-Za-z_][A-Za-z0-9_()]*%|^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
)

// NormalizePath resolves a configured path for the host OS goos: UNC paths
// (either slash) become \\server\share\dir, Windows drive paths become
// C:\dir, and relative paths are joined to the configuration directory.
func NormalizePath(raw, configDir, goos string) (string, PathKind, error) {
	if strings.TrimSpace(raw) == "" {
		return "", 0, fmt.Errorf("the path is empty")
	}
	if strings.ContainsRune(raw, 0) {
		return "", 0, fmt.Errorf("the path contains a NUL character")
	}
	raw, err := expandHome(raw, goos)
	if err != nil {
		return "", 0, err
	}
	if m := envVarsPattern.FindString(raw); m != "" {
		return "", 0, fmt.Errorf("the path contains %s, which robo does not expand: use env(\"NAME\") in an expression instead", m)
	}
	switch {
	case strings.HasPrefix(raw, `\\`) || strings.HasPrefix(raw, "//"):
		p := strings.ReplaceAll(raw[2:], `\`, "/")
		parts := strings.SplitN(p, "/", 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			return "", 0, fmt.Errorf("a UNC path needs a server and a share, as in //server/share/dir")
		}
		if parts[0] == "." || parts[0] == "?" {
			return "", 0, fmt.Errorf("device paths (\\\\.\\ and \\\\?\\) are not supported; write the path without the prefix")
		}
		if parts[0] == ".." || parts[1] == "." || parts[1] == ".." {
			return "", 0, fmt.Errorf("a UNC path's server and share cannot be \".\" or \"..\"")
		}
		rest := ""
		if len(parts) == 3 {
			rest = path.Clean("/" + parts[2])
			if rest == "/" {
				rest = ""
			}
		}
		return `\\` + parts[0] + `\` + parts[1] + strings.ReplaceAll(rest, "/", `\`), UNCPath, nil
	case drivePattern.MatchString(raw):
		p := path.Clean("/" + strings.ReplaceAll(raw[2:], `\`, "/"))
		return strings.ToUpper(raw[:1]) + ":" + strings.ReplaceAll(p, "/", `\`), DrivePath, nil
	case driveRelative.MatchString(raw):
		return "", 0, fmt.Errorf("\"%s\" is relative to the current directory of drive %s; write %s/%s", raw, raw[:2], raw[:2], raw[2:])
	case strings.HasPrefix(raw, `\`):
		return "", 0, fmt.Errorf("\"%s\" starts with a single backslash and has no drive letter; write C:/... or a UNC path //server/share/...", raw)
	}
	if goos == "windows" {
		if strings.HasPrefix(raw, `\`) || strings.HasPrefix(raw, "/") {
			return "", 0, fmt.Errorf("\"%s\" has no drive letter; write C:/... or a UNC path", raw)
		}
		return filepath.Clean(configDir + `\` + strings.ReplaceAll(raw, "/", `\`)), LocalPath, nil
	}
	if path.IsAbs(raw) {
		return path.Clean(raw), LocalPath, nil
	}
	return path.Join(configDir, raw), LocalPath, nil
}

// userHomeDir finds the home directory of the user robo runs as
// (os.UserHomeDir: $HOME, %USERPROFILE% on Windows).
var userHomeDir = os.UserHomeDir

// expandHome replaces a leading "~" (alone, or before "/", and before "\"
// for Windows) with the home directory of the user robo runs as. "~user"
// is refused rather than looked up: the service runs as SYSTEM or root
// while an admin validates as themself, and another user's home read
// from the account database would make one configuration mean different
// trees; a path written in full means the same tree for both. A "~" is
// never left to become a directory named "~" under the configuration
// directory.
func expandHome(raw, goos string) (string, error) {
	if !strings.HasPrefix(raw, "~") {
		return raw, nil
	}
	rest := raw[1:]
	sep := rest == "" || rest[0] == '/' || (goos == "windows" && rest[0] == '\\')
	if !sep {
		name, _, _ := strings.Cut(strings.ReplaceAll(rest, `\`, "/"), "/")
		if strings.HasPrefix(rest, `\`) {
			return "", fmt.Errorf("\"~\\\" is not a separator on %s: write ~/ for the home directory", goos)
		}
		return "", fmt.Errorf("%q names another user's home directory, which robo does not look up (the service runs as another account than the admin who validates): write the full path, or ~/ for the home directory of the user robo runs as; write %q for a directory of that name beside the configuration", "~"+name, "./~"+name)
	}
	home, err := userHomeDir()
	if err != nil {
		return "", fmt.Errorf("the path starts with ~, but the home directory of the user robo runs as cannot be found (%v): write the full path", err)
	}
	if !absoluteFor(home, goos) {
		return "", fmt.Errorf("the path starts with ~, but the home directory of the user robo runs as is %q, which is not an absolute path: write the full path", home)
	}
	if rest == "" {
		return home, nil
	}
	// "/" + "/x" would be "//x", a UNC path: join on one separator.
	return strings.TrimRight(home, `/\`) + rest, nil
}

// absoluteFor reports whether p is absolute on goos.
func absoluteFor(p, goos string) bool {
	if goos == "windows" {
		return drivePattern.MatchString(p) && len(p) > 2 || strings.HasPrefix(p, `\\`) || strings.HasPrefix(p, "//")
	}
	return strings.HasPrefix(p, "/")
}

// pathKey is a comparable form of a normalized path: slash-separated, with a
// trailing slash, and lower-cased where the file system ignores case.
func pathKey(p string, kind PathKind, goos string) string {
	k := strings.ReplaceAll(p, `\`, "/")
	if kind != LocalPath || goos == "windows" || goos == "darwin" {
		k = strings.ToLower(k)
	}
	if !strings.HasSuffix(k, "/") {
		k += "/"
	}
	return k
}

// within reports whether path key a is b or lies inside it.
func within(a, b string) bool { return strings.HasPrefix(a, b) }
