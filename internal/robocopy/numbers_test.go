package robocopy

import (
	"reflect"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		num, unit string
		want      int64
		ok        bool
	}{
		{"922073", "", 922073, true},
		{"1.2", "m", 1258291, true},        // 1.2 * 1048576 = 1258291.2
		{"13.749", "g", 14762876338, true}, // sample 04 Bytes total: 13.749 * 2^30 = 14762876337.7
		{"3.9", "k", 3994, true},           // 3993.6
		{"0.5", "t", 549755813888, true},
		{"16.0", "m", 16777216, true},
		{"1.2.3", "m", 0, false},
		{"x", "m", 0, false},
		{"1", "q", 0, false},
		{"99999999999999999999", "t", 9223372036854775807, true},
	}
	for _, tt := range tests {
		got, ok := parseSize(tt.num, tt.unit)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseSize(%q, %q) = %d, %v; want %d, %v", tt.num, tt.unit, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseNumbers(t *testing.T) {
	for s, want := range map[string]int64{"5,932,258": 5932258, "94.566.769": 94566769, "1\u00a0671\u00a0206": 1671206, "231122057": 231122057, "1 915 409 756": 1915409756} {
		if got, ok := parseGroupedInt(s); !ok || got != want {
			t.Errorf("parseGroupedInt(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for s, want := range map[string]float64{"339.447": 339.447, "3,350.047": 3350.047, "5411,154": 5411.154, "95,627": 95.627, "109,600.625": 109600.625, "0.321": 0.321, "13224.910": 13224.91} {
		if got, ok := parseLocaleDecimal(s); !ok || got != want {
			t.Errorf("parseLocaleDecimal(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for s, want := range map[string]time.Duration{"0:01:36": 96 * time.Second, "1:20:59": time.Hour + 20*time.Minute + 59*time.Second, "0:16.914": 16914 * time.Millisecond} {
		if got, ok := ParseElapsed(s); !ok || got != want {
			t.Errorf("ParseElapsed(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, bad := range []string{"", "1", "a:00:00", "1:2:3:4", "0:-1"} {
		if _, ok := ParseElapsed(bad); ok {
			t.Errorf("ParseElapsed(%q) accepted", bad)
		}
	}
}

func TestSplitLines(t *testing.T) {
	in := "a\r\n\tNew\t\t1\tname\r  0%  \r100%  \r\r\nmsg\r\r\n 71.3%\r\nx\ry\n"
	want := []string{"a", "\tNew\t\t1\tname", "msg", " 71.3%", "x", "y"}
	if got := splitLines(in); !reflect.DeepEqual(got, want) {
		t.Errorf("splitLines = %q, want %q", got, want)
	}
	if got := stripInnerProgress("guide-co100%  .md"); got != "guide-co.md" {
		t.Errorf("stripInnerProgress = %q", got)
	}
	if got := stripInnerProgress("50% off.pdf"); got != "50% off.pdf" {
		t.Errorf("stripInnerProgress changed a real name: %q", got)
	}
}

func TestEncodingByName(t *testing.T) {
	for _, n := range []string{"UTF-8", "utf-16le", "cp850", "Shift_JIS", "gbk", "cp866", "cp437"} {
		if _, ok := EncodingByName(n); !ok {
			t.Errorf("EncodingByName(%q) not found", n)
		}
	}
	if _, ok := EncodingByName("ebcdic"); ok {
		t.Error("EncodingByName(ebcdic) found")
	}
}
