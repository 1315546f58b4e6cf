package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// SortedStrings is a set of strings, each with a count, kept in bounded
// memory whatever their number (docs/performance.md, "Memory"): the strings
// added since the last spill are a map of at most SortedRunBytes; a full
// map is sorted and written as a run of CRC-32C-checked blocks to a
// nameless spill file (the kind ChangeList uses, under SetSpillDir's
// directory), and only each block's offset, checksum and first string stay
// in memory. Each reads the runs back merged, in the set's order, every
// string once with the sum of its counts. More than sortedMaxRuns runs are
// merged into one, so a reader holds at most that many blocks.
//
// What is read back from the file is hostile: a block whose checksum does
// not match, a record that does not decode exactly, strings out of order
// within a run, or a string the set's check refuses stop the reader with
// an error; nothing from the file panics.
//
// No method may run at the same time as another.
type SortedStrings struct {
	cmp   func(a, b string) int
	check func(string) error

	cur      map[string]int64
	curBytes int
	last     string // the last string added: repeats skip the map
	lastN    int64  // counts added to last not yet in cur
	haveLast bool

	runs []ssRun
	blockFile
	err    error
	frozen bool
	// Lookup's cache: the last block read.
	cacheRun, cacheBlock int
	cacheKeys            []string
	cacheVals            []int64
}

type ssRun struct{ blocks []ssBlock }

type ssBlock struct {
	spillBlock
	first string
}

// SortedRunBytes is the memory a SortedStrings gives to strings before it
// spills them as a run (each string is counted with ssEntryCost bytes of
// overhead); SortedBlockBytes is the size of a run's blocks. Tests lower
// them.
var (
	SortedRunBytes   = 1 << 20
	SortedBlockBytes = 32 << 10
)

// sortedMaxRuns is how many runs a set keeps before merging them into one.
const sortedMaxRuns = 16

// ssEntryCost is what one string costs in the map beside its bytes.
const ssEntryCost = 64

// NewSortedStrings returns an empty set ordered by cmp (negative: a before
// b; 0 only for equal strings). check, when not nil, validates every
// string read back from the spill file.
func NewSortedStrings(cmp func(a, b string) int, check func(string) error) *SortedStrings {
	return &SortedStrings{cmp: cmp, check: check, cur: map[string]int64{}, cacheRun: -1}
}

// Add adds n to s's count (a new string starts at 0). A failure to write
// the spill file is kept (Err) and makes every later read fail.
func (ss *SortedStrings) Add(s string, n int64) {
	if ss.frozen {
		ss.fail(errors.New("sorted strings: add after freeze"))
		return
	}
	if ss.haveLast && s == ss.last {
		ss.lastN += n
		return
	}
	ss.putLast()
	ss.last, ss.lastN, ss.haveLast = s, n, true
}

func (ss *SortedStrings) putLast() {
	if !ss.haveLast {
		return
	}
	ss.haveLast = false
	if v, ok := ss.cur[ss.last]; ok {
		ss.cur[ss.last] = v + ss.lastN
		return
	}
	ss.cur[ss.last] = ss.lastN
	ss.curBytes += len(ss.last) + ssEntryCost
	if ss.curBytes >= SortedRunBytes && ss.err == nil {
		ss.spill()
	}
}

func (ss *SortedStrings) fail(err error) {
	if ss.err == nil {
		ss.err = err
	}
}

// Err returns the first error of writing the set.
func (ss *SortedStrings) Err() error {
	if ss == nil {
		return nil
	}
	return ss.err
}

// Spilled reports whether part of the set is in its spill file.
func (ss *SortedStrings) Spilled() bool { return ss != nil && len(ss.runs) > 0 }

// sortedCur returns the strings in memory, sorted.
func (ss *SortedStrings) sortedCur() []string {
	keys := make([]string, 0, len(ss.cur))
	for k := range ss.cur {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, ss.cmp)
	return keys
}

// spill writes the map as a run and empties it.
func (ss *SortedStrings) spill() {
	keys := ss.sortedCur()
	w := ss.newRunWriter()
	for _, k := range keys {
		w.add(k, ss.cur[k])
	}
	clear(ss.cur)
	ss.curBytes = 0
	if r, ok := w.finish(); ok {
		ss.runs = append(ss.runs, r)
	}
	if len(ss.runs) > sortedMaxRuns && ss.err == nil {
		ss.compact(false)
	}
}

