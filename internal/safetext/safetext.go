package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NeedsQuoting reports whether s cannot be shown as it is: it is not valid
// UTF-8, holds a rune that is not printable (controls, format characters,
// unassigned code points; the ASCII space is printable), or starts with a
// double quote (which would make a plain name look quoted).
func NeedsQuoting(s string) bool {
	if strings.HasPrefix(s, `"`) {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return true
		}
		if !unicode.IsPrint(r) {
			return true
		}
		i += n
	}
	return false
}

// Name returns s as it may be shown to a human: unchanged when it needs no
// quoting, otherwise as a Go double-quoted string literal (strconv.Quote)
// in which control and format characters are escaped (\r, \x1b, \u202e)
// and bytes that are not UTF-8 appear as \xNN. The result never holds a
// control character.
func Name(s string) string {
	if !NeedsQuoting(s) {
		return s
	}
	return strconv.Quote(s)
}

// Line returns s with every control character and every
// byte that is not UTF-8 escaped in place, without surrounding quotes: for
// free text such as an error message that embeds a name, where quoting the
// whole message would be noise. A backslash is doubled only when s needs
// escaping at all, so ordinary text (Windows paths) is unchanged.
func Line(s string) string {
	if !NeedsQuoting(strings.TrimPrefix(s, `"`)) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
