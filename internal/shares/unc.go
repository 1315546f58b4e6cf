package shares

import (
	"errors"
	"fmt"
	"strings"
)

// UNC is a parsed UNC path: \\Server\Share\Path. Path is slash-separated,
// cleaned and relative to the share ("" is the share's root); it never holds
// "." or ".." elements.
type UNC struct {
	Server string
	Share  string
	Path   string
}

// IsUNC reports whether s looks like a UNC path (starts with two slashes or
// two backslashes). It does not validate it; use ParseUNC.
func IsUNC(s string) bool {
	return len(s) >= 2 && (s[0] == '\\' || s[0] == '/') && (s[1] == '\\' || s[1] == '/')
}

// invalidNameChars may not appear in share names or path elements on
// Windows and over SMB (Samba answers STATUS_OBJECT_NAME_INVALID).
const invalidNameChars = `:*?"<>|`

// ParseUNC parses `\\server\share\dir\sub` or `//server/share/dir/sub` (the
// separators may be mixed after the leading pair, as Windows allows, and
// `\\?\UNC\server\share` is accepted too). Repeated and trailing separators
// and "." elements are dropped; ".." is an error, as are empty server or
// share names and characters Windows forbids in names.
func ParseUNC(s string) (UNC, error) {
	orig := s
	bad := func(why string) (UNC, error) {
		return UNC{}, fmt.Errorf("invalid UNC path %q: %s", orig, why)
	}
	if strings.HasPrefix(s, `\\?\UNC\`) || strings.HasPrefix(s, `//?/UNC/`) {
		s = `\\` + s[len(`\\?\UNC\`):]
	}
	if !IsUNC(s) {
		return bad(`it must start with \\server\share (or //server/share)`)
	}
	var elems []string
	for _, e := range strings.FieldsFunc(s[2:], func(r rune) bool { return r == '\\' || r == '/' }) {
		if e == "." {
			continue
		}
		elems = append(elems, e)
	}
	if len(s) > 2 && (s[2] == '\\' || s[2] == '/') {
		return bad("the server name is empty")
	}
	if len(elems) == 0 {
		return bad("the server name is empty")
	}
	if len(elems) < 2 {
		return bad(`it names no share (\\server\share)`)
	}
	u := UNC{Server: elems[0], Share: elems[1]}
	for _, r := range u.Server {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`*?"<>|@`, r) {
			return bad(fmt.Sprintf("the server name contains %q", r))
		}
	}
	if strings.ContainsRune(u.Server, ':') {
		return bad("the server name contains ':' (a port belongs in the share's port setting, not in the UNC path)")
	}
	if u.Share == ".." {
		return bad(`".." is not a share`)
	}
	if err := validName(u.Share); err != nil {
		return bad("the share name " + err.Error())
	}
	for _, e := range elems[2:] {
		if e == ".." {
			return bad(`".." is not allowed`)
		}
		if err := validName(e); err != nil {
			return bad(fmt.Sprintf("the name %q %s", e, err))
		}
	}
	u.Path = strings.Join(elems[2:], "/")
	return u, nil
}

func validName(e string) error {
	for _, r := range e {
		if r < 0x20 || r == 0x7f {
			return errors.New("contains a control character")
		}
		if strings.ContainsRune(invalidNameChars, r) {
			return fmt.Errorf("contains %q, which Windows and SMB forbid in names", r)
		}
	}
	return nil
}

// String returns the path in Windows form, `\\server\share\dir\sub`.
func (u UNC) String() string {
	s := `\\` + u.Server + `\` + u.Share
	if u.Path != "" {
		s += `\` + strings.ReplaceAll(u.Path, "/", `\`)
	}
	return s
}

// ShareRoot returns the UNC of the share itself (Path "").
func (u UNC) ShareRoot() UNC { return UNC{Server: u.Server, Share: u.Share} }

// Within reports whether u is root or lies under it, comparing server, share
// and path elements case-insensitively as Windows does, and returns u's path
// relative to root's (slash-separated, "" when they are the same, in u's
// spelling).
func (u UNC) Within(root UNC) (rel string, ok bool) {
	if !strings.EqualFold(u.Server, root.Server) || !strings.EqualFold(u.Share, root.Share) {
		return "", false
	}
	if root.Path == "" {
		return u.Path, true
	}
	re := strings.Split(root.Path, "/")
	if u.Path == "" {
		return "", false
	}
	ue := strings.Split(u.Path, "/")
	if len(ue) < len(re) {
		return "", false
	}
	for i := range re {
		if !strings.EqualFold(re[i], ue[i]) {
			return "", false
		}
	}
	return strings.Join(ue[len(re):], "/"), true
}
