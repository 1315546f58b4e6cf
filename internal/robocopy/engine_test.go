package robocopy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
)

func readSample(t *testing.T, name string) *Job {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if os.IsNotExist(err) {
		t.Skipf("%s not found (../shared is beside the repository in CI and on developer machines)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	log := ParseBytes(b)
	if len(log.Jobs) == 0 {
		t.Fatalf("%s: no job", name)
	}
	return &log.Jobs[len(log.Jobs)-1]
}

func TestOptionsForArgv(t *testing.T) {
	spec := engine.Spec{Source: `D:\Data`, Destination: `\\nas01\backups\data`, Mirror: true, CopyEmptyDirs: true,
		Include: []string{"*.docx"}, ExcludeFiles: []string{"*.tmp", "~$*"}, ExcludeDirs: []string{"node_modules"},
		ExcludeOlder: true, TimeTolerance: 2 * time.Second, Threads: 16, Retries: 3, RetryWait: 10 * time.Second,
		RobocopyArgs: []string{"/COMPRESS"}}
	o, warns := OptionsFor(spec)
	if len(warns) != 0 {
		t.Fatal(warns)
	}
	args, err := BuildArgs(o)
	if err != nil {
		t.Fatal(err)
	}
	want := `D:\Data|\\nas01\backups\data|*.docx|/MIR|/XF|*.tmp|~$*|/XD|node_modules|D:\Data\.robo-versions|\\nas01\backups\data\.robo-versions|/DCOPY:DAT|/IT|/XO|/FFT|/XJ|/MT:16|/R:3|/W:10|/NP|/BYTES|/FP|/COMPRESS`
	if got := strings.Join(args, "|"); got != want {
		t.Fatalf("argv\n got %s\nwant %s", got, want)
	}
	// Copy mode without empty dirs, links copied, an odd tolerance warned.
	o, warns = OptionsFor(engine.Spec{Source: `C:\a`, Destination: `C:\b`, CopySymlinks: true, TimeTolerance: 5 * time.Second, Threads: 1})
	args, _ = BuildArgs(o)
	if got := strings.Join(args, " "); got != `C:\a C:\b /S /XD C:\a\.robo-versions C:\b\.robo-versions /DCOPY:DAT /IT /FFT /SL /SJ /R:0 /W:0 /NP /BYTES /FP` {
		t.Fatalf("argv %s", got)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "time_tolerance = 5s is run as /FFT") {
		t.Fatalf("warnings %q", warns)
	}
}

// A set without threads runs robocopy with the machine's default
// (engine.AutoThreads), a share counting as a network side.
func TestOptionsForAutoThreads(t *testing.T) {
	for _, c := range []struct{ src, dst string }{{`C:\a`, `D:\b`}, {`C:\a`, `\\nas01\backups\b`}} {
		o, _ := OptionsFor(engine.Spec{Source: c.src, Destination: c.dst})
		want := engine.AutoThreads(runtime.NumCPU(), strings.HasPrefix(c.dst, `\\`))
		if o.Threads != want {
			t.Errorf("%s -> %s: threads %d, want %d", c.src, c.dst, o.Threads, want)
		}
		args, err := BuildArgs(o)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(args, " "); !strings.Contains(got, fmt.Sprintf(" /MT:%d ", want)) {
			t.Errorf("%s -> %s: argv %s, want /MT:%d", c.src, c.dst, got, want)
		}
	}
}

// Sample 26 is a real robocopy run (Older, *EXTRA File, *EXTRA Dir, New Dir,
// New File): its lines read back into the same changes robo's native engine
// would plan.
func TestChangesFromRealLog(t *testing.T) {
	j := readSample(t, "26-older-extra-newdir-newfile-775kb-native-log.log")
	spec := engine.Spec{Source: `c:\Users\Hp\OneDrive\Desktop\Shubham OS\frontend`, Destination: `C:\USERS\Hp\OneDrive\Desktop\shubham-ai-os-fronted-tmp`, Mirror: true}
	res := ChangesFromJob(j, spec)
	if len(res.Errors) != 0 {
		t.Fatalf("errors %v", res.Errors[:min(3, len(res.Errors))])
	}
	count := map[string]int{}
	byPath := map[string]engine.Change{}
	for _, c := range res.Changes.Slice() {
		count[c.Action.Symbol()+" "+c.Class.String()+" "+c.Kind.String()]++
		byPath[c.Path] = c
	}
	want := map[string]int{"+ New file": 12938, "~ Older file": 75, "- Extra file": 6, "+ New dir": 1072, "- Extra dir": 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d, want %d", k, count[k], n)
		}
	}
	if c := byPath[".env"]; c.Class != engine.Older || c.Size != 54 {
		t.Errorf(".env: %+v", c)
	}
	if c := byPath[".git/packed-refs"]; c.Action != engine.Delete || c.Size != 210 {
		t.Errorf(".git/packed-refs: %+v", c)
	}
	if c := byPath["frontend"]; c.Action != engine.Delete || c.Kind != engine.KindDir {
		t.Errorf("extra dir: %+v", c)
	}
	if res.Source.Files != 13013 || res.Source.Dirs != 1094 || res.ExtraFiles != 6 || res.ExtraDirs != 1 {
		t.Errorf("stats %+v extras %d/%d", res.Source, res.ExtraFiles, res.ExtraDirs)
	}
	// In copy mode the extras are counted, never deleted.
	spec.Mirror = false
	for _, c := range ChangesFromJob(j, spec).Changes.Slice() {
		if c.Action == engine.Delete {
			t.Fatalf("copy mode plans a deletion: %+v", c)
		}
	}
}

// Entries outside both roots (a listing robo cannot place) become scan
// errors, so the planner deletes nothing.
func TestChangesFromJobUnplaceable(t *testing.T) {
	j := readSample(t, "26-older-extra-newdir-newfile-775kb-native-log.log")
	res := ChangesFromJob(j, engine.Spec{Source: `C:\elsewhere`, Destination: `D:\other`, Mirror: true})
	if len(res.Errors) == 0 {
		t.Fatal("no errors for entries outside the roots")
	}
	for _, c := range res.Changes.Slice() {
		if c.Action == engine.Delete {
			t.Fatalf("deletion planned from an unplaceable listing: %+v", c)
		}
	}
}

func TestResultFromRealLogs(t *testing.T) {
	j := readSample(t, "26-older-extra-newdir-newfile-775kb-native-log.log")
	res := ResultFromJob(j, 3, true)
	if res.Counters.Files.Copied != 13013 || res.Counters.Files.Extras != 6 || res.DeletedFiles != 6 || res.DeletedDirs != 1 {
		t.Errorf("counters %+v", res.Counters)
	}
	if res.BytesCopied != 156646769 || res.ExitCode() != 3 || len(res.Errors) != 0 {
		t.Errorf("bytes %d exit %d errors %v", res.BytesCopied, res.ExitCode(), res.Errors)
	}
	// A killed or fatal run has no summary: unknown, never zero.
	j = readSample(t, "15-fatal-error3-source-missing-no-summary.log")
	res = ResultFromJob(j, 16, true)
	if len(res.Errors) == 0 || !strings.Contains(res.Errors[len(res.Errors)-1].Err, "robocopy wrote no summary") {
		t.Errorf("errors %+v", res.Errors)
	}
	// Copy errors after retries (Russian, CP866): exit 9, each error named.
	j = readSample(t, "24-russian-cp866-mt32-error5-retries-retry-limit.log")
	res = ResultFromJob(j, 9, false)
	if len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Err, "error 5") || res.ExitCode()&engine.ExitFailed == 0 {
		t.Errorf("errors %+v", res.Errors)
	}
}

