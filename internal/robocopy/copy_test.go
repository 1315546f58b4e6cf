package robocopy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
)

// copyArgs keeps the switches a set's copy and directory_copy decide.
func copyArgs(args []string) []string {
	var out []string
	for _, a := range args {
		switch sw := switchName(a); sw {
		case "/COPY", "/DCOPY", "/SEC", "/COPYALL", "/IT", "/SECFIX", "/NODCOPY":
			out = append(out, a)
		}
	}
	return out
}

// Issue 16: copy and directory_copy map to robocopy's switches, per
// version; what a version cannot copy fails the plan instead of copying
// less. Every argument passed is one the version accepts (CheckArgs).
func TestCopyArgsPerVersion(t *testing.T) {
	const (
		xp  = "XP026"
		w7  = "5.1.10.1027"
		w8  = "6.3.9600.16384"
		w10 = "10.0.17763.1"
		cur = "10.0.19041.1"
	)
	for _, c := range []struct {
		version, copy, dirCopy string
		want                   []string
		err                    string // substring of BuildArgs' error
		limits                 []string
	}{
		// The defaults: /COPY:DAT is robocopy's own (not passed), /IT so an
		// attribute-only change is copied.
		{cur, "", "", []string{"/DCOPY:DAT", "/IT"}, "", nil},
		{w10, "", "", []string{"/DCOPY:DAT", "/IT"}, "", nil},
		{w8, "", "", []string{"/DCOPY:DAT", "/IT"}, "", nil},
		{w7, "", "", []string{"/DCOPY:T", "/IT"}, "", nil},
		{xp, "", "", []string{"/IT"}, "", []string{"no /DCOPY: directory timestamps are not copied"}},
		// robocopy's own names where they are exactly the letters.
		{cur, "DATS", "", []string{"/SEC", "/DCOPY:DAT", "/IT", "/SECFIX"}, "", nil},
		{cur, "DATSOU", "", []string{"/COPYALL", "/DCOPY:DAT", "/IT", "/SECFIX"}, "", nil},
		{xp, "DATSOU", "", []string{"/COPYALL", "/IT", "/SECFIX"}, "", []string{"no /DCOPY"}},
		// E is dropped from /COPY: (robocopy copies EAs with the data).
		{cur, "DATSOUE", "DATE", []string{"/COPYALL", "/DCOPY:DATE", "/IT", "/SECFIX"}, "", nil},
		{cur, "DATE", "", []string{"/DCOPY:DAT", "/IT"}, "", nil},
		{w7, "DATSOUE", "", []string{"/COPYALL", "/DCOPY:T", "/IT", "/SECFIX"}, "", nil},
		// Other letter sets as /COPY:; no A, no /IT; O or U alone /SECFIX.
		{cur, "DT", "DT", []string{"/COPY:DT", "/DCOPY:DT"}, "", nil},
		{w8, "DATO", "DA", []string{"/COPY:DATO", "/DCOPY:DA", "/IT", "/SECFIX"}, "", nil},
		{w10, "DTU", "D", []string{"/COPY:DTU", "/DCOPY:D", "/SECFIX"}, "", nil},
		{w7, "D", "DA", []string{"/COPY:D"}, "", nil},
		{w7, "DAT", "D", []string{"/IT"}, "", []string{"no /DCOPY:A: directory attributes are copied"}},
		{xp, "DAT", "DA", []string{"/IT"}, "", nil},
		// Directory EAs need 10.0.19041: refused before, on every older build.
		{w10, "", "DATE", nil, "robocopy 10.0.17763.1 cannot copy the extended attributes of directories", nil},
		{w8, "", "DE", nil, "/DCOPY:E needs robocopy 10.0.19041 or later", nil},
		{w7, "", "DATE", nil, "cannot copy the extended attributes of directories", nil},
		{xp, "", "DATE", nil, "cannot copy the extended attributes of directories", nil},
	} {
		name := c.version + "/" + c.copy + "/" + c.dirCopy
		v, err := ParseVersion(c.version)
		if err != nil {
			t.Fatal(err)
		}
		spec := engine.Spec{Source: `C:\src`, Destination: `D:\dst`, Mirror: true, CopyEmptyDirs: true, Copy: c.copy, DirCopy: c.dirCopy}
		o, _ := OptionsFor(spec)
		o.Version = v
		args, err := BuildArgs(o)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := copyArgs(args); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: copy switches %q, want %q", name, got, c.want)
		}
		if err := CheckArgs(v, args); err != nil {
			t.Errorf("%s: robo passes an argument its version rejects: %v", name, err)
		}
		var lims []string
		for _, l := range Limitations(o) {
			if strings.Contains(l, "DCOPY") || strings.Contains(l, "COPY:") {
				lims = append(lims, l)
			}
		}
		lim := strings.Join(lims, "\n")
		for _, s := range c.limits {
			if !strings.Contains(lim, s) {
				t.Errorf("%s: limitations %q lack %q", name, lim, s)
			}
		}
		if len(c.limits) == 0 && lim != "" {
			t.Errorf("%s: unexpected limitations %q", name, lim)
		}
	}
}
