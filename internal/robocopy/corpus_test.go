package robocopy

import "testing"

// TestCollapsedFormRules isolates the rules of parseCollapsedForm on lines
// of the real andysblog.de transcript (testdata/corpus), plus the free
// text it must refuse.
func TestCollapsedFormRules(t *testing.T) {
	for _, c := range []struct {
		line   string
		ok     bool
		isFile bool
		class  string
		path   string
		size   int64
	}{
		{`1 C:\Temp\`, true, false, "", `C:\Temp\`, 1},
		{`100% Neuer 20 Test.txt`, true, true, "Newer", "Test.txt", 20},
		{`New File 1.2 m big file.iso`, true, true, "New File", "big file.iso", 1258291},
		{`*EXTRA Dir -1 D:\dst\old\`, true, false, "*EXTRA Dir", `D:\dst\old\`, -1},
		{`Nieuw bestand 7 a.txt`, true, true, "", "a.txt", 7}, // unknown tag: kept, class ""
		{`2 files were not copied`, false, false, "", "", 0},  // no tag: not a file
		{`the job wrote 3 lines to the console`, false, false, "", "", 0},
		{`Log File : 3 C:\x\`, false, false, "", "", 0},
		{"\tNew File 3 x", false, false, "", "", 0},
	} {
		f, d, isFile, ok := parseCollapsedForm(c.line)
		if ok != c.ok || isFile != c.isFile {
			t.Errorf("%q: ok=%v file=%v, want %v %v", c.line, ok, isFile, c.ok, c.isFile)
			continue
		}
		if !ok {
			continue
		}
		if isFile && (f.Class != c.class || f.Path != c.path || f.Size != c.size) {
			t.Errorf("%q: file %+v", c.line, f)
		}
		if !isFile && (d.Class != c.class || d.Path != c.path || d.Count != c.size) {
			t.Errorf("%q: dir %+v", c.line, d)
		}
	}
}
