package engine

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// sampleChanges makes n valid changes of every shape the encoding knows:
// guards with and without copied metadata, link targets, differs, hard
// links, names that are not UTF-8.
func sampleChanges(n int) []Change {
	out := make([]Change, 0, n)
	u := func(v uint32) *uint32 { return &v }
	for i := range n {
		p := fmt.Sprintf("d%03d/f%07d.txt", i/100, i)
		switch i % 7 {
		case 0:
			out = append(out, Change{Action: Create, Class: New, Kind: KindFile, Phase: PhaseCopy, Path: p, Size: int64(i),
				Src: &Meta{Kind: KindFile, Mode: 0o644, Size: int64(i), MTime: int64(i) * 1e9}})
		case 1:
			out = append(out, Change{Action: Update, Class: Newer, Kind: KindFile, Phase: PhaseCopy, Path: p + "\xff", Size: 3,
				Src: &Meta{Kind: KindFile, Size: 3, MTime: -5},
				Dst: &Meta{Kind: KindFile, Size: 9, MTime: 7, X: &MetaX{UID: u(0), GID: u(100), Owner: "S-1-5-32-544", ACL: "none"}}})
		case 2:
			out = append(out, Change{Action: Delete, Class: Extra, Kind: KindSymlink, Phase: PhaseDelete, Path: p,
				Dst: &Meta{Kind: KindSymlink, Target: "../x\x01y"}})
		case 3:
			out = append(out, Change{Action: Update, Class: Tweaked, Kind: KindDir, Phase: PhaseCopy, Path: "dir" + p,
				Differs: []string{DiffMode}, Src: &Meta{Kind: KindDir, Mode: 0o755}, Dst: &Meta{Kind: KindDir, Mode: 0o700}})
		case 4:
			out = append(out, Change{Action: Create, Class: New, Kind: KindFile, Phase: PhaseCopy, Path: p + ".link", LinkTo: p,
				Src: &Meta{Kind: KindFile, Size: 10, X: &MetaX{Attrs: u(1), SACL: "none"}}})
		case 5:
			out = append(out, Change{Action: Replace, Class: Mismatch, Kind: KindDir, Phase: PhaseReplace, Path: p,
				Src: &Meta{Kind: KindDir}, Dst: &Meta{Kind: KindFile, Size: 1 << 40}})
		default:
			out = append(out, Change{Action: Create, Class: New, Kind: KindDir, Phase: PhaseCopy, Path: strings.Repeat("long/", 200) + p,
				Src: &Meta{Kind: KindDir, MTime: 1}})
		}
	}
	return out
}

func smallBlocks(t *testing.T, n int) {
	t.Helper()
	old := SpillBlockBytes
	SpillBlockBytes = n
	t.Cleanup(func() { SpillBlockBytes = old })
}

