package robocopy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/filter"
)

// Issue 15, point 4: in a real run that failed one file after three
// retries (sample 24, exit 9, FAILED 1) the four ERROR lines of that file
// are one error. The same lines in a run that ends with exit 1 and FAILED 0
// (the file succeeded on a later retry) are warnings that keep their code.
func TestRetriedErrorsAreWarnings(t *testing.T) {
	j := readSample(t, "24-russian-cp866-mt32-error5-retries-retry-limit.log")
	var gaveUp []string
	for _, e := range j.Errors {
		if e.RetryLimitExceeded {
			gaveUp = append(gaveUp, e.Path)
		}
	}
	if len(gaveUp) != 1 || len(j.Errors) < 2 {
		t.Fatalf("sample 24 errors %+v", j.Errors)
	}
	res := ResultFromJob(j, 9, false)
	if len(res.Errors) != 1 || res.Errors[0].Path != gaveUp[0] || !strings.HasPrefix(res.Errors[0].Err, "error 5 (0x00000005)") {
		t.Fatalf("errors %+v, want one for %s", res.Errors, gaveUp[0])
	}
	// The same ERROR lines in a run that succeeded (exit 1, FAILED 0 after
	// the retries) are no failure at all.
	ok := *j
	s := *j.Summary
	s.Files.Failed, s.Bytes.Failed = 0, 0
	ok.Summary = &s
	res = ResultFromJob(&ok, 1, false)
	if len(res.Errors) != 0 || !res.OK() || len(res.Warnings) != len(j.Errors) || !strings.Contains(res.Warnings[0], "error 5 (0x00000005)") {
		t.Fatalf("successful run with retried errors: errors %+v warnings %q", res.Errors, res.Warnings)
	}
}

