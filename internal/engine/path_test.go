package engine

import "testing"

// A saved plan may have been edited: no change path may reach outside the
// set's root.
func TestCheckPath(t *testing.T) {
	for _, tc := range []struct {
		path       string
		linux, win bool // valid on linux, on windows
	}{
		{"a", true, true},
		{"a/b/c.txt", true, true},
		{".robo-x.tmp", true, true},
		{"..a/b..", true, true},
		{`a\b`, true, false},
		{"a:b", true, false},
		{"C:x", true, false},
		{"", false, false},
		{"/etc/passwd", false, false},
		{"..", false, false},
		{"../x", false, false},
		{"a/../../x", false, false},
		{"a/./b", false, false},
		{"a//b", false, false},
		{"a/", false, false},
		{"a\x00b", false, false},
		{`..\..\x`, true, false},
	} {
		if got := checkPath(tc.path, "linux") == nil; got != tc.linux {
			t.Errorf("linux %q: valid %v, want %v", tc.path, got, tc.linux)
		}
		if got := checkPath(tc.path, "windows") == nil; got != tc.win {
			t.Errorf("windows %q: valid %v, want %v", tc.path, got, tc.win)
		}
	}
}
