package native

import "testing"

func TestWindowsNameProblem(t *testing.T) {
	for name, bad := range map[string]bool{
		"report.txt": false, "CONFIG.SYS": false, "console": false, "COM10": false, "LPT0": false, ".hidden": false,
		"nul.tar.gz": true, "CON": true, "con": true, "Aux.c": true, "PRN ": true, "com1": true, "LPT9.log": true, "COM¹": true,
		"trailing.": true, "trailing ": true, "..": true, "a:b": true, "what?": true, `a\b`: true, "tab\tname": true, "a|b": true,
		"quote\"": true, "star*": true, "<x>": true,
	} {
		if got := windowsNameProblem(name) != ""; got != bad {
			t.Errorf("%q: refused %v, want %v", name, got, bad)
		}
	}
}
