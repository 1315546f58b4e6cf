package filter

import "testing"

func TestWildcard(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "abc", true},
		{"*.tmp", "a.tmp", true},
		{"*.tmp", "a.tmp.txt", false},
		{"*.tmp", ".tmp", true},
		{"~$*", "~$report.docx", true},
		{"~$*", "report.docx", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aéc", true},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b", "xxaxxbxxb", true},
		{"*a*b", "xxaxxbxxc", false},
		{"abc", "abcd", false},
		{"abc*", "abc", true},
		{"**", "x", true},
		{"?", "", false},
	}
	for _, c := range cases {
		if got := wildcard(c.p, c.s); got != c.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}

func TestRules(t *testing.T) {
	r, errs := New([]string{"*.txt", "*.DOC"}, []string{"~$*", `old\*.txt`}, []string{"node_modules", "build/cache", ".GIT"})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	files := []struct {
		rel  string
		want bool
	}{
		{"a.txt", true},
		{"sub/a.TXT", true},
		{"report.doc", true},
		{"image.png", false},
		{"~$a.txt", false},
		{"old/x.txt", false},
		{"sub/old/x.txt", true},
	}
	for _, f := range files {
		if got := r.File(f.rel, base(f.rel)); got != f.want {
			t.Errorf("File(%q) = %v, want %v", f.rel, got, f.want)
		}
	}
	dirs := []struct {
		rel  string
		want bool
	}{
		{"node_modules", false},
		{"a/node_modules", false},
		{"build", true},
		{"build/cache", false},
		{"x/build/cache", true},
		{".git", false},
		{"src", true},
	}
	for _, d := range dirs {
		if got := r.Dir(d.rel, base(d.rel)); got != d.want {
			t.Errorf("Dir(%q) = %v, want %v", d.rel, got, d.want)
		}
	}
}

func TestBadPatterns(t *testing.T) {
	_, errs := New([]string{"a/b"}, []string{""}, []string{"../x"})
	if len(errs) != 3 {
		t.Fatalf("want 3 errors, got %d: %v", len(errs), errs)
	}
}

func base(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
