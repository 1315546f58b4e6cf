package shares

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseUNC(t *testing.T) {
	for _, c := range []struct {
		in                  string
		server, share, path string
		str                 string
		errPart             string
	}{
		{in: `\\srv\data`, server: "srv", share: "data", str: `\\srv\data`},
		{in: `\\srv\data\`, server: "srv", share: "data", str: `\\srv\data`},
		{in: `\\srv\data\dir\sub`, server: "srv", share: "data", path: "dir/sub", str: `\\srv\data\dir\sub`},
		{in: `//srv/data/dir/sub/`, server: "srv", share: "data", path: "dir/sub", str: `\\srv\data\dir\sub`},
		{in: `\\srv\data\\a\.\b\\`, server: "srv", share: "data", path: "a/b", str: `\\srv\data\a\b`},
		{in: `\\srv\data/mixed\sep`, server: "srv", share: "data", path: "mixed/sep"},
		{in: `\\10.0.0.5\C$\Users`, server: "10.0.0.5", share: "C$", path: "Users"},
		{in: `\\?\UNC\srv\data\x`, server: "srv", share: "data", path: "x", str: `\\srv\data\x`},
		{in: `\\srv\Größe\日本 語`, server: "srv", share: "Größe", path: "日本 語"},
		{in: `\\srv`, errPart: "no share"},
		{in: `\\srv\`, errPart: "no share"},
		{in: `\\\data`, errPart: "server name is empty"},
		{in: `\\`, errPart: "server name is empty"},
		{in: `\srv\data`, errPart: "must start"},
		{in: `C:\data`, errPart: "must start"},
		{in: `\\srv\data\..\x`, errPart: `".."`},
		{in: `\\srv\..`, errPart: `".."`},
		{in: `\\srv\data\a:b`, errPart: `':'`},
		{in: `\\srv:445\data`, errPart: "port"},
		{in: `\\srv\da*ta`, errPart: `'*'`},
		{in: "\\\\srv\\data\\a\x00b", errPart: "control"},
	} {
		u, err := ParseUNC(c.in)
		if c.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), c.errPart) {
				t.Errorf("ParseUNC(%q) = %+v, %v; want error with %q", c.in, u, err, c.errPart)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseUNC(%q): %v", c.in, err)
			continue
		}
		if u.Server != c.server || u.Share != c.share || u.Path != c.path {
			t.Errorf("ParseUNC(%q) = %+v", c.in, u)
		}
		if c.str != "" && u.String() != c.str {
			t.Errorf("ParseUNC(%q).String() = %q, want %q", c.in, u.String(), c.str)
		}
	}
}

func TestWithin(t *testing.T) {
	mk := func(s string) UNC {
		u, err := ParseUNC(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, c := range []struct {
		u, root string
		rel     string
		ok      bool
	}{
		{`\\srv\data\a\b`, `\\srv\data`, "a/b", true},
		{`\\SRV\Data\A\b`, `\\srv\data\a`, "b", true},
		{`\\srv\data\a`, `\\srv\data\A`, "", true},
		{`\\srv\data`, `\\srv\data`, "", true},
		{`\\srv\data`, `\\srv\data\a`, "", false},
		{`\\srv\data\ab`, `\\srv\data\a`, "", false},
		{`\\srv\other\a`, `\\srv\data`, "", false},
		{`\\srv2\data\a`, `\\srv\data`, "", false},
		{`\\srv\data\Straße\x`, `\\srv\data\STRASSE`, "", false}, // no full case folding
		{`\\srv\data\ÄÖ\x`, `\\srv\data\äö`, "x", true},
	} {
		rel, ok := mk(c.u).Within(mk(c.root))
		if rel != c.rel || ok != c.ok {
			t.Errorf("%s Within %s = %q %v, want %q %v", c.u, c.root, rel, ok, c.rel, c.ok)
		}
	}
}

func FuzzParseUNC(f *testing.F) {
	for _, s := range []string{`\\srv\data\a`, `//srv/data`, `\\?\UNC\s\d`, `\\s\d\..`, `\\\`, "\\\\s\\d\\\x00", `\\s\d\a:b`} {
		f.Add(s, `\\s\d`)
	}
	f.Fuzz(func(t *testing.T, s, root string) {
		u, err := ParseUNC(s)
		if err != nil {
			return
		}
		if u.Server == "" || u.Share == "" || strings.HasPrefix(u.Path, "/") || strings.HasSuffix(u.Path, "/") || strings.Contains(u.Path, "//") {
			t.Fatalf("ParseUNC(%q) = %+v", s, u)
		}
		for _, e := range strings.Split(u.Path, "/") {
			if e == ".." || e == "." {
				t.Fatalf("ParseUNC(%q) kept %q", s, e)
			}
		}
		// String round-trips.
		v, err := ParseUNC(u.String())
		if err != nil || v != u {
			t.Fatalf("round trip of %q: %+v %v, want %+v", s, v, err, u)
		}
		if rel, ok := u.Within(u); !ok || rel != "" {
			t.Fatalf("%+v not within itself", u)
		}
		if rel, ok := u.Within(u.ShareRoot()); !ok || rel != u.Path {
			t.Fatalf("%+v within its share: %q %v", u, rel, ok)
		}
		if r, err := ParseUNC(root); err == nil {
			u.Within(r)
		}
	})
}

func TestParseUser(t *testing.T) {
	for _, c := range []struct{ in, user, domain, err string }{
		{in: "bob", user: "bob"},
		{in: `CORP\bob`, user: "bob", domain: "CORP"},
		{in: "bob@corp.example", user: "bob", domain: "corp.example"},
		{in: ` CORP\bob `, user: "bob", domain: "CORP"},
		{in: `.\bob`, user: "bob", domain: "."},
		{in: "", err: "empty"},
		{in: `\bob`, err: "neither part empty"},
		{in: `CORP\`, err: "neither part empty"},
		{in: "bob@", err: "neither part empty"},
		{in: `A\B\c`, err: `DOMAIN\user`},
		{in: `A\b@c`, err: `DOMAIN\user`},
	} {
		u, d, err := ParseUser(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseUser(%q) = %q %q %v, want error %q", c.in, u, d, err, c.err)
			}
			continue
		}
		if err != nil || u != c.user || d != c.domain {
			t.Errorf("ParseUser(%q) = %q %q %v", c.in, u, d, err)
		}
	}
}

// The password must not appear in any formatting of Credentials, nor of a
// struct or pointer holding them in an exported field, nor of a Conn.
func TestCredentialsRedacted(t *testing.T) {
	const pw = "S3cret-Passw0rd!"
	c := Credentials{User: "bob", Domain: "CORP", Password: []byte(pw)}
	type holder struct {
		Name  string
		Creds Credentials
		Ptr   *Credentials
	}
	h := holder{Name: "x", Creds: c, Ptr: &c}
	conn := &Conn{target: Target{Server: "s", Share: "d"}, creds: &Credentials{User: c.User, Domain: c.Domain}, password: func() []byte { return c.Password }}
	var outs []string
	for _, v := range []any{c, &c, h, &h, []Credentials{c}, map[string]Credentials{"k": c}, conn, derefConn(conn)} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
	}
	outs = append(outs, c.String(), c.GoString(), fmt.Sprint(c), fmt.Sprintln(c))
	hexpw := fmt.Sprintf("%x", pw)
	var bytesForm = fmt.Sprint([]byte(pw))
	for _, o := range outs {
		if strings.Contains(o, pw) || strings.Contains(strings.ToLower(o), hexpw) || strings.Contains(o, bytesForm[1:len(bytesForm)-1]) {
			t.Errorf("password leaked: %s", o)
		}
	}
	if got := c.String(); got != `CORP\bob (password redacted)` {
		t.Errorf("String %q", got)
	}
	if got := fmt.Sprintf("%#v", c); !strings.Contains(got, "<redacted>") {
		t.Errorf("GoString %q", got)
	}
	if got := (&Credentials{User: "a"}).redact("a"); got != "a" {
		t.Errorf("redact without a password: %q", got)
	}
	if got := c.redact("x " + pw + " y"); strings.Contains(got, pw) {
		t.Errorf("redact: %q", got)
	}
}

// derefConn returns a Conn by value, as careless logging might print it.
func derefConn(c *Conn) any {
	return struct {
		target   Target
		creds    *Credentials
		password func() []byte
	}{c.target, c.creds, c.password}
}
