package robocopy

import "testing"

func TestExitCode(t *testing.T) {
	tests := []struct {
		code                                          ExitCode
		fatal, failed, copied, extras, mismatches, ok bool
		text                                          string
	}{
		{0, false, false, false, false, false, true, "0: no change: nothing copied, no extras, no mismatches, no failures (already in sync)"},
		{1, false, false, true, false, false, true, "1: files copied"},
		{2, false, false, false, true, false, true, "2: extra files or directories found (deleted with /MIR)"},
		{3, false, false, true, true, false, true, "3: files copied; extra files or directories found (deleted with /MIR)"},
		{4, false, false, false, false, true, true, "4: mismatched files or directories found (housekeeping needed)"},
		{7, false, false, true, true, true, true, "7: files copied; extra files or directories found (deleted with /MIR); mismatched files or directories found (housekeeping needed)"},
		{8, false, true, false, false, false, false, "8: some files or directories could not be copied (failures)"},
		{9, false, true, true, false, false, false, "9: files copied; some files or directories could not be copied (failures)"},
		{15, false, true, true, true, true, false, "15: files copied; extra files or directories found (deleted with /MIR); mismatched files or directories found (housekeeping needed); some files or directories could not be copied (failures)"},
		{16, true, true, false, false, false, false, "16: fatal error: robocopy copied nothing (usage error, missing privilege, or source/destination inaccessible)"},
		{17, true, true, false, false, false, false, "17: fatal error: robocopy copied nothing (usage error, missing privilege, or source/destination inaccessible)"},
		{-1, true, true, false, false, false, false, "-1: robocopy did not exit normally (killed or crashed); outcome unknown"},
	}
	for _, tt := range tests {
		c := tt.code
		got := [6]bool{c.Fatal(), c.Failed(), c.Copied(), c.Extras(), c.Mismatches(), c.OK()}
		want := [6]bool{tt.fatal, tt.failed, tt.copied, tt.extras, tt.mismatches, tt.ok}
		if got != want {
			t.Errorf("%d: Fatal,Failed,Copied,Extras,Mismatches,OK = %v, want %v", c, got, want)
		}
		if s := c.String(); s != tt.text {
			t.Errorf("%d: String() = %q, want %q", c, s, tt.text)
		}
	}
}
