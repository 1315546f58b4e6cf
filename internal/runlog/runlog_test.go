package runlog

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/robocopy"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// clock returns a fixed time that advances by one second per call.
func clock() func() time.Time {
	t := time.Date(2026, 11, 26, 14, 10, 22, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

// smallRun is a run of a small tree with Windows paths: two new dirs, new,
// newer and changed files, an extra file and dir deleted, a skipped file and
// a failed copy.
func smallRun() (engine.Job, []engine.Event, *engine.Result) {
	ch := []engine.Change{
		{Action: engine.Create, Class: engine.New, Kind: engine.KindDir, Path: "docs", Phase: engine.PhaseCopy},
		{Action: engine.Create, Class: engine.New, Kind: engine.KindDir, Path: "docs/old", Phase: engine.PhaseCopy},
		{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: "docs/a.txt", Phase: engine.PhaseCopy, Size: 1200},
		{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: "docs/old/b b.txt", Phase: engine.PhaseCopy, Size: 5},
		{Action: engine.Update, Class: engine.Newer, Kind: engine.KindFile, Path: "report.pdf", Phase: engine.PhaseCopy, Size: 2_000_000},
		{Action: engine.Update, Class: engine.Changed, Kind: engine.KindFile, Path: "notes.md", Phase: engine.PhaseCopy, Size: 42},
		{Action: engine.Update, Class: engine.Older, Kind: engine.KindFile, Path: "skip.me", Phase: engine.PhaseCopy, Size: 7},
		{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: "locked.db", Phase: engine.PhaseCopy, Size: 4096},
		{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: "gone.tmp", Phase: engine.PhaseDelete, Size: 99},
		{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindDir, Path: "olddir", Phase: engine.PhaseDelete},
	}
	job := engine.Job{Spec: engine.Spec{Name: "docs", Source: `C:\data`, Destination: `\\nas\backup\data`, Mirror: true, CopyEmptyDirs: true,
		ExcludeFiles: []string{"*.tmp"}, Retries: 2, RetryWait: 10 * time.Second, Threads: 1}, Changes: engine.ChangeListOf(ch)}
	var evs []engine.Event
	for i := range ch {
		c := &ch[i]
		switch c.Path {
		case "skip.me":
			evs = append(evs, engine.Event{Change: c, Done: true, Skip: "the source changed since the plan"})
		case "locked.db":
			evs = append(evs, engine.Event{Change: c, Done: true, Err: &os.PathError{Op: "open", Path: `C:\data\locked.db`, Err: errors.New("the process cannot access the file because it is being used by another process")}})
		default:
			evs = append(evs, engine.Event{Change: c, Bytes: c.Size, Done: true})
		}
	}
	res := &engine.Result{
		Counters: engine.Counters{
			Dirs:  engine.Row{Total: 3, Copied: 2, Skipped: 1, Extras: 1},
			Files: engine.Row{Total: 9, Copied: 4, Skipped: 4, Failed: 1, Extras: 1},
			Bytes: engine.Row{Total: 2_010_000, Copied: 2_001_247, Skipped: 4657, Failed: 4096, Extras: 99},
		},
		Done: 8, DeletedFiles: 1, DeletedDirs: 1, BytesCopied: 2_001_247, Duration: 83 * time.Second,
	}
	return job, evs, res
}

func TestGolden(t *testing.T) {
	job, evs, res := smallRun()
	var buf bytes.Buffer
	l := New(&buf, job, Options{Now: clock()})
	for _, ev := range evs {
		l.Report(ev)
	}
	if err := l.Finish(res, nil); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "small.log")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("run log differs from %s (go test -update rewrites it):\n%s", golden, buf.String())
	}
}

