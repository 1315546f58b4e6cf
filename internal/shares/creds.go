package shares

import (
	"fmt"
	"strings"
)

// Credentials authenticate to an SMB server with NTLM. The password is never
// part of any text the package produces: String, GoString and every fmt verb
// redact it, and errors name only the user.
//
// Keep Credentials in exported fields or behind a pointer: fmt cannot call
// the redacting methods on a value stored in an unexported struct field and
// would print the password bytes.
type Credentials struct {
	User   string
	Domain string
	// Password is the clear-text password. It is never printed or logged.
	Password []byte `json:"-"`
}

// ParseUser splits a user name given as `DOMAIN\user`, `user@domain` or a
// plain `user` into the user and its domain ("" for a plain name).
func ParseUser(s string) (user, domain string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", fmt.Errorf("the user name is empty")
	}
	bs := strings.Count(s, `\`)
	at := strings.Count(s, "@")
	switch {
	case bs > 1 || at > 1 || (bs == 1 && at == 1):
		return "", "", fmt.Errorf(`user name %q: use DOMAIN\user or user@domain`, s)
	case bs == 1:
		i := strings.IndexByte(s, '\\')
		domain, user = s[:i], s[i+1:]
	case at == 1:
		i := strings.IndexByte(s, '@')
		user, domain = s[:i], s[i+1:]
	default:
		return s, "", nil
	}
	if user == "" || domain == "" {
		return "", "", fmt.Errorf(`user name %q: use DOMAIN\user or user@domain, with neither part empty`, s)
	}
	return user, domain, nil
}

// Name returns the account as `DOMAIN\user` (or `user` without a domain).
func (c Credentials) Name() string {
	if c.Domain == "" {
		return c.User
	}
	return c.Domain + `\` + c.User
}

// String names the account and says whether a password is set; it never
// shows the password.
func (c Credentials) String() string {
	pw := "no password"
	if len(c.Password) > 0 {
		pw = "password redacted"
	}
	return c.Name() + " (" + pw + ")"
}

// GoString is String for %#v.
func (c Credentials) GoString() string {
	return fmt.Sprintf("shares.Credentials{User: %q, Domain: %q, Password: <redacted>}", c.User, c.Domain)
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %s, %q, %x,
// %#v...) prints the redacted form.
func (c Credentials) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, c.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", c.String())
	default:
		fmt.Fprint(f, c.String())
	}
}

// Wipe overwrites the password in place.
func (c *Credentials) Wipe() {
	clear(c.Password)
	c.Password = nil
}

// redact removes every occurrence of the password from a message, a last
// defence for texts built from a library's errors. Very short passwords are
// not searched for: replacing them would mangle messages and reveal them.
func (c *Credentials) redact(msg string) string {
	if c == nil || len(c.Password) < 4 {
		return msg
	}
	return strings.ReplaceAll(msg, string(c.Password), "<redacted>")
}