// Point 4: "NOTE : Security may not be copied" is a note, not an error with
// code 0 (a real console capture; testdata/fixtures/SOURCES.md).
func TestNoteIsNotAnError(t *testing.T) {
	l := parseFixture(t, "real-note-security-error53-console.log")
	j := l.Jobs[0]
	eq(t, "notes", j.Notes, []string{"NOTE : Security may not be copied - Source might not support persistent ACLs."})
	var codes []int
	for _, e := range j.Errors {
		codes = append(codes, e.Code)
		if !e.HasCode || e.Fatal {
			t.Errorf("error %+v", e)
		}
	}
	eq(t, "codes", codes, []int{123, 53, 53})
	eq(t, "source", j.Source, `\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopy2\Users\micha\repos\shimmy\`)
	eq(t, "options", j.Options, "*.* /S /E /COPYALL /R:0 /W:0")
	eq(t, "unrecognized", j.UnrecognizedCount, 0)
	res := ResultFromJob(&j, 16, false)
	found := false
	for _, w := range res.Warnings {
		found = found || strings.Contains(w, "Security may not be copied")
	}
	if !found {
		t.Errorf("note not a warning: %q", res.Warnings)
	}
}

// Point 11: a fatal privilege error has no code ("code": null, fatal), and
// the raw format strings robocopy printed beside it are not extra errors
// (a real console transcript of /B without backup rights).
func TestFatalWithoutCodeAndFormatStrings(t *testing.T) {
	l := parseFixture(t, "real-backup-right-format-strings-console.log")
	if len(l.Jobs) != 1 {
		t.Fatalf("jobs %d", len(l.Jobs))
	}
	j := l.Jobs[0]
	want := []Error{
		{Message: "You do not have the Backup and Restore Files user rights. You need these to perform Backup copies (/B or /ZB).", Fatal: true},
		{Message: "Robocopy ran out of memory, exiting.", Fatal: true},
	}
	eq(t, "errors", j.Errors, want)
	if !j.Fatal || j.Summary != nil || j.UnrecognizedCount != 0 {
		t.Errorf("fatal %v summary %v unrecognized %q", j.Fatal, j.Summary, j.Unrecognized)
	}
	b, _ := json.Marshal(j.Errors[0])
	if !bytes.Contains(b, []byte(`"code":null`)) || !bytes.Contains(b, []byte(`"fatal":true`)) {
		t.Errorf("json %s", b)
	}
	var back Error
	if err := json.Unmarshal(b, &back); err != nil || back != j.Errors[0] {
		t.Errorf("round trip %+v %v", back, err)
	}
	// Without its header (the capture starts at the error line) the fatal
	// error still makes a job.
	i := strings.Index(string(readFixture(t, "real-backup-right-format-strings-console.log")), "ERROR :")
	l = ParseBytes(readFixture(t, "real-backup-right-format-strings-console.log")[i:])
	if len(l.Jobs) != 1 || !l.Jobs[0].Fatal || len(l.Jobs[0].Errors) != 2 {
		t.Fatalf("headerless: %+v", l.Jobs)
	}
}

// Point 10: a console of 80 columns wraps the 81-character banner (a line
// of spaces before the separator) and long lines; the header and the
// wrapped file names must come out as in the unwrapped log.
func TestWrapped80ColumnConsole(t *testing.T) {
	want := readSample(t, "03-extra-file-newer-tee-np.log")
	l := parseFixture(t, "wrapped-80-columns-from-sample-03.log")
	if len(l.Jobs) != 1 {
		t.Fatalf("jobs %d", len(l.Jobs))
	}
	j := l.Jobs[0]
	eq(t, "source", j.Source, want.Source)
	eq(t, "dest", j.Destination, want.Destination)
	eq(t, "options", j.Options, want.Options)
	eq(t, "started", j.Started, want.Started)
	eq(t, "summary", j.Summary, want.Summary)
	if len(j.Files) != len(want.Files) || len(j.Files) == 0 {
		t.Fatalf("files %d, want %d", len(j.Files), len(want.Files))
	}
	for i := range j.Files {
		if j.Files[i].Path != want.Files[i].Path || j.Files[i].Class != want.Files[i].Class || j.Files[i].Size != want.Files[i].Size {
			t.Errorf("file %d: %+v, want %+v", i, j.Files[i], want.Files[i])
		}
	}
	eq(t, "unrecognized", j.Unrecognized, []string(nil))
}

// A pasted console run whose progress overwrote each line's start (real
// transcript).
func TestRealConsoleMirProgress(t *testing.T) {
	j := parseFixture(t, "real-mir-console-progress.log").Jobs[0]
	var got []string
	for _, f := range j.Files {
		got = append(got, f.Class+" "+f.FullPath)
	}
	eq(t, "files", got, []string{`New File C:\Users\htb\Desktop\notes\python-notes`, `New File C:\Users\htb\Desktop\notes\vscode`})
	eq(t, "files row", j.Summary.Files, Row{Total: 2, Copied: 2})
}

// Points 9 and 11: /TS puts the source timestamp after the size, separated
// by spaces, and /ETA adds "hh:mm -> hh:mm" after the name. The lines are
// sample 26's real file lines with only that field added
// (testdata/fixtures/SOURCES.md).
func TestTimestampAndETAFields(t *testing.T) {
	lines := []string{
		"\t    New File  \t\t     209 2025/11/18 22:01:53\t.dockerignore",
		"\t    New File  \t\t     209\t2025/11/18 22:01:53 .dockerignore",
		"\t    New File  \t\t     209\t2025/11/18 22:01:53\t.dockerignore",
		"\t    New File  \t\t     209\t.dockerignore\t22:02 -> 22:02",
	}
	for _, l := range lines {
		f, ok := parseFileTab(l)
		if !ok {
			t.Fatalf("%q not a file line", l)
		}
		p := &parser{log: &Log{}}
		p.startJob(stBody)
		p.addFile(f, l)
		got := p.cur.job.Files[0]
		if got.Path != ".dockerignore" || got.Size != 209 || got.Class != "New File" {
			t.Errorf("%q: %+v", l, got)
		}
		if !strings.Contains(l, "->") && got.Timestamp != "2025/11/18 22:01:53" {
			t.Errorf("%q: timestamp %q", l, got.Timestamp)
		}
	}
}

// Point 2: localized tags reported from real logs, truncated tags, and the
// error for an unknown tag naming the tag and the language.
func TestLocalizedTags(t *testing.T) {
	for tag, want := range map[string]string{
		"Nuevo archivo": "New File", "Nuevo arch": "New File", "Más reciente": "Newer", "Mais Recente": "Newer",
		"Mais Antigo": "Older", "新文件": "New File", "Neue Datei": "New File", "Neuer": "Newer", "Älter": "Older",
		"*EXTRA Datei": "*EXTRA File", "Novo Arquivo": "New File",
	} {
		if got := classifyFileTag(tag); got != want {
			t.Errorf("%q: %q, want %q", tag, got, want)
		}
	}
	if got := classifyDirTag("*EXTRA Verz.", -1); got != "*EXTRA Dir" {
		t.Errorf("*EXTRA Verz.: %q", got)
	}
	if got := classifyFileTag("Neu"); got != "" {
		t.Errorf("short unknown tag classified %q", got)
	}
	j := readSample(t, "08-german-locale-mir-abridged.log")
	msg := UnknownTagError(j, "Geheimnis")
	for _, s := range []string{`"Geheimnis"`, "output language de", "Robustes Dateikopieren"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message %q lacks %q", msg, s)
		}
	}
}

// Point 5: a listing with robocopy ERROR lines (sample 24's real errors),
// unrecognized lines or an exit code of 8 or more makes scan errors, so the
// planner withholds the deletions.
func TestListingErrorsWithholdDeletions(t *testing.T) {
	j := readSample(t, "24-russian-cp866-mt32-error5-retries-retry-limit.log")
	errs := ListingErrors(j, 9)
	if len(errs) < len(j.Errors)+1 || !strings.Contains(errs[0].Err, "exit code 9") {
		t.Fatalf("errors %+v", errs)
	}
	// A clean real listing has none.
	if errs := ListingErrors(readSample(t, "27-list-only-l-unc-source-all-skipped.log"), 0); len(errs) != 0 {
		t.Fatalf("clean listing: %+v", errs)
	}
	// Unrecognized lines (sample 15's trailing batch-file output).
	errs = ListingErrors(readSample(t, "15-fatal-error3-source-missing-no-summary.log"), 0)
	found := false
	for _, e := range errs {
		found = found || strings.Contains(e.Err, `unrecognized line " 4:35:32.04 "`)
	}
	if !found {
		t.Fatalf("unrecognized line not an error: %+v", errs)
	}
}

// Point 7: under /MT robocopy counts every directory as copied (sample 12:
// Dirs Copied == Total); done counts only the directories the plan created.
func TestMTDirectoryCount(t *testing.T) {
	j := readSample(t, "12-japanese-cp932-native-log-mt8-cr-progress.log")
	res := ResultFromJob(j, 1, false)
	if res.Counters.Dirs.Copied == 0 {
		t.Fatalf("sample 12 dirs %+v", res.Counters.Dirs)
	}
	before := res.Counters.Dirs
	correctMTDirs(res, []engine.Change{{Action: engine.Create, Kind: engine.KindDir, Path: "new"}, {Action: engine.Create, Kind: engine.KindFile, Path: "new/a"}})
	if res.Counters.Dirs.Copied != 1 || res.Counters.Dirs.Skipped != before.Skipped+before.Copied-1 || res.Done != res.Counters.Files.Copied+1 {
		t.Fatalf("dirs %+v done %d", res.Counters.Dirs, res.Done)
	}
}

// Point 8: a trailing backslash on a pattern is trimmed the same way in
// both engines: robocopy gets the bare name, and internal/filter (the
// native engine's) matches the same directory.
func TestTrailingBackslashPatterns(t *testing.T) {
	o, _ := OptionsFor(engine.Spec{Source: `C:\src`, Destination: `D:\dst`, ExcludeDirs: []string{`cache\`, `build\tmp\`}, ExcludeFiles: []string{`Thumbs.db\`}})
	if got := strings.Join(o.ExcludeDirs[:3], "|"); got != `cache|C:\src\build\tmp|D:\dst\build\tmp` {
		t.Errorf("XD %s", got)
	}
	eq(t, "XF", o.ExcludeFiles, []string{"Thumbs.db"})
	for _, c := range []struct{ pat, rel, name string }{{`cache\`, "a/cache", "cache"}, {`build\tmp\`, "build/tmp", "tmp"}} {
		p, err := filter.Compile(c.pat)
		if err != nil || !p.Match(c.rel, c.name) {
			t.Errorf("filter %q does not match %s (%v)", c.pat, c.rel, err)
		}
	}
}