// compact merges every run (and, with cur, the map) into one run.
func (ss *SortedStrings) compact(cur bool) {
	w := ss.newRunWriter()
	err := ss.merge(cur, func(s string, n int64) error {
		w.add(s, n)
		return ss.err
	})
	if err != nil {
		ss.fail(err)
		return
	}
	r, ok := w.finish()
	if !ok {
		return
	}
	ss.runs = []ssRun{r}
	if cur {
		clear(ss.cur)
		ss.curBytes = 0
	}
}

type runWriter struct {
	ss    *SortedStrings
	run   ssRun
	buf   []byte
	count int32
	first string
}

func (ss *SortedStrings) newRunWriter() *runWriter { return &runWriter{ss: ss} }

func (w *runWriter) add(s string, n int64) {
	if w.count == 0 {
		w.first = s
	}
	w.buf = binary.AppendUvarint(w.buf, uint64(len(s)))
	w.buf = append(w.buf, s...)
	w.buf = binary.AppendVarint(w.buf, n)
	w.count++
	if len(w.buf) >= SortedBlockBytes || w.count == math.MaxInt32 {
		w.flush()
	}
}

func (w *runWriter) flush() {
	ss := w.ss
	if w.count == 0 || ss.err != nil {
		return
	}
	b, err := ss.writeBlock("sorted strings", w.buf, w.count)
	if err != nil {
		ss.fail(err)
		return
	}
	w.run.blocks = append(w.run.blocks, ssBlock{spillBlock: b, first: w.first})
	w.buf, w.count = w.buf[:0], 0
}

func (w *runWriter) finish() (ssRun, bool) {
	w.flush()
	return w.run, w.ss.err == nil
}

// runReader reads one run back, one block at a time.
type runReader struct {
	ss    *SortedStrings
	run   *ssRun
	block int
	buf   []byte
	left  int32
	rbuf  []byte
	key   string
	val   int64
	ok    bool
	err   error
}

// next moves to the run's next string; false at its end or on an error.
func (r *runReader) next() bool {
	prev, had := r.key, r.ok
	r.ok = false
	for r.left == 0 {
		if len(r.buf) != 0 {
			r.err = fmt.Errorf("sorted strings: %d bytes after the last string of a block", len(r.buf))
			return false
		}
		if r.block >= len(r.run.blocks) {
			return false
		}
		buf, err := r.ss.readBlock("sorted strings", &r.run.blocks[r.block].spillBlock, r.rbuf)
		if err != nil {
			r.err = err
			return false
		}
		r.rbuf = buf
		r.buf, r.left = buf, r.run.blocks[r.block].count
		r.block++
	}
	k, v, rest, err := decodeSorted(r.buf)
	if err == nil && r.ss.check != nil {
		err = r.ss.check(k)
	}
	if err == nil && had && r.ss.cmp(prev, k) >= 0 {
		err = errors.New("strings out of order in a run")
	}
	if err != nil {
		r.err = fmt.Errorf("sorted strings: %w", err)
		return false
	}
	r.buf, r.left = rest, r.left-1
	r.key, r.val, r.ok = k, v, true
	return true
}

func decodeSorted(b []byte) (string, int64, []byte, error) {
	d := &decoder{b: b}
	s := d.string()
	v := d.varint()
	if d.err != nil {
		return "", 0, nil, d.err
	}
	return s, v, d.b, nil
}

// merge calls fn with every string in order, once, with the sum of its
// counts: the runs, and with cur the map too.
func (ss *SortedStrings) merge(cur bool, fn func(s string, n int64) error) error {
	if ss.err != nil {
		return ss.err
	}
	readers := make([]*runReader, 0, len(ss.runs))
	for i := range ss.runs {
		r := &runReader{ss: ss, run: &ss.runs[i]}
		if r.next() {
			readers = append(readers, r)
		} else if r.err != nil {
			return r.err
		}
	}
	var mem []string
	if cur {
		mem = ss.sortedCur()
	}
	for {
		// The smallest string of the sources (at most sortedMaxRuns+1 of
		// them: a linear look is enough).
		var min string
		have := false
		if len(mem) > 0 {
			min, have = mem[0], true
		}
		for _, r := range readers {
			if !have || ss.cmp(r.key, min) < 0 {
				min, have = r.key, true
			}
		}
		if !have {
			return nil
		}
		var n int64
		if len(mem) > 0 && mem[0] == min {
			n += ss.cur[min]
			mem = mem[1:]
		}
		live := readers[:0]
		for _, r := range readers {
			if r.key == min {
				n += r.val
				if !r.next() {
					if r.err != nil {
						return r.err
					}
					continue
				}
			}
			live = append(live, r)
		}
		readers = live
		if err := fn(min, n); err != nil {
			return err
		}
	}
}

