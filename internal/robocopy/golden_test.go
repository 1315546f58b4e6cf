package robocopy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the current parser")

// goldenJob is the reviewable view of a parsed job stored in the goldens:
// every scalar, the summary and the errors in full; file and dir lists in
// full up to goldenListMax entries, otherwise the first and last five plus
// per-class counts and a SHA-256 of the complete lists (so any change in
// any entry still fails the test).
type goldenJob struct {
	Source            string         `json:"source"`
	Destination       string         `json:"destination"`
	Options           string         `json:"options"`
	Include           []string       `json:"include,omitempty"`
	ExcludeFiles      []string       `json:"exclude_files,omitempty"`
	ExcludeDirs       []string       `json:"exclude_dirs,omitempty"`
	Started           string         `json:"started"`
	Ended             string         `json:"ended"`
	Summary           *Summary       `json:"summary"`
	Fatal             bool           `json:"fatal"`
	Truncated         bool           `json:"truncated"`
	Retries           int            `json:"retries"`
	Errors            []Error        `json:"errors"`
	FileCount         int            `json:"file_count"`
	FileClasses       map[string]int `json:"file_classes"`
	Files             []FileEntry    `json:"files,omitempty"`
	FilesHead         []FileEntry    `json:"files_head,omitempty"`
	FilesTail         []FileEntry    `json:"files_tail,omitempty"`
	DirCount          int            `json:"dir_count"`
	DirClasses        map[string]int `json:"dir_classes"`
	Dirs              []DirEntry     `json:"dirs,omitempty"`
	DirsHead          []DirEntry     `json:"dirs_head,omitempty"`
	DirsTail          []DirEntry     `json:"dirs_tail,omitempty"`
	EntriesHash       string         `json:"entries_sha256"`
	Notes             []string       `json:"notes,omitempty"`
	Language          string         `json:"language,omitempty"`
	Banner            string         `json:"banner,omitempty"`
	Version           string         `json:"version,omitempty"`
	UnrecognizedCount int            `json:"unrecognized_count"`
	Unrecognized      []string       `json:"unrecognized,omitempty"`
}

type goldenLog struct {
	Encoding string      `json:"encoding"`
	JobCount int         `json:"job_count"`
	Jobs     []goldenJob `json:"jobs"`
}

const goldenListMax = 40

func goldenView(l *Log) goldenLog {
	g := goldenLog{Encoding: l.Encoding, JobCount: len(l.Jobs), Jobs: []goldenJob{}}
	for _, j := range l.Jobs {
		gj := goldenJob{
			Source: j.Source, Destination: j.Destination, Options: j.Options,
			Include: j.Include, ExcludeFiles: j.ExcludeFiles, ExcludeDirs: j.ExcludeDirs,
			Started: j.Started, Ended: j.Ended, Summary: j.Summary, Fatal: j.Fatal, Truncated: j.Truncated,
			Retries: j.Retries, Errors: j.Errors, FileCount: len(j.Files), DirCount: len(j.Dirs),
			FileClasses: map[string]int{}, DirClasses: map[string]int{}, Unrecognized: j.Unrecognized,
			Notes: j.Notes, Language: j.Language, Banner: j.Banner, Version: j.Version, UnrecognizedCount: j.UnrecognizedCount,
		}
		for _, f := range j.Files {
			gj.FileClasses[f.Class]++
		}
		for _, d := range j.Dirs {
			gj.DirClasses[d.Class]++
		}
		if len(j.Files) <= goldenListMax {
			gj.Files = j.Files
		} else {
			gj.FilesHead, gj.FilesTail = j.Files[:5], j.Files[len(j.Files)-5:]
		}
		if len(j.Dirs) <= goldenListMax {
			gj.Dirs = j.Dirs
		} else {
			gj.DirsHead, gj.DirsTail = j.Dirs[:5], j.Dirs[len(j.Dirs)-5:]
		}
		all, _ := json.Marshal(struct {
			F []FileEntry
			D []DirEntry
		}{j.Files, j.Dirs})
		sum := sha256.Sum256(all)
		gj.EntriesHash = hex.EncodeToString(sum[:])
		g.Jobs = append(g.Jobs, gj)
	}
	return g
}

func marshalGolden(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return buf.Bytes()
}

// TestGoldenSamples parses every real log in the shared samples directory
// and compares the result with testdata/golden/<sample>.json. Each golden
// was reviewed by hand against its log (counts, paths, errors, summary
// numbers, nil summary for fatal and truncated runs).
func TestGoldenSamples(t *testing.T) {
	if _, err := os.Stat(samplesDir); err != nil {
		t.Skipf("samples not available: %v", err)
	}
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.log"))
	if err != nil || len(files) == 0 {
		t.Skip("no samples")
	}
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".log")
		t.Run(name, func(t *testing.T) {
			checkGolden(t, f, filepath.Join("testdata", "golden", name+".json"))
		})
	}
}

// TestGoldenCorpus parses every real log in testdata/corpus (localized
// console transcripts and logs found in public sources; provenance in
// testdata/fixtures/SOURCES.md) and compares the result with the
// <name>.json beside it. Each golden was read against its log: header,
// every file and directory line, summary rows, errors.
func TestGoldenCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.log"))
	if err != nil || len(files) == 0 {
		t.Fatal("no corpus logs in testdata/corpus")
	}
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".log")
		t.Run(name, func(t *testing.T) {
			checkGolden(t, f, filepath.Join("testdata", "corpus", name+".json"))
		})
	}
}

func checkGolden(t *testing.T, logPath, goldenPath string) {
	t.Helper()
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	got := marshalGolden(goldenView(ParseBytes(b)))
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("missing golden (run go test -run 'TestGolden' -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("parse result differs from %s; run with -update and review the diff\n%s", goldenPath, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + x + "\n  got:  " + y
		}
	}
	return ""
}
