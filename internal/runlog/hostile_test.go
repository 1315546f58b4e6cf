package runlog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/robocopy"
)

// forgedError is what a hostile name tries to slip into the run log as a
// line of its own: a robocopy error, which the dashboard counts as a
// failed run.
const forgedError = "\nERROR 5 (0x00000005) Copying File C:\\secret.db\r\nAccess is denied.\n"

// Issue 13: a source file whose name holds a newline, CR, TAB and a whole
// robocopy error line cannot forge a line in the native run log: the run
// copies it, and the log parses back as a successful run listing it as one
// file. The log is 0600 in a 0700 directory. Windows refuses C0 controls
// (and ':') in names: there the names are the ones it allows, with C1 and
// Unicode line breaks (NEL, U+2028) where the others have CR and LF.
func TestNameCannotForgeRunLog(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows refuses control characters in names, so no source there holds them")
	}
	src, dst := t.TempDir(), t.TempDir()
	names := []string{"nel\u0085ERROR 5 (0x00000005) Copying File secret.db\u2028Access is denied.\u2029",
		"-------------------------------------------------------------------------------"}
	if runtime.GOOS != "windows" {
		names = append(names, "x"+forgedError, "y\r100%\r  ERROR 5 (0x00000005) z", "tab\t\t       1\tw",
			"   Files :         1         1         0         0         0         0")
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(src, n), []byte("data"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eng := native.New()
	spec := engine.Spec{Name: "t", Source: src, Destination: dst, Mirror: true, Threads: 1}
	scan, err := eng.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	job := engine.Job{Spec: spec, Changes: scan.Changes, Source: scan.Source}
	dir := filepath.Join(t.TempDir(), "logs")
	l, path, err := Create(dir, "t", job, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Apply(context.Background(), job, l)
	if err != nil || !res.OK() {
		t.Fatalf("%v %+v", err, res)
	}
	if err := l.Finish(res, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lg := robocopy.ParseBytes(b)
	if len(lg.Jobs) != 1 {
		t.Fatalf("%d jobs:\n%s", len(lg.Jobs), b)
	}
	j := lg.Jobs[0]
	if len(j.Errors) != 0 || j.Fatal || j.Truncated || j.Summary == nil || j.Summary.Files.Failed != 0 || j.Summary.Files.Copied != int64(len(names)) {
		t.Fatalf("the log does not read as a successful run of %d files: errors %+v, summary %+v\n%s", len(names), j.Errors, j.Summary, b)
	}
	if len(j.Files) != len(names) {
		t.Errorf("%d file lines, want %d:\n%s", len(j.Files), len(names), b)
	}
	forged := 0
	for _, n := range names {
		forged += strings.Count(n, "ERROR")
	}
	if strings.Count(string(b), "ERROR") != forged || strings.Contains(string(b), "\nAccess") {
		t.Errorf("raw log:\n%q", b)
	}
	if runtime.GOOS == "windows" {
		return // Windows has no mode bits (Go reports 0666 and 0777)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700 | os.ModeDir} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v (%v)", p, fi.Mode(), want, err)
		}
	}
}

// An error message that embeds a hostile name (as I/O errors do) stays
// the message of its one error line; a warning cannot become an error.
func TestMessageCannotForgeRunLog(t *testing.T) {
	c := &engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: "a 5 (0x00000005) b", Phase: engine.PhaseCopy, Size: 1}
	job := engine.Job{Spec: engine.Spec{Name: "t", Source: "/s", Destination: "/d", Mirror: true}, Changes: engine.ChangeListOf([]engine.Change{*c})}
	for _, msg := range []string{
		"open /s/a 5 (0x00000005) b: permission denied",
		"open /s/x" + forgedError + ": denied",
		"------------------------------------------------------------------------------",
		"Files : 1 1 0 0 0 0",
		"  New File  \t\t  8\t/etc/passwd",
		"Waiting 30 seconds... Retrying...",
	} {
		var b strings.Builder
		l := New(&b, job, Options{Now: clock()})
		l.Report(engine.Event{Change: c, Done: true, Err: &os.PathError{Op: "open", Path: "x", Err: errors.New(msg)}})
		res := &engine.Result{Warnings: []string{"w 5 (0x00000005) " + msg}}
		res.Counters.Files = engine.Row{Total: 1, Failed: 1}
		if err := l.Finish(res, nil); err != nil {
			t.Fatal(err)
		}
		lg := robocopy.ParseBytes([]byte(b.String()))
		if len(lg.Jobs) != 1 {
			t.Fatalf("%q: %d jobs\n%s", msg, len(lg.Jobs), b.String())
		}
		j := lg.Jobs[0]
		if len(j.Errors) != 1 || len(j.Files) != 0 || j.Summary == nil || j.Summary.Files.Failed != 1 || j.Retries != 0 {
			t.Errorf("%q: errors %+v files %+v summary %+v\n%s", msg, j.Errors, j.Files, j.Summary, b.String())
		}
	}
}