func TestRoundTrip(t *testing.T) {
	job, evs, res := smallRun()
	var buf bytes.Buffer
	l := New(&buf, job, Options{Now: clock()})
	for _, ev := range evs {
		l.Report(ev)
	}
	if err := l.Finish(res, nil); err != nil {
		t.Fatal(err)
	}
	log := robocopy.ParseBytes(buf.Bytes())
	if len(log.Jobs) != 1 {
		t.Fatalf("parsed %d jobs, want 1", len(log.Jobs))
	}
	j := log.Jobs[0]
	if len(j.Unrecognized) > 0 {
		t.Errorf("unrecognized lines: %q", j.Unrecognized)
	}
	if j.Source != `C:\data\` || j.Destination != `\\nas\backup\data\` || !strings.Contains(j.Options, "/MIR") || j.Started == "" || j.Ended == "" {
		t.Errorf("header: source %q dest %q options %q started %q ended %q", j.Source, j.Destination, j.Options, j.Started, j.Ended)
	}
	if !slices.Equal(j.ExcludeFiles, []string{"*.tmp"}) {
		t.Errorf("exclude files %q", j.ExcludeFiles)
	}
	checkSummary(t, j.Summary, res)
	var files []string
	for _, f := range j.Files {
		files = append(files, f.Class+" "+f.FullPath)
	}
	want := []string{
		`New File C:\data\docs\a.txt`, `New File C:\data\docs\old\b b.txt`, `Newer C:\data\report.pdf`, `Changed C:\data\notes.md`,
		`older C:\data\skip.me`, `*EXTRA File \\nas\backup\data\gone.tmp`,
	}
	if !slices.Equal(files, want) {
		t.Errorf("files:\n got %q\nwant %q", files, want)
	}
	if len(j.Errors) != 1 || j.Errors[0].Code != 0 || j.Errors[0].Path != `C:\data\locked.db` || j.Errors[0].Action != "Copying File" || j.Errors[0].Message == "" {
		t.Errorf("errors: %+v", j.Errors)
	}
	var dirs []string
	for _, d := range j.Dirs {
		dirs = append(dirs, d.Class+" "+d.Path)
	}
	if want := []string{`New Dir C:\data\docs\`, `New Dir C:\data\docs\old\`, `*EXTRA Dir \\nas\backup\data\olddir\`}; !slices.Equal(dirs, want) {
		t.Errorf("dirs:\n got %q\nwant %q", dirs, want)
	}
}

func checkSummary(t *testing.T, s *robocopy.Summary, res *engine.Result) {
	t.Helper()
	if s == nil {
		t.Fatal("no summary parsed")
	}
	row := func(name string, got robocopy.Row, want engine.Row) {
		if got != robocopy.Row(want) {
			t.Errorf("%s row: got %+v, want %+v", name, got, want)
		}
	}
	row("Dirs", s.Dirs, res.Counters.Dirs)
	row("Files", s.Files, res.Counters.Files)
	row("Bytes", s.Bytes, res.Counters.Bytes)
	if s.Times == nil {
		t.Error("no Times row")
	}
}

// TestNativeRoundTrip logs a real native-engine run of a small tree and
// reads it back.
func TestNativeRoundTrip(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for name, body := range map[string]string{"a.txt": "alpha", "sub/b.txt": "bravo!", "sub/deep/c.bin": strings.Repeat("c", 3000)} {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dst, "extra.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	eng := native.New()
	spec := engine.Spec{Name: "t", Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 4}
	scan, err := eng.Scan(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	job := engine.Job{Spec: spec, Changes: scan.Changes, Source: scan.Source}
	dir := t.TempDir()
	l, path, err := Create(dir, "t", job, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(path), "native-run-t-") {
		t.Errorf("log name %s", path)
	}
	res, err := eng.Apply(context.Background(), job, l)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(res, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	parsed := robocopy.ParseBytes(b)
	if len(parsed.Jobs) != 1 {
		t.Fatalf("parsed %d jobs", len(parsed.Jobs))
	}
	j := parsed.Jobs[0]
	checkSummary(t, j.Summary, res)
	// The header names the roots, POSIX paths included.
	if strings.TrimRight(j.Source, `/\`) != src || strings.TrimRight(j.Destination, `/\`) != dst || len(j.Unrecognized) > 0 {
		t.Errorf("header: source %q destination %q unrecognized %q", j.Source, j.Destination, j.Unrecognized)
	}
	var got, want []string
	for _, f := range j.Files {
		got = append(got, f.Class+" "+f.Path)
	}
	for _, c := range job.Changes.Slice() {
		switch {
		case c.Kind == engine.KindDir:
		case c.Action == engine.Delete:
			want = append(want, "*EXTRA File "+full(dst, c.Path))
		default:
			want = append(want, "New File "+full(src, c.Path))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files:\n got %q\nwant %q", got, want)
	}
	if res.Counters.Files.Copied != 3 || res.Counters.Files.Extras != 1 {
		t.Errorf("unexpected result %+v", res.Counters)
	}
}

func TestFatal(t *testing.T) {
	job, _, _ := smallRun()
	var buf bytes.Buffer
	l := New(&buf, job, Options{Now: clock()})
	if err := l.Finish(nil, errors.New("the source cannot be read")); err != nil {
		t.Fatal(err)
	}
	l.Report(engine.Event{Change: &job.Changes.Slice()[0], Done: true}) // after Finish: dropped
	j := robocopy.ParseBytes(buf.Bytes()).Jobs[0]
	if j.Summary != nil || !j.Fatal || len(j.Errors) != 1 || len(j.Dirs) != 0 {
		t.Errorf("fatal run parsed as %+v", j)
	}
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	files := map[string]time.Duration{
		"native-run-a-1.log": 40 * 24 * time.Hour, "native-run-a-2.log": time.Hour,
		"robocopy-run-1.log": 31 * 24 * time.Hour, "robocopy-run-2.log": 2 * time.Hour,
		"hook-a-before-1.log": 60 * 24 * time.Hour, "hook-a-before-2.log": 3 * time.Hour,
		"robocopy-list-1.log": 90 * 24 * time.Hour, "notes.txt": 90 * 24 * time.Hour,
	}
	for name, age := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	left := func() []string {
		es, _ := os.ReadDir(dir)
		var n []string
		for _, e := range es {
			n = append(n, e.Name())
		}
		return n
	}
	removed, err := Prune(dir, DefaultRetention, now)
	if err != nil || len(removed) != 3 {
		t.Fatalf("removed %q, %v", removed, err)
	}
	if want := []string{"hook-a-before-2.log", "native-run-a-2.log", "notes.txt", "robocopy-list-1.log", "robocopy-run-2.log"}; !slices.Equal(left(), want) {
		t.Errorf("left %q", left())
	}
	if _, err := Prune(dir, Retention{Count: 1}, now); err != nil {
		t.Fatal(err)
	}
	if want := []string{"native-run-a-2.log", "notes.txt", "robocopy-list-1.log"}; !slices.Equal(left(), want) {
		t.Errorf("after count 1: left %q", left())
	}
	if r, err := Prune(filepath.Join(dir, "missing"), DefaultRetention, now); err != nil || len(r) != 0 {
		t.Errorf("missing dir: %q %v", r, err)
	}
}

// TestLargeCountsParse: byte counts of ten digits and more (runs past
// 953 MiB) stay apart in the summary, so that the log reads back with the
// same counts (they used to run together, and the run's summary was lost).
func TestLargeCountsParse(t *testing.T) {
	job, evs, res := smallRun()
	res.Counters.Bytes = engine.Row{Total: 12_009_290_981, Copied: 12_009_290_981, Skipped: 1_000_000_000, Failed: 9_999_999_999}
	var buf bytes.Buffer
	l := New(&buf, job, Options{Now: clock()})
	for _, ev := range evs {
		l.Report(ev)
	}
	if err := l.Finish(res, nil); err != nil {
		t.Fatal(err)
	}
	lg := robocopy.ParseBytes(buf.Bytes())
	if len(lg.Jobs) != 1 || lg.Jobs[0].Truncated {
		t.Fatalf("parsed %d jobs (truncated: %v):\n%s", len(lg.Jobs), len(lg.Jobs) == 1 && lg.Jobs[0].Truncated, buf.String())
	}
	checkSummary(t, lg.Jobs[0].Summary, res)
}

// The per-directory "New Dir" counts of a run with far more directories
// than fit the counts' memory bound spill to sorted runs and still give
// every directory its number of files (issue #22: a map of every
// directory grew with the tree).
func TestDirCountsSpill(t *testing.T) {
	oldR, oldB := engine.SortedRunBytes, engine.SortedBlockBytes
	engine.SortedRunBytes, engine.SortedBlockBytes = 512, 128
	t.Cleanup(func() { engine.SortedRunBytes, engine.SortedBlockBytes = oldR, oldB })
	var ch []engine.Change
	want := map[string]int64{}
	for d := range 300 {
		dir := fmt.Sprintf("d%03d/e%d", d%17, d)
		ch = append(ch, engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindDir, Path: dir, Phase: engine.PhaseCopy})
		for f := range d % 5 {
			ch = append(ch, engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: fmt.Sprintf("%s/f%d", dir, f), Phase: engine.PhaseCopy, Size: 1})
		}
		want[`C:\data\`+strings.ReplaceAll(dir, "/", `\`)+`\`] = int64(d % 5)
	}
	job := engine.Job{Spec: engine.Spec{Name: "many", Source: `C:\data`, Destination: `D:\backup`, Threads: 1}, Changes: engine.ChangeListOf(ch)}
	defer job.Changes.Close()
	var buf bytes.Buffer
	l := New(&buf, job, Options{Now: clock()})
	if !l.counts.Spilled() {
		t.Fatal("the counts of 300 directories did not spill")
	}
	for i := range ch {
		l.Report(engine.Event{Change: &ch[i], Bytes: ch[i].Size, Done: true})
	}
	if err := l.Finish(&engine.Result{}, nil); err != nil {
		t.Fatal(err)
	}
	j := robocopy.ParseBytes(buf.Bytes()).Jobs[0]
	if len(j.Dirs) != len(want) {
		t.Fatalf("%d dir lines, want %d", len(j.Dirs), len(want))
	}
	for _, d := range j.Dirs {
		if n, ok := want[d.Path]; !ok || d.Class != "New Dir" || d.Count != n {
			t.Fatalf("%s %q: %d files, want %d (%v)", d.Class, d.Path, d.Count, n, ok)
		}
	}
}