// A list far past its block size spills to a nameless file and reads back
// identical, as often as asked, from several readers at once; a list that
// holds every change in memory again fails here (issue #22: memory flat in
// the number of changes).
func TestChangeListSpillsAndReadsBack(t *testing.T) {
	smallBlocks(t, 4096)
	dir := t.TempDir()
	SetSpillDir(dir)
	t.Cleanup(func() { SetSpillDir("") })
	want := sampleChanges(5000)
	l := NewChangeList()
	for i := range want {
		l.Add(want[i])
	}
	if err := l.Err(); err != nil {
		t.Fatal(err)
	}
	if !l.Spilled() || len(l.blocks) < 100 {
		t.Fatalf("5000 changes with 4 KiB blocks: spilled %v in %d blocks", l.Spilled(), len(l.blocks))
	}
	if len(l.tail) >= SpillBlockBytes {
		t.Fatalf("the tail holds %d bytes, more than a block", len(l.tail))
	}
	if l.Len() != len(want) || l.InPhase(PhaseCopy)+l.InPhase(PhaseDelete)+l.InPhase(PhaseReplace) != len(want) {
		t.Fatalf("counts: %d, phases %v", l.Len(), l.phases)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 && runtime.GOOS != "windows" {
		t.Fatalf("the spill file has a name: %v", ents)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := l.Slice(); !reflect.DeepEqual(got, want) {
				t.Errorf("read back differs (%d changes, want %d)", len(got), len(want))
			}
		}()
	}
	wg.Wait()
	// A filtered read decodes only what it asks for, and keeps indexes.
	n := 0
	err := l.RangeWhere(func(h Head) bool { return h.Phase == PhaseDelete }, func(i int, c *Change) error {
		if !reflect.DeepEqual(*c, want[i]) || c.Phase != PhaseDelete {
			return fmt.Errorf("change %d: %+v", i, c)
		}
		n++
		return nil
	})
	if err != nil || n != l.InPhase(PhaseDelete) || n == 0 {
		t.Fatalf("deletions read: %d of %d, %v", n, l.InPhase(PhaseDelete), err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Len() != 0 || len(l.Slice()) != 0 {
		t.Fatal("a closed list is not empty")
	}
}

// What comes back from the spill file is hostile: a byte changed behind
// robo's back stops every reader with an error, never a change that was
// not planned.
func TestChangeListRefusesATamperedSpill(t *testing.T) {
	smallBlocks(t, 1024)
	l := ChangeListOf(sampleChanges(300))
	defer l.Close()
	b := l.blocks[1]
	one := []byte{0}
	if _, err := l.file.ReadAt(one, b.off+5); err != nil {
		t.Fatal(err)
	}
	one[0] ^= 0x20
	if _, err := l.file.WriteAt(one, b.off+5); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := l.Range(func(int, *Change) error { n++; return nil })
	if err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("tampered spill read without error (%d changes): %v", n, err)
	}
	if int32(n) > l.blocks[0].count {
		t.Fatalf("%d changes read past the tampered block", n)
	}
}

// A record that decodes but is not a valid change (here: a path with
// "..", and a block whose checksum was forged to match) is refused.
func TestChangeListValidatesWhatItReadsBack(t *testing.T) {
	smallBlocks(t, 64)
	bad := Change{Action: Create, Class: New, Kind: KindFile, Phase: PhaseCopy, Path: "a/../../etc/passwd", Src: &Meta{Kind: KindFile}}
	l := ChangeListOf([]Change{bad, bad, bad})
	defer l.Close()
	if !l.Spilled() {
		t.Fatal("not spilled")
	}
	err := l.Range(func(int, *Change) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "..") {
		t.Fatalf("a change with .. read back: %v", err)
	}
}

// The decoder refuses every truncation of a record, and never panics.
func TestChangeRecordDecodeIsStrict(t *testing.T) {
	for _, c := range sampleChanges(7) {
		rec := appendChange(nil, &c)
		body, rest, err := record(rec)
		if err != nil || len(rest) != 0 {
			t.Fatalf("record: %v", err)
		}
		got, err := decodeChange(body)
		if err != nil || !reflect.DeepEqual(*got, c) {
			t.Fatalf("round trip of %q: %v", c.Path, err)
		}
		for i := 5; i < len(body); i++ {
			if _, err := decodeChange(body[:i]); err == nil {
				t.Fatalf("%q cut at %d of %d bytes decoded", c.Path, i, len(body))
			}
		}
		if _, err := decodeChange(append(append([]byte(nil), body...), 0)); err == nil {
			t.Fatalf("%q with a trailing byte decoded", c.Path)
		}
	}
}

func TestChangeListNilAndEmpty(t *testing.T) {
	var l *ChangeList
	if l.Len() != 0 || l.Err() != nil || len(l.Slice()) != 0 || l.Close() != nil || l.Iter().Next() {
		t.Fatal("a nil list is not empty")
	}
	if NewChangeList().Iter().Next() {
		t.Fatal("an empty list has a change")
	}
}

// The duplicate-path check holds a run of hashes in memory, not one per
// change: with runs of 700 (5,600 bytes, read back in several reads), a
// plan of 5,000 changes spills 8 sorted runs, and a duplicate whose two
// changes are in different runs is still found, named at its second change.
func TestValidateChangeListFindsDuplicatesAcrossRuns(t *testing.T) {
	old := dupRun
	dupRun = 700
	t.Cleanup(func() { dupRun = old })
	smallBlocks(t, 4096)
	spec := &Spec{Mirror: true, HardLinks: true}
	cs := sampleChanges(5000)
	for i := range cs {
		cs[i].LinkTo = "" // links to files the list has no change for are checked elsewhere
		if cs[i].Class == Tweaked {
			cs[i].Path = fmt.Sprintf("t%05d", i)
		}
	}
	d := newDupHashes()
	for i := range cs {
		d.add(cs[i].Path)
	}
	if dup, err := d.any(); err != nil || dup || len(d.runs) != 8 {
		t.Fatalf("no duplicates: %v %v, %d runs", dup, err, len(d.runs))
	}
	l := ChangeListOf(cs)
	if err := ValidateChangeList(spec, l, true); err != nil {
		t.Fatalf("a valid list: %v", err)
	}
	l.Close()
	cs[4321].Path = cs[17].Path
	l = ChangeListOf(cs)
	defer l.Close()
	err := ValidateChangeList(spec, l, true)
	if want := fmt.Sprintf("change 4322: %q appears twice", cs[17].Path); err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// The hard links of a phase are counted, and found again by their head
// alone (Head.Link), spilled or not: native apply reads them again after
// the copies of their phase instead of holding them.
func TestChangeListFindsLinksByHead(t *testing.T) {
	smallBlocks(t, 256)
	cs := sampleChanges(700)
	l := ChangeListOf(cs)
	defer l.Close()
	want := 0
	for _, c := range cs {
		if c.LinkTo != "" {
			want++
		}
	}
	if !l.Spilled() || l.LinksInPhase(PhaseCopy) != want || want != 100 || l.LinksInPhase(PhaseDelete) != 0 {
		t.Fatalf("spilled %v, %d links in the copy phase, want %d", l.Spilled(), l.LinksInPhase(PhaseCopy), want)
	}
	got := 0
	if err := l.RangeWhere(func(h Head) bool { return h.Link }, func(i int, c *Change) error {
		if c.LinkTo == "" || cs[i].LinkTo != c.LinkTo {
			t.Fatalf("change %d (%q) read as a link", i, c.Path)
		}
		got++
		return nil
	}); err != nil || got != want {
		t.Fatalf("%d links read back, want %d: %v", got, want, err)
	}
}