func TestRootedPatterns(t *testing.T) {
	o, _ := OptionsFor(engine.Spec{Source: `C:\src`, Destination: `\\nas\b`, ExcludeDirs: []string{"node_modules", "build/cache"}, ExcludeFiles: []string{"*.tmp", `logs\old.log`}})
	if got := strings.Join(o.ExcludeDirs, "|"); got != `node_modules|C:\src\build\cache|\\nas\b\build\cache|C:\src\.robo-versions|\\nas\b\.robo-versions` {
		t.Errorf("XD %s", got)
	}
	if got := strings.Join(o.ExcludeFiles, "|"); got != `*.tmp|C:\src\logs\old.log|\\nas\b\logs\old.log` {
		t.Errorf("XF %s", got)
	}
}

func TestRelPath(t *testing.T) {
	cases := []struct{ root, p, want string }{
		{`C:\Data`, `c:\data\a\b.txt`, "a/b.txt"},
		{`C:\Data\`, `C:\Data\`, ""},
		{`\\nas\share\x`, `\\NAS\Share\x\y\`, "y"},
		{`C:\Data`, `C:\Database\x`, "!"},
	}
	for _, c := range cases {
		got, ok := relPath(c.root, c.p)
		if !ok {
			got = "!"
		}
		if got != c.want {
			t.Errorf("relPath(%q, %q) = %q, want %q", c.root, c.p, got, c.want)
		}
	}
}

type events struct{ got []engine.Event }

func (e *events) Report(ev engine.Event) { e.got = append(e.got, ev) }

// Console lines from a real /FP run (sample 10's layout: full paths, CR
// progress) become progress events as robocopy prints them.
func TestProgressFromConsoleLines(t *testing.T) {
	var rec events
	var sink bytes.Buffer
	w := &lineWriter{w: &sink, onLine: progress(&rec, engine.Spec{Source: `C:\src`, Destination: `D:\dst`, Mirror: true})}
	console := "\t                   3\tC:\\src\\\r\n" +
		"\t    New File  \t\t    1024\tC:\\src\\a.txt\r100%  \r\n" +
		"\t    Newer     \t\t     512\tC:\\src\\sub\\b.txt\r\n" +
		"\t  *EXTRA File \t\t      10\tD:\\dst\\old.txt\r\n" +
		"  Total    Copied\r\n"
	for _, chunk := range []string{console[:17], console[17:40], console[40:]} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if sink.String() != console {
		t.Fatal("output not passed through")
	}
	var got []string
	for _, ev := range rec.got {
		got = append(got, fmt.Sprintf("%s %s %d", ev.Change.Action, ev.Change.Path, ev.Bytes))
	}
	want := "create a.txt 1024|update sub/b.txt 512|delete old.txt 10"
	if strings.Join(got, "|") != want {
		t.Fatalf("events %q, want %q", strings.Join(got, "|"), want)
	}
}
