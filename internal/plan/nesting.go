package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// nestedThroughLinks refuses a set whose source and destination, once
// symbolic links and junctions are resolved, are the same directory or lie
// one inside the other. The configuration check (schema) compares the
// paths as written; this one catches /backup/link/docs where link points
// into the source. It looks only at local paths that exist (the
// destination's nearest existing parent) and returns "" when it cannot tell.
func nestedThroughLinks(source, destination string) string {
	if !filepath.IsAbs(source) || !filepath.IsAbs(destination) || strings.HasPrefix(source, `\\`) || strings.HasPrefix(destination, `\\`) {
		return ""
	}
	src, err := filepath.EvalSymlinks(source)
	if err != nil {
		return ""
	}
	dst := resolveExisting(destination)
	if dst == "" {
		return ""
	}
	key := func(p string) string {
		p = filepath.Clean(p)
		if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
			p = strings.ToLower(p)
		}
		if !strings.HasSuffix(p, string(filepath.Separator)) {
			p += string(filepath.Separator)
		}
		return p
	}
	sk, dk := key(src), key(dst)
	switch {
	case sk == dk:
		return fmt.Sprintf("the source %s and the destination %s are the same directory (%s) once links are followed: nothing will be touched", source, destination, src)
	case strings.HasPrefix(dk, sk):
		return fmt.Sprintf("the destination %s is %s once links are followed, inside the source %s (%s): every run would copy the backup into itself, so nothing will be touched. Choose a destination outside the source", destination, dst, source, src)
	case strings.HasPrefix(sk, dk):
		return fmt.Sprintf("the source %s is %s once links are followed, inside the destination %s (%s): a mirror would treat the source as extra files, so nothing will be touched. Choose a destination outside the source", source, src, destination, dst)
	}
	return ""
}

// resolveExisting resolves the links of the longest existing prefix of p
// and appends the rest.
func resolveExisting(p string) string {
	rest := ""
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest)
		} else if !os.IsNotExist(err) {
			return ""
		}
		parent := filepath.Dir(p)
		if parent == p {
			return ""
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}
