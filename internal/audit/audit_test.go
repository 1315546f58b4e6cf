package audit

import (
	"os"
	"path/filepath"
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
	if fi.Mode().Perm() != 0o600 {
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