// Each calls fn with every string of the set in order, once, with the sum
// of its counts, until fn returns an error (which Each returns) or the
// spill file cannot be read.
func (ss *SortedStrings) Each(fn func(s string, n int64) error) error {
	if ss == nil {
		return nil
	}
	ss.putLast()
	return ss.merge(true, fn)
}

// Freeze ends the adds and makes the set ready for Lookup: a spilled set
// is merged into one run.
func (ss *SortedStrings) Freeze() {
	if ss == nil || ss.frozen {
		return
	}
	ss.putLast()
	if len(ss.runs) > 0 && ss.err == nil {
		ss.compact(true)
	}
	ss.frozen = true
}

// Lookup returns s's count (false when s is not in the set) after Freeze.
func (ss *SortedStrings) Lookup(s string) (int64, bool, error) {
	if ss == nil {
		return 0, false, nil
	}
	if !ss.frozen {
		return 0, false, errors.New("sorted strings: lookup before freeze")
	}
	if ss.err != nil {
		return 0, false, ss.err
	}
	if len(ss.runs) == 0 {
		n, ok := ss.cur[s]
		return n, ok, nil
	}
	blocks := ss.runs[0].blocks
	// The last block whose first string is not after s.
	i, _ := slices.BinarySearchFunc(blocks, s, func(b ssBlock, s string) int {
		if ss.cmp(b.first, s) <= 0 {
			return -1
		}
		return 1
	})
	i--
	if i < 0 {
		return 0, false, nil
	}
	if ss.cacheBlock != i || ss.cacheRun != 0 {
		if err := ss.loadCache(i); err != nil {
			return 0, false, err
		}
	}
	j, ok := slices.BinarySearchFunc(ss.cacheKeys, s, ss.cmp)
	if !ok {
		return 0, false, nil
	}
	return ss.cacheVals[j], true, nil
}

// loadCache decodes block i of the one run into Lookup's cache.
func (ss *SortedStrings) loadCache(i int) error {
	ss.cacheRun, ss.cacheBlock = -1, -1
	ss.cacheKeys, ss.cacheVals = ss.cacheKeys[:0], ss.cacheVals[:0]
	b := &ss.runs[0].blocks[i]
	r := &runReader{ss: ss, run: &ssRun{blocks: []ssBlock{*b}}}
	for r.next() {
		ss.cacheKeys = append(ss.cacheKeys, r.key)
		ss.cacheVals = append(ss.cacheVals, r.val)
	}
	if r.err != nil {
		return r.err
	}
	if len(ss.cacheKeys) == 0 || ss.cacheKeys[0] != b.first {
		return errors.New("sorted strings: a block does not start with its first string")
	}
	ss.cacheRun, ss.cacheBlock = 0, i
	return nil
}

// Close releases the spill file and empties the set.
func (ss *SortedStrings) Close() error {
	if ss == nil {
		return nil
	}
	err := ss.close()
	*ss = SortedStrings{cmp: ss.cmp, check: ss.check, cur: map[string]int64{}, cacheRun: -1}
	return err
}

// DirSet is a set of directory paths (slash-separated, relative; "" is the
// root) in bounded memory (SortedStrings), read back deepest first and, at
// one depth, in reverse byte order: the order in which directories' times
// and metadata are restored after everything under them was written.
type DirSet struct{ ss *SortedStrings }

// NewDirSet returns an empty set.
func NewDirSet() *DirSet {
	return &DirSet{ss: NewSortedStrings(DeepestFirst, checkDir)}
}

func checkDir(d string) error {
	if d == "" {
		return nil
	}
	return CheckPath(d)
}

// DeepestFirst orders directory paths deepest first, then in reverse byte
// order.
func DeepestFirst(a, b string) int {
	if da, db := strings.Count(a, "/"), strings.Count(b, "/"); da != db {
		if da > db {
			return -1
		}
		return 1
	}
	return -strings.Compare(a, b)
}

// Add adds dir to the set.
func (s *DirSet) Add(dir string) { s.ss.Add(dir, 0) }

// Each calls fn with every directory once, deepest first, until fn
// returns an error (which Each returns) or the spill file cannot be read.
func (s *DirSet) Each(fn func(dir string) error) error {
	if s == nil {
		return nil
	}
	return s.ss.Each(func(d string, _ int64) error { return fn(d) })
}

// Spilled reports whether part of the set is in its spill file.
func (s *DirSet) Spilled() bool { return s != nil && s.ss.Spilled() }

// Close releases the spill file.
func (s *DirSet) Close() error {
	if s == nil {
		return nil
	}
	return s.ss.Close()
}
