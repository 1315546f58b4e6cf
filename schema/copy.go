package schema

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// What a set copies of each file and directory: the copy and
// directory_copy attributes, in robocopy's /COPY: and /DCOPY: letters
// (docs/configuration.md, "What is copied").
const (
	// CopyLetterOrder is the canonical order of copy's letters:
	// robocopy's "DATSOU" and robo's "E" (extended attributes).
	CopyLetterOrder = "DATSOUE"
	// DirCopyLetterOrder is the canonical order of directory_copy's.
	DirCopyLetterOrder = "DATE"
	// DefaultCopy and DefaultDirCopy are what a set copies when nothing
	// says otherwise: robocopy's /COPY:DAT, and /DCOPY:DAT (directory
	// times too, as robo always kept them).
	DefaultCopy    = "DAT"
	DefaultDirCopy = "DAT"
)

// copyLetterNames says what each letter copies, for messages.
var copyLetterNames = map[byte]string{
	'D': "data", 'A': "attributes", 'T': "timestamps", 'S': "security (ACLs)",
	'O': "owner", 'U': "auditing (SACL)", 'E': "extended attributes",
}

// copyAliases are the words copy accepts beside letters.
var copyAliases = map[string]string{
	"all": "DATSOUE", // robocopy's /COPYALL plus extended attributes
	"sec": "DATS",    // robocopy's /SEC
}

var dirCopyAliases = map[string]string{"all": "DATE"}

// CopyError is one objection to a copy or directory_copy value. Index is
// the byte offset in the value of the letter it concerns, or -1 for the
// value as a whole.
type CopyError struct {
	Index   int
	Message string
}

func (e *CopyError) Error() string { return e.Message }

// ParseCopy reads a copy (dir false) or directory_copy (dir true) value:
// letters in any order and case, or an alias ("all"; "sec" for files). It
// returns the letters in canonical order (CopyLetterOrder,
// DirCopyLetterOrder). Unknown and repeated letters are refused, and so is
// a value without D: a backup that does not copy the data of its files
// (robocopy's /COPY:AT) keeps nothing to restore.
func ParseCopy(s string, dir bool) (string, error) {
	name, order, aliases := "copy", CopyLetterOrder, copyAliases
	if dir {
		name, order, aliases = "directory_copy", DirCopyLetterOrder, dirCopyAliases
	}
	if a, ok := aliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return a, nil
	}
	if strings.TrimSpace(s) == "" {
		return "", &CopyError{-1, fmt.Sprintf("%s is empty: write letters such as %q (%s).", name, map[bool]string{false: DefaultCopy, true: DefaultDirCopy}[dir], letterList(order))}
	}
	seen := map[byte]bool{}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		switch {
		case strings.IndexByte(order, c) < 0:
			return "", &CopyError{i, unknownLetter(name, s, i, c, order, dir)}
		case seen[c]:
			return "", &CopyError{i, fmt.Sprintf("%s %q names %c (%s) twice.", name, s, c, copyLetterNames[c])}
		}
		seen[c] = true
	}
	if !seen['D'] {
		what, hint := "files", "A backup that does not copy its files' data keeps nothing to restore"
		if dir {
			what, hint = "directories", "Directories are always created, so D is required; robocopy before Windows 8 wrote /DCOPY:T for what is /DCOPY:DAT now"
		}
		return "", &CopyError{-1, fmt.Sprintf("%s %q leaves out D (the data of %s). %s: add D, as in %q.", name, s, what, hint, "D"+strings.ToUpper(s))}
	}
	var b strings.Builder
	for i := 0; i < len(order); i++ {
		if seen[order[i]] {
			b.WriteByte(order[i])
		}
	}
	return b.String(), nil
}

func unknownLetter(name, s string, i int, c byte, order string, dir bool) string {
	shown := fmt.Sprintf("%q", s[i:i+1])
	if s[i] >= 0x80 || s[i] < 0x20 {
		shown = "a character that is not a letter"
	}
	msg := fmt.Sprintf("%s %q: %s is not a %s letter; use %s", name, s, shown, name, letterList(order))
	switch {
	case c == 'X':
		msg += ". robocopy's X (skip alternate data streams) is not offered: robo keeps a file's streams with its data, as robocopy does by default"
	case dir && strings.IndexByte("SOU", c) >= 0:
		msg += fmt.Sprintf(". %c (%s) is copied for files only (copy = ...); robocopy's /DCOPY: has no %c", c, copyLetterNames[c], c)
	}
	aliases := `"all"`
	if !dir {
		aliases = `"all" (DATSOUE) or "sec" (DATS)`
	}
	return msg + ", or " + aliases + "."
}

func letterList(order string) string {
	parts := make([]string, len(order))
	for i := 0; i < len(order); i++ {
		parts[i] = fmt.Sprintf("%c %s", order[i], copyLetterNames[order[i]])
	}
	return strings.Join(parts, ", ")
}

// decodeCopyAttr reads a copy or directory_copy attribute into out. A
// refused letter is reported at its own column when the value is a plain
// string literal.
func decodeCopyAttr(a *hcl.Attribute, ctx *hcl.EvalContext, dir bool, out *string, diags *hcl.Diagnostics) {
	s, ok := evalString(a, ctx, diags)
	if !ok {
		return
	}
	letters, err := ParseCopy(s, dir)
	if err == nil {
		*out = letters
		return
	}
	d := attrError(a, "Invalid "+a.Name, err.Error())
	if ce, ok := err.(*CopyError); ok && ce.Index >= 0 {
		if r, ok := literalCharRange(a.Expr, s, ce.Index); ok {
			d.Subject = &r
		}
	}
	*diags = append(*diags, d)
}

// literalCharRange is the source range of byte i of a string literal
// whose source text is exactly its value between quotes (no escapes, no
// template), so that a diagnostic can point at one letter.
func literalCharRange(e hcl.Expression, value string, i int) (hcl.Range, bool) {
	t, ok := e.(*hclsyntax.TemplateExpr)
	if !ok || len(t.Parts) != 1 {
		return hcl.Range{}, false
	}
	if _, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr); !ok {
		return hcl.Range{}, false
	}
	r := e.Range()
	if r.Start.Line != r.End.Line || r.End.Byte-r.Start.Byte != len(value)+2 {
		return hcl.Range{}, false
	}
	col := r.Start.Column + 1 + len([]rune(value[:i]))
	start := hcl.Pos{Line: r.Start.Line, Column: col, Byte: r.Start.Byte + 1 + i}
	_, n := utf8.DecodeRuneInString(value[i:])
	end := hcl.Pos{Line: r.Start.Line, Column: col + 1, Byte: start.Byte + n}
	return hcl.Range{Filename: r.Filename, Start: start, End: end}, true
}
