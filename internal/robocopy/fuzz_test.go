package robocopy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes the parser panic and that results
// keep basic invariants. Seeds: the shared samples (when present) and the
// fixtures in testdata/fixtures and the real logs in testdata/corpus.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{samplesDir, filepath.Join("testdata", "fixtures"), filepath.Join("testdata", "corpus")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if len(b) > 8<<10 {
				b = b[:8<<10] // keep seeds small; truncation is a case too
			}
			f.Add(b)
		}
	}
	f.Add([]byte("\t  *EXTRA Dir -1\t\\\\x\\\r100%\r\n   Dirs : 1 2 3 4 5 6\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l := ParseBytes(b)
		if l == nil || l.Encoding == "" || l.Jobs == nil {
			t.Fatalf("bad log %+v", l)
		}
		for _, j := range l.Jobs {
			if j.Files == nil || j.Dirs == nil || j.Errors == nil {
				t.Fatal("nil slices in job")
			}
			if j.Summary != nil && (j.Fatal || j.Truncated) {
				t.Fatal("job with a summary marked fatal or truncated")
			}
			if j.Summary == nil && j.Fatal == j.Truncated {
				t.Fatalf("job without summary must be exactly one of fatal/truncated: %v %v", j.Fatal, j.Truncated)
			}
			if len(j.Unrecognized) > maxUnrecognized {
				t.Fatal("too many unrecognized lines kept")
			}
			for _, fe := range j.Files {
				if fe.Size < -1 {
					t.Fatalf("negative size %d", fe.Size)
				}
				if strings.ContainsAny(fe.Path, "\r\n") {
					t.Fatalf("path with line break %q", fe.Path)
				}
			}
			for _, e := range j.Errors {
				if e.Code < 0 {
					t.Fatalf("negative error code %d", e.Code)
				}
			}
		}
		var sb strings.Builder
		if err := l.WriteText(&sb); err != nil {
			t.Fatal(err)
		}
	})
}
