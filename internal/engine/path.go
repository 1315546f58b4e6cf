package engine

import (
	"fmt"
	"runtime"
	"strings"
)

// CheckPath reports why p cannot be the Path of a Change on this host, or
// nil. A change path is relative to the set's root, slash-separated and
// clean: no empty, "." or ".." element, no leading slash and no NUL; on
// Windows also no backslash (a separator there) and no colon (a drive
// letter, or an NTFS alternate data stream). Engines build every name they
// touch by joining such a path to a root, so a path that passes cannot reach
// outside the root. Paths an engine's own scan produces always pass; the
// check is for plans read from files, which may have been edited.
func CheckPath(p string) error { return checkPath(p, runtime.GOOS) }

func checkPath(p, goos string) error {
	switch {
	case p == "":
		return fmt.Errorf("the path is empty")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q is absolute: change paths are relative to the set's root", p)
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("%q holds a NUL character", p)
	case goos == "windows" && strings.ContainsAny(p, `\:`):
		return fmt.Errorf("%q holds a backslash or a colon, which Windows reads as a separator, a drive or a stream", p)
	}
	for rest := p; ; {
		el, more, found := strings.Cut(rest, "/")
		if el == "" || el == "." || el == ".." {
			return fmt.Errorf("%q is not a clean relative path (an empty, \".\" or \"..\" element): it could reach outside the set's root", p)
		}
		if !found {
			return nil
		}
		rest = more
	}
}
