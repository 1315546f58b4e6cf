package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostileLog is a robocopy log (UTF-8, no BOM) whose file and error lines
// name files holding an ANSI "erase line", a backspace and a bell (a CR would end the line: robocopy logs split there), and whose header holds
// a byte that is not UTF-8.
const hostileLog = "-------------------------------------------------------------------------------\n" +
	"   ROBOCOPY     ::     Robust File Copy for Windows\n" +
	"-------------------------------------------------------------------------------\n\n" +
	"  Started : Sunday, November 1, 2026 2:00:00 AM\n" +
	"   Source : C:\\src\\caf\xe9\\\n     Dest : D:\\dst\\\n\n    Files : *.*\n\n  Options : *.* /S /E /DCOPY:DA /COPY:DAT /R:1 /W:1\n\n" +
	"------------------------------------------------------------------------------\n\n" +
	"\t                   2\tC:\\src\\caf\xe9\\\n\t    New File  \t\t       5\tx\x1b[2K\x08ok.txt\n" +
	"2026/11/01 02:00:01 ERROR 5 (0x00000005) Copying File C:\\src\\caf\xe9\\evil\x1b[2K\x07name.db\nAccess is denied.\n\n" +
	"------------------------------------------------------------------------------\n\n" +
	"               Total    Copied   Skipped  Mismatch    FAILED    Extras\n" +
	"    Dirs :         1         0         1         0         0         0\n" +
	"   Files :         2         1         0         0         1         0\n" +
	"   Bytes :        10         5         0         0         5         0\n" +
	"   Ended : Sunday, November 1, 2026 2:00:01 AM\n"

// Issue 13: robo robocopy parse prints paths from a log that someone
// else's files named. The text report escapes every control character
// (safetext.Line), so a name cannot erase or rewrite a line; -json is
// valid UTF-8 (a log is text, decoded from its encoding) with controls
// escaped by JSON, so it needs no path_b64 twins (docs/robocopy.md).
func TestRobocopyParseEscapesNames(t *testing.T) {
	p := filepath.Join(t.TempDir(), "job.log")
	if err := os.WriteFile(p, []byte(hostileLog), 0o644); err != nil {
		t.Fatal(err)
	}
	e, out, errb := testEnv("", false)
	if code := run([]string{"robocopy", "parse", p}, e); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	text := out.String()
	for i, b := range []byte(text) {
		if (b < 0x20 && b != '\n') || b == 0x7f {
			t.Fatalf("the text report holds control byte %#x at %d:\n%q", b, i, text)
		}
	}
	if !strings.Contains(text, `evil\x1b[2K\aname.db`) {
		t.Errorf("the error's path is not shown escaped:\n%s", text)
	}

	e, out, errb = testEnv("", false)
	if code := run([]string{"robocopy", "parse", "-json", p}, e); code != exitOK {
		t.Fatalf("-json: exit %d: %s", code, errb)
	}
	if !utf8.Valid(out.Bytes()) || strings.ContainsRune(out.String(), '\x1b') || strings.Contains(out.String(), "_b64") {
		t.Fatalf("-json output: %q", out)
	}
	var doc struct {
		Jobs []struct {
			Source string
			Files  []struct{ Path string }
			Errors []struct{ Path string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Jobs) != 1 || len(doc.Jobs[0].Errors) != 1 || !strings.HasSuffix(doc.Jobs[0].Errors[0].Path, "evil\x1b[2K\x07name.db") {
		t.Fatalf("the JSON does not keep the error's path as the log has it: %+v", doc)
	}
	t.Logf("source %q, files %+v", doc.Jobs[0].Source, doc.Jobs[0].Files)
}
