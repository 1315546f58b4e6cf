package schema

import (
	"testing"
	"time"
)

func TestParseLogRetention(t *testing.T) {
	for in, want := range map[string]LogRetention{
		"30d": {MaxAge: 30 * 24 * time.Hour}, "12h": {MaxAge: 12 * time.Hour}, " 100 ": {Count: 100}, "1": {Count: 1},
	} {
		got, err := ParseLogRetention(in)
		if err != nil || got != want {
			t.Errorf("ParseLogRetention(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "-3", "0s", "soon", ""} {
		if _, err := ParseLogRetention(in); err == nil {
			t.Errorf("ParseLogRetention(%q) accepted", in)
		}
	}
}
