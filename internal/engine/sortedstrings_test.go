package engine

import (
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func smallRuns(t *testing.T, run, block int) {
	t.Helper()
	oldR, oldB := SortedRunBytes, SortedBlockBytes
	SortedRunBytes, SortedBlockBytes = run, block
	t.Cleanup(func() { SortedRunBytes, SortedBlockBytes = oldR, oldB })
}

// sampleDirs is a tree of directories, each added many times in a
// shuffled order (as the parents of their files are).
func sampleDirs(n int, seed uint64) (adds []string, want []string) {
	seen := map[string]bool{"": true}
	want = append(want, "")
	for i := range n {
		d := fmt.Sprintf("d%02d/e%03d", i%37, i)
		if i%3 == 0 {
			d += fmt.Sprintf("/f%d/g", i)
		}
		for p := d; p != ""; {
			if !seen[p] {
				seen[p] = true
				want = append(want, p)
			}
			if j := strings.LastIndexByte(p, '/'); j >= 0 {
				p = p[:j]
			} else {
				p = ""
			}
		}
		for range 1 + i%4 {
			adds = append(adds, d)
		}
		adds = append(adds, "")
	}
	for _, p := range want {
		adds = append(adds, p)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	r.Shuffle(len(adds), func(i, j int) { adds[i], adds[j] = adds[j], adds[i] })
	slices.SortFunc(want, func(a, b string) int {
		// Deepest first, then reverse order: what restoreDirTimes did with
		// sort.Slice.
		ca, cb := strings.Count(a, "/"), strings.Count(b, "/")
		if ca != cb {
			return cb - ca
		}
		return strings.Compare(b, a)
	})
	return adds, want
}

// A set far past its run size spills (and merges its runs when it has too
// many), keeps no more than a run in memory, and reads back every
// directory once, deepest first; a set that holds every directory in a map
// again fails here (issue #22).
func TestDirSetSpillsAndReadsBackDeepestFirst(t *testing.T) {
	smallRuns(t, 2048, 256)
	SetSpillDir(t.TempDir())
	defer SetSpillDir("")
	adds, want := sampleDirs(3000, 1)
	s := NewDirSet()
	defer s.Close()
	for _, d := range adds {
		s.Add(d)
		if s.ss.curBytes > SortedRunBytes+ssEntryCost+64 {
			t.Fatalf("%d bytes of directories in memory", s.ss.curBytes)
		}
	}
	if !s.Spilled() || len(s.ss.runs) > sortedMaxRuns {
		t.Fatalf("spilled %v, %d runs", s.Spilled(), len(s.ss.runs))
	}
	for round := range 2 {
		var got []string
		if err := s.Each(func(d string) error { got = append(got, d); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			n := 0
			for n < len(got) && n < len(want) && got[n] == want[n] {
				n++
			}
			t.Fatalf("round %d: %d directories, want %d; first difference at %d", round, len(got), len(want), n)
		}
	}
	// Unix: unlinked once opened. Windows: FILE_FLAG_DELETE_ON_CLOSE,
	// so the name goes at Close.
	if names, _ := os.ReadDir(spillDir); len(names) != 0 && runtime.GOOS != "windows" {
		t.Fatalf("the spill file has a name: %v", names)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if names, _ := os.ReadDir(spillDir); len(names) != 0 {
		t.Fatalf("the spill file has a name after Close: %v", names)
	}
}

// Counts of the same string in several runs add up, and Lookup finds each
// after Freeze, in any order.
func TestSortedStringsCountsAndLookup(t *testing.T) {
	smallRuns(t, 1024, 128)
	ss := NewSortedStrings(strings.Compare, nil)
	defer ss.Close()
	want := map[string]int64{}
	r := rand.New(rand.NewPCG(2, 2))
	for range 20000 {
		k := fmt.Sprintf("dir/%d", r.IntN(2500))
		ss.Add(k, 1)
		want[k]++
	}
	ss.Freeze()
	if !ss.Spilled() || len(ss.runs) != 1 {
		t.Fatalf("spilled %v, %d runs", ss.Spilled(), len(ss.runs))
	}
	for range 3 {
		for k, n := range want {
			got, ok, err := ss.Lookup(k)
			if err != nil || !ok || got != n {
				t.Fatalf("%s: %d %v %v, want %d", k, got, ok, err, n)
			}
		}
	}
	for _, k := range []string{"", "a", "dir/", "dir/x", "zzz"} {
		if _, ok, err := ss.Lookup(k); ok || err != nil {
			t.Fatalf("%q found (%v)", k, err)
		}
	}
}

// A spill file changed behind robo's back gives an error, not a wrong set,
// a panic or a path outside the tree; so does a block whose checksum was
// forged to match a path with "..".
func TestDirSetRefusesATamperedSpill(t *testing.T) {
	smallRuns(t, 512, 128)
	adds, _ := sampleDirs(400, 3)
	s := NewDirSet()
	defer s.Close()
	for _, d := range adds {
		s.Add(d)
	}
	if len(s.ss.runs) < 2 {
		t.Fatal("not spilled")
	}
	b := s.ss.runs[1].blocks[0]
	one := []byte{0}
	s.ss.file.ReadAt(one, b.off+2)
	one[0] ^= 0x20
	s.ss.file.WriteAt(one, b.off+2)
	err := s.Each(func(string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("tampered spill read: %v", err)
	}

	for _, bad := range [][]string{{"a/../../etc"}, {"/etc"}, {"a", "b"}, {"a", "a"}, {"a", "b/c"}} {
		s2 := NewDirSet()
		// Write the run by hand, as an attacker would, with a good checksum.
		w := s2.ss.newRunWriter()
		for _, d := range bad {
			w.add(d, 0)
		}
		r, _ := w.finish()
		s2.ss.runs = append(s2.ss.runs, r)
		var got []string
		err := s2.Each(func(d string) error { got = append(got, d); return nil })
		if err == nil {
			t.Fatalf("%q read back as %q", bad, got)
		}
		for _, d := range got {
			if CheckPath(d) != nil && d != "" {
				t.Fatalf("%q handed out", d)
			}
		}
		s2.Close()
	}

	// Every truncation and every byte flip of a block (with its checksum
	// recomputed) is refused or read as valid paths, never a panic.
	s3 := NewDirSet()
	w := s3.ss.newRunWriter()
	for _, d := range []string{"x/y/z", "x/y", "a"} {
		w.add(d, 0)
	}
	r, _ := w.finish()
	blk := r.blocks[0]
	orig := make([]byte, blk.n)
	s3.ss.file.ReadAt(orig, blk.off)
	for i := range len(orig) * 2 {
		b := slices.Clone(orig)
		if i < len(orig) {
			b = b[:i]
		} else {
			b[i-len(orig)] ^= 0xa5
		}
		s3.ss.file.WriteAt(b, blk.off)
		rb := blk
		rb.n = int32(len(b))
		rb.crc = crc32Sum(b)
		s3.ss.runs = []ssRun{{blocks: []ssBlock{rb}}}
		_ = s3.Each(func(d string) error {
			if CheckPath(d) != nil && d != "" {
				t.Fatalf("%q handed out", d)
			}
			return nil
		})
		s3.ss.file.WriteAt(orig, blk.off)
	}
	s3.Close()
}

func crc32Sum(b []byte) uint32 { return crc32.Checksum(b, crcTable) }
