package schema

import (
	"fmt"
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
