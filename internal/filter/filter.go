package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Pattern is one compiled wildcard pattern.
type Pattern struct {
	raw     string
	pattern string // lower-cased, slash-separated
	path    bool   // contains a slash: matched against the relative path
}

// Compile checks and compiles one pattern. Backslashes are treated as path
// separators so that Windows-style patterns such as `logs\old` work everywhere.
func Compile(raw string) (Pattern, error) {
	p := strings.ReplaceAll(raw, `\`, "/")
	p = strings.Trim(p, "/")
	if p == "" {
		return Pattern{}, fmt.Errorf("pattern %q is empty", raw)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return Pattern{}, fmt.Errorf("pattern %q has an empty, '.' or '..' path element", raw)
		}
	}
	if !utf8.ValidString(p) {
		return Pattern{}, fmt.Errorf("pattern %q is not valid UTF-8", raw)
	}
	return Pattern{raw: raw, pattern: strings.ToLower(p), path: strings.Contains(p, "/")}, nil
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.raw }

// Match reports whether the entry with the given slash-separated relative path
// (and its last element, name) matches the pattern.
func (p Pattern) Match(relPath, name string) bool {
	if p.path {
		return wildcard(p.pattern, strings.ToLower(relPath))
	}
	return wildcard(p.pattern, strings.ToLower(name))
}

// wildcard matches s against a pattern of '*' and '?' (no character classes,
// as robocopy). It runs in O(len(p)*len(s)) at worst, without recursion.
func wildcard(p, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					_, w := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += w
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// Rules is a compiled set of selection rules for one backup set.
type Rules struct {
	include      []Pattern
	excludeFiles []Pattern
	excludeDirs  []Pattern
}

// New compiles the rules. include lists file name patterns to copy (empty
// means all files); excludeFiles and excludeDirs are robocopy's /XF and /XD.
// All problems are returned, one error per bad pattern.
func New(include, excludeFiles, excludeDirs []string) (*Rules, []error) {
	var errs []error
	compile := func(list []string) []Pattern {
		var out []Pattern
		for _, raw := range list {
			p, err := Compile(raw)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, p)
		}
		return out
	}
	r := &Rules{include: compile(include), excludeFiles: compile(excludeFiles), excludeDirs: compile(excludeDirs)}
	for _, p := range r.include {
		if p.path {
			errs = append(errs, fmt.Errorf("include pattern %q contains a path separator: include patterns match file names only (as robocopy's file arguments)", p.raw))
		}
	}
	return r, errs
}

// File reports whether a file (or symlink) at relPath is selected: it matches
// an include pattern (or there are none) and no exclude_files pattern.
func (r *Rules) File(relPath, name string) bool {
	if r == nil {
		return true
	}
	if len(r.include) > 0 {
		ok := false
		for _, p := range r.include {
			if p.Match(relPath, name) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, p := range r.excludeFiles {
		if p.Match(relPath, name) {
			return false
		}
	}
	return true
}

// Dir reports whether the directory at relPath is walked (not excluded).
func (r *Rules) Dir(relPath, name string) bool {
	if r == nil {
		return true
	}
	for _, p := range r.excludeDirs {
		if p.Match(relPath, name) {
			return false
		}
	}
	return true
}

// UsesPath reports whether any pattern matches against the relative path
// rather than the name alone; when none does, File and Dir ignore relPath
// and a caller may pass "" instead of building it.
func (r *Rules) UsesPath() bool {
	if r == nil {
		return false
	}
	for _, ps := range [][]Pattern{r.include, r.excludeFiles, r.excludeDirs} {
		for _, p := range ps {
			if p.path {
				return true
			}
		}
	}
	return false
}
