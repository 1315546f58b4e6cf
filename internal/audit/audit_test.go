package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func trail(t *testing.T, n int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := Open(path)
	for i := 0; i < n; i++ {
		if err := l.Record("test.event", map[string]string{"i": string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

func write(t *testing.T, path string, lines []string) {
	t.Helper()
	s := strings.Join(lines, "")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestIntact(t *testing.T) {
	path, lines := trail(t, 5)
	r, err := Verify(path)
	if err != nil || !r.OK() || r.Entries != 5 || len(lines) != 5 {
		t.Fatalf("%+v %v", r, err)
	}
	fi, _ := os.Stat(path)
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 { // Windows has ACLs, no mode bits
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

func TestTampering(t *testing.T) {
	cases := []struct {
		name string
		mod  func([]string) []string
		want string
	}{
		{"edited", func(l []string) []string {
			l[2] = strings.Replace(l[2], `"i":"c"`, `"i":"X"`, 1)
			return l
		}, "line 3: entry 3 was edited"},
		{"removed", func(l []string) []string { return append(l[:2], l[3:]...) }, "line 3: entries 3 to 3 are missing (removed)"},
		{"reordered", func(l []string) []string {
			l[1], l[2] = l[2], l[1]
			return l
		}, "line 2: entries 2 to 2 are missing"},
		{"head removed", func(l []string) []string { return l[1:] }, "line 1: the trail starts at entry 2"},
		{"garbage", func(l []string) []string {
			l[4] = "not json\n"
			return l
		}, "line 5: not a valid entry"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, lines := trail(t, 5)
			write(t, path, c.mod(lines))
			r, err := Verify(path)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK() || !strings.Contains(r.Problems[0].String(), c.want) {
				t.Fatalf("problems %v, want %q", r.Problems, c.want)
			}
		})
	}
}

// An entry whose hash was recomputed after an edit still breaks the link
// from the next entry.
func TestRehashedEditBreaksChain(t *testing.T) {
	path, lines := trail(t, 3)
	// Forge entry 2: change a field and recompute its own hash.
	var e Entry
	mustUnmarshal(t, lines[1], &e)
	e.Fields["i"] = "forged"
	e.Hash = e.hash()
	lines[1] = mustMarshal(t, e) + "\n"
	write(t, path, lines)
	r, _ := Verify(path)
	if r.OK() || !strings.Contains(r.Problems[0].String(), "line 3: entry 3 does not follow entry 2") {
		t.Fatalf("%v", r.Problems)
	}
}

func TestConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "audit.jsonl")
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := Open(path) // separate Logs, as separate processes would be
			for i := 0; i < 25; i++ {
				if err := l.Record("x", nil); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	r, err := Verify(path)
	if err != nil || !r.OK() || r.Entries != 100 {
		t.Fatalf("%+v %v", r, err)
	}
}

// rotatingTrail records n entries with a small MaxSize, so that the trail
// spans several files.
func rotatingTrail(t *testing.T, n int, keep int) (string, *Log) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := Open(path)
	l.MaxSize, l.Keep = 1200, keep
	for i := 0; i < n; i++ {
		if err := l.Record("test.event", map[string]string{"i": fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	return path, l
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

// Issue 20: the trail was never rotated. It is rotated by size; the chain
// runs across files (a new file's first entry names the previous file's
// last), and Verify checks it across all of them.
func TestRotationKeepsTheChain(t *testing.T) {
	path, _ := rotatingTrail(t, 60, 0)
	rotated, err := Rotated(path)
	if err != nil || len(rotated) < 3 {
		t.Fatalf("rotated files %v (%v), want several", rotated, err)
	}
	files := append(rotated, path)
	var prev Entry
	seq := uint64(0)
	for i, f := range files {
		fi, _ := os.Stat(f)
		if fi.Size() > 1200 {
			t.Errorf("%s is %d bytes, over MaxSize", f, fi.Size())
		}
		for j, l := range readLines(t, f) {
			var e Entry
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatal(err)
			}
			seq++
			if e.Seq != seq || (seq > 1 && e.Prev != prev.Hash) {
				t.Fatalf("file %d line %d: seq %d prev %s, want seq %d chained to %s", i, j+1, e.Seq, e.Prev, seq, prev.Hash)
			}
			if j == 0 && i < len(rotated) && f != rotatedName(path, e.Seq) {
				t.Errorf("%s does not carry its first entry's number %d", f, e.Seq)
			}
			prev = e
		}
	}
	r, err := Verify(path)
	if err != nil || !r.OK() || r.Entries != 60 || len(r.Files) != len(files) || r.Head != prev.Hash || r.FirstSeq != 1 {
		t.Fatalf("verify: %+v %v", r, err)
	}
}

func TestRotationKeepsN(t *testing.T) {
	path, _ := rotatingTrail(t, 80, 2)
	rotated, _ := Rotated(path)
	if len(rotated) != 2 {
		t.Fatalf("%d rotated files, want 2: %v", len(rotated), rotated)
	}
	r, err := Verify(path)
	if err != nil || !r.OK() || r.FirstSeq <= 1 {
		t.Fatalf("after pruning: %+v %v (want intact, starting after entry 1)", r, err)
	}
	last := readLines(t, path)
	var e Entry
	json.Unmarshal([]byte(last[len(last)-1]), &e)
	if e.Seq != 80 || r.Entries != int(80-r.FirstSeq+1) {
		t.Errorf("last seq %d, %d entries from %d", e.Seq, r.Entries, r.FirstSeq)
	}
}

// An edited or removed entry in a rotated file is named by file and line;
// a removed middle file is a gap where the next file starts.
func TestRotationTamperNamesFileAndLine(t *testing.T) {
	t.Run("edited", func(t *testing.T) {
		path, _ := rotatingTrail(t, 40, 0)
		rotated, _ := Rotated(path)
		lines := readLines(t, rotated[1])
		lines[2] = strings.Replace(lines[2], `"test.event"`, `"test.evenT"`, 1)
		write(t, rotated[1], lines)
		r, _ := Verify(path)
		if r.OK() || r.Problems[0].File != filepath.Base(rotated[1]) || r.Problems[0].Line != 3 || !strings.Contains(r.Problems[0].Reason, "was edited") {
			t.Fatalf("%+v", r.Problems)
		}
		if s := r.Problems[0].String(); !strings.HasPrefix(s, filepath.Base(rotated[1])+" line 3: entry ") {
			t.Errorf("%q", s)
		}
	})
	t.Run("removed entry", func(t *testing.T) {
		path, _ := rotatingTrail(t, 40, 0)
		rotated, _ := Rotated(path)
		lines := readLines(t, rotated[0])
		write(t, rotated[0], append(lines[:1:1], lines[2:]...))
		r, _ := Verify(path)
		if r.OK() || r.Problems[0].File != filepath.Base(rotated[0]) || r.Problems[0].Line != 2 || !strings.Contains(r.Problems[0].Reason, "entries 2 to 2 are missing") {
			t.Fatalf("%+v", r.Problems)
		}
	})
	t.Run("removed file", func(t *testing.T) {
		path, _ := rotatingTrail(t, 40, 0)
		rotated, _ := Rotated(path)
		os.Remove(rotated[1])
		r, _ := Verify(path)
		if r.OK() || r.Problems[0].File != filepath.Base(rotated[2]) || r.Problems[0].Line != 1 || !strings.Contains(r.Problems[0].Reason, "are missing (removed)") {
			t.Fatalf("%+v", r.Problems)
		}
	})
	t.Run("last rotated entry edited", func(t *testing.T) {
		// The link across files is checked: the current file's first
		// entry no longer follows.
		path, _ := rotatingTrail(t, 40, 0)
		rotated, _ := Rotated(path)
		newest := rotated[len(rotated)-1]
		lines := readLines(t, newest)
		var e Entry
		json.Unmarshal([]byte(lines[len(lines)-1]), &e)
		e.Fields["i"] = "forged"
		e.Hash = e.hash() // recomputed: only the next link can tell
		b, _ := json.Marshal(e)
		lines[len(lines)-1] = string(b) + "\n"
		write(t, newest, lines)
		r, _ := Verify(path)
		if r.OK() || r.Problems[0].File != filepath.Base(path) || r.Problems[0].Line != 1 || !strings.Contains(r.Problems[0].Reason, "does not follow") {
			t.Fatalf("%+v", r.Problems)
		}
	})
}

// A crash between the rename and the next append leaves no current file:
// the next entry continues the newest rotated file.
func TestRotationCrashAfterRename(t *testing.T) {
	path, l := rotatingTrail(t, 5, 0)
	lines := readLines(t, path)
	var first Entry
	json.Unmarshal([]byte(lines[0]), &first)
	if err := os.Rename(path, rotatedName(path, first.Seq)); err != nil {
		t.Fatal(err)
	}
	if r, err := Verify(path); err != nil || !r.OK() || r.Entries != 5 {
		t.Fatalf("before the next append: %+v %v", r, err)
	}
	if err := l.Record("after.crash", nil); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(path)
	if err != nil || !r.OK() || r.Entries != 6 {
		t.Fatalf("%+v %v", r, err)
	}
}
