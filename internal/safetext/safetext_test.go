package safetext

import (
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain.txt", "plain.txt"},
		{"with space.txt", "with space.txt"},
		{`C:\Users\a b\x.txt`, `C:\Users\a b\x.txt`},
		{"日本語.txt", "日本語.txt"},
		{"a\rb", `"a\rb"`},
		{"a\nb", `"a\nb"`},
		{"\x1b[2Kfake", `"\x1b[2Kfake"`},
		{"b\xff", `"b\xff"`},
		{"b\ufffd", "b\ufffd"},
		{"evil\u202etxt.exe", `"evil\u202etxt.exe"`},
		{`"quoted"`, `"\"quoted\""`},
		{"tab\there", `"tab\there"`},
		{"del\x7f", `"del\x7f"`},
	} {
		got := Name(tc.in)
		if got != tc.want {
			t.Errorf("Name(%q) = %s, want %s", tc.in, got, tc.want)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Errorf("Name(%q) = %q holds a control character", tc.in, got)
			}
		}
	}
	// Two different names never display the same.
	if Name("b\xff") == Name("b\ufffd") {
		t.Error(`b\xff and b\ufffd display the same`)
	}
}

func TestLine(t *testing.T) {
	if got := Line(`copy C:\a\b failed`); got != `copy C:\a\b failed` {
		t.Errorf("plain line changed: %q", got)
	}
	got := Line("copy a\nERROR 5 (0x00000005) x: denied")
	if strings.ContainsAny(got, "\n\r") || got != `copy a\nERROR 5 (0x00000005) x: denied` {
		t.Errorf("Line = %q", got)
	}
}
