package schema

import (
	"testing"
	"time"
)

// Issue 13: a share's timeout (how long the server may leave a request
// unanswered) is read from the share block; without it the client's
// default applies (0). The invalid values are in testdata/invalid/shares.
func TestShareTimeout(t *testing.T) {
	cfg, diags := Load("testdata/valid/shares", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := cfg.Shares["nas"].Timeout; got != 90*time.Second {
		t.Errorf("timeout = %s, want 1m30s", got)
	}
	cfg, diags = Load("testdata/valid/variables-typed", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := cfg.Shares["nas"].Timeout; got != 0 {
		t.Errorf("timeout without the attribute = %s, want 0 (the default)", got)
	}
}
