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

// Issue 13: only the exact shape of robo's temporary names is one; a
// user's file that merely starts with ".robo-" and ends with ".tmp" is
// not (it is backed up, and a copy-mode set never deletes it).
func TestIsTempName(t *testing.T) {
	for name, want := range map[string]bool{
		".robo-q1.txt.5a6b7c8d9e0f.tmp":           true,
		".robo-q1.txt.5a6b7c8d9e0f-1.tmp":         true,
		".robo-a.0123456789ab-3w5e11264sgsf.tmp":  true,
		".robo-a~1f2e3d4c.5a6b7c8d9e0f-z.tmp":     true,
		".robo-x.tmp":                             false,
		".robo-notes.tmp":                         false,
		".robo-x.123.tmp":                         false,
		".robo-.5a6b7c8d9e0f.tmp":                 false, // no stem
		".robo-a.5A6B7C8D9E0F.tmp":                false,
		".robo-a.5a6b7c8d9e0f-.tmp":               false,
		".robo-a.5a6b7c8d9e0f-ABC.tmp":            false,
		".robo-a.5a6b7c8d9e0f-12345678901234.tmp": false,
		".robo-a.5a6b7c8d9e0f0.tmp":               false,
		"robo-a.5a6b7c8d9e0f.tmp":                 false,
		".robo-a.5a6b7c8d9e0f.tmp.txt":            false,
	} {
		if got := IsTempName(name); got != want {
			t.Errorf("IsTempName(%q) = %v, want %v", name, got, want)
		}
	}
}
