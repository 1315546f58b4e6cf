package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
)

// ChangeList is a set's planned changes, in order, kept in bounded memory
// whatever their number (docs/performance.md, "Memory"): each change is
// encoded compactly (about 60 bytes plus its path) into a block of at most
// SpillBlockBytes; a full block is written to a temporary spill file and
// only its offset, length and checksum stay in memory. The list is read
// back sequentially, as many times as needed (Iter, Range), by any number
// of readers at once; each reader holds one block.
//
// The spill file is made under the directory SetSpillDir names (the state
// directory), or os.TempDir, readable only by its owner, and it has no
// name from the moment it is made: it is unlinked as soon as it is opened
// on Unix, and opened with FILE_FLAG_DELETE_ON_CLOSE on Windows, so that it
// goes when robo exits, however it exits (killed included), or when Close
// is called. What is read back from it is treated as hostile: each block's
// checksum is checked, each record is decoded strictly, and each change
// must pass Change.Validate (without exact changes); a list that fails
// stops its readers with an error.
//
// The zero value and nil are empty lists. Add must not run at the same
// time as any other method; everything else may run concurrently.
type ChangeList struct {
	n      int
	tail   []byte // encoded changes not yet written to the file
	tailN  int    // the changes in tail
	blocks []spillBlock
	blockFile
	err     error // the first write error: the list is incomplete
	deletes int   // deletions other than StaleTemp ones
	phases  [4]int
	links   [4]int // hard links (LinkTo) by phase
}

// SpillBlockBytes is the size of a list's blocks: a list whose encoded
// changes pass it spills to a file. Tests lower it to make small lists
// spill; it is read when a block fills.
var SpillBlockBytes = 1 << 20

var (
	spillMu  sync.Mutex
	spillDir string
)

// SetSpillDir sets where change lists spill (the state file's directory;
// "" is os.TempDir). A directory that refuses the file falls back to
// os.TempDir.
func SetSpillDir(dir string) {
	spillMu.Lock()
	spillDir = dir
	spillMu.Unlock()
}

// NewChangeList returns an empty list.
func NewChangeList() *ChangeList { return &ChangeList{} }

// ChangeListOf returns a list of cs (for small lists: tests, a robocopy
// log, a restore).
func ChangeListOf(cs []Change) *ChangeList {
	l := &ChangeList{}
	for i := range cs {
		l.Add(cs[i])
	}
	return l
}

// Len returns the number of changes.
func (l *ChangeList) Len() int {
	if l == nil {
		return 0
	}
	return l.n
}

// InPhase returns the number of changes of phase p.
func (l *ChangeList) InPhase(p Phase) int {
	if l == nil || !p.Valid() {
		return 0
	}
	return l.phases[p]
}

// LinksInPhase returns the number of hard links (changes with LinkTo) of
// phase p.
func (l *ChangeList) LinksInPhase(p Phase) int {
	if l == nil || !p.Valid() {
		return 0
	}
	return l.links[p]
}

// Deletes returns the number of deletions other than those of stale
// temporary files.
func (l *ChangeList) Deletes() int {
	if l == nil {
		return 0
	}
	return l.deletes
}

// Err returns the first error of writing the list: the list is not
// complete, and its readers fail with it.
func (l *ChangeList) Err() error {
	if l == nil {
		return nil
	}
	return l.err
}

// Spilled reports whether part of the list is in its spill file.
func (l *ChangeList) Spilled() bool { return l != nil && l.file != nil }

// Add appends c. A failure to write the spill file is kept (Err) and
// makes every later read fail.
func (l *ChangeList) Add(c Change) {
	l.n++
	if c.Phase.Valid() {
		l.phases[c.Phase]++
		if c.LinkTo != "" {
			l.links[c.Phase]++
		}
	}
	if c.Action == Delete && c.Class != StaleTemp {
		l.deletes++
	}
	l.tail = appendChange(l.tail, &c)
	l.tailN++
	if len(l.tail) >= SpillBlockBytes && l.err == nil {
		l.spill()
	}
}

func (l *ChangeList) spill() {
	b, err := l.writeBlock("change list", l.tail, int32(l.tailN))
	if err != nil {
		l.err = err
		return
	}
	l.blocks = append(l.blocks, b)
	l.tail, l.tailN = l.tail[:0], 0
}

// spillFile makes a nameless temporary file (spill_*.go).
func spillFile() (*os.File, error) {
	spillMu.Lock()
	dir := spillDir
	spillMu.Unlock()
	if dir != "" {
		if f, err := openSpill(dir); err == nil {
			return f, nil
		}
	}
	return openSpill(os.TempDir())
}

// Close releases the spill file and empties the list.
func (l *ChangeList) Close() error {
	if l == nil {
		return nil
	}
	err := l.close()
	*l = ChangeList{}
	return err
}

// Slice returns every change in memory: for tests and lists known to be
// small. It panics on a read error.
func (l *ChangeList) Slice() []Change {
	var out []Change
	if err := l.Range(func(_ int, c *Change) error {
		out = append(out, *c)
		return nil
	}); err != nil {
		panic(err)
	}
	return out
}

// Range calls fn with each change in order (i counts from 0) until fn
// returns an error, which Range returns, or the list cannot be read.
// c is fn's to keep.
func (l *ChangeList) Range(fn func(i int, c *Change) error) error {
	return l.RangeWhere(nil, fn)
}

// RangeWhere is Range over the changes for which match is true (nil: all);
// the others are not decoded.
func (l *ChangeList) RangeWhere(match func(Head) bool, fn func(i int, c *Change) error) error {
	it := l.IterWhere(match)
	for it.Next() {
		if err := fn(it.Index(), it.Change()); err != nil {
			return err
		}
	}
	return it.Err()
}

// Head is what a reader can filter on without decoding a change.
type Head struct {
	Action Action
	Class  Class
	Kind   Kind
	Phase  Phase
	// Link says the change makes a hard link (LinkTo is set).
	Link bool
}

// Iter returns a reader of the list from its first change.
func (l *ChangeList) Iter() *ChangeIter { return l.IterWhere(nil) }

// IterWhere returns a reader of the changes for which match is true.
func (l *ChangeList) IterWhere(match func(Head) bool) *ChangeIter {
	it := &ChangeIter{l: l, match: match, i: -1}
	if l != nil {
		it.err = l.err
	}
	return it
}

// ChangeIter reads a list in order: for it.Next() { it.Change() }, then
// it.Err().
type ChangeIter struct {
	l     *ChangeList
	match func(Head) bool
	block int    // the next block of the file to read
	buf   []byte // what is left of the current block
	left  int    // changes left in buf
	tail  bool   // buf is the list's tail
	done  bool
	i     int // index of the current change
	c     *Change
	err   error
	rbuf  []byte
}

// Next moves to the next change; false at the end or on an error.
func (it *ChangeIter) Next() bool {
	for {
		if it.err != nil || it.done || it.l == nil {
			return false
		}
		if it.left == 0 {
			if !it.load() {
				return false
			}
			continue
		}
		body, rest, err := record(it.buf)
		if err != nil {
			return it.fail(err)
		}
		it.buf, it.left = rest, it.left-1
		it.i++
		if it.match != nil && !it.match(Head{Action(body[0]), Class(body[1]), Kind(body[2]), Phase(body[3]), body[4]&fLinkTo != 0}) {
			continue
		}
		c, err := decodeChange(body)
		if err == nil && !it.tail {
			// From the file: hostile until proven otherwise.
			err = c.Validate(false)
		}
		if err != nil {
			return it.fail(err)
		}
		it.c = c
		return true
	}
}

func (it *ChangeIter) fail(err error) bool {
	it.err = fmt.Errorf("change list: change %d: %w", it.i+1, err)
	return false
}

// load reads the next block of the file, or moves to the tail.
func (it *ChangeIter) load() bool {
	l := it.l
	if len(it.buf) != 0 {
		it.err = fmt.Errorf("change list: %d bytes after the last change of a block", len(it.buf))
		return false
	}
	if it.block < len(l.blocks) {
		b := &l.blocks[it.block]
		it.block++
		buf, err := l.readBlock("change list", b, it.rbuf)
		if err != nil {
			it.err = err
			return false
		}
		it.rbuf = buf
		it.buf, it.left = buf, int(b.count)
		return true
	}
	if it.tail {
		it.done = true
		return false
	}
	it.tail, it.buf, it.left = true, l.tail, l.tailN
	it.rbuf = nil
	if it.left == 0 {
		it.done = true
		return false
	}
	return true
}

// Change returns the current change, the caller's to keep.
func (it *ChangeIter) Change() *Change { return it.c }

// Index returns the current change's position in the list, from 0.
func (it *ChangeIter) Index() int { return it.i }

// Err returns why the reader stopped early, nil at the end of the list.
func (it *ChangeIter) Err() error { return it.err }

// ---- the record encoding ----
//
// A record is its body's length (uvarint) and the body: action, class,
// kind and phase (one byte each, so readers filter without decoding),
// a flags byte (src, dst, differs, link_to), the path, the size, then the
// parts the flags announce. A string is a uvarint length and its bytes;
// numbers are varints. A Meta is its kind, a flags byte (target, X), mode,
// size, mtime, then the target and the X fields.

const (
	fSrc = 1 << iota
	fDst
	fDiffers
	fLinkTo
)

const (
	mTarget = 1 << iota
	mX
)

const (
	xUID = 1 << iota
	xGID
	xAttrs
)

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendChange(b []byte, c *Change) []byte {
	var room [binary.MaxVarintLen64]byte
	start := len(b)
	b = append(b, room[:]...) // for the length
	bodyStart := len(b)
	flags := byte(0)
	if c.Src != nil {
		flags |= fSrc
	}
	if c.Dst != nil {
		flags |= fDst
	}
	if len(c.Differs) > 0 {
		flags |= fDiffers
	}
	if c.LinkTo != "" {
		flags |= fLinkTo
	}
	b = append(b, byte(c.Action), byte(c.Class), byte(c.Kind), byte(c.Phase), flags)
	b = appendString(b, c.Path)
	b = binary.AppendVarint(b, c.Size)
	if c.Src != nil {
		b = appendMeta(b, c.Src)
	}
	if c.Dst != nil {
		b = appendMeta(b, c.Dst)
	}
	if len(c.Differs) > 0 {
		b = binary.AppendUvarint(b, uint64(len(c.Differs)))
		for _, d := range c.Differs {
			b = appendString(b, d)
		}
	}
	if c.LinkTo != "" {
		b = appendString(b, c.LinkTo)
	}
	// Put the length in front of the body, and close the gap.
	n := len(b) - bodyStart
	var hdr [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(hdr[:], uint64(n))
	copy(b[start:], hdr[:k])
	copy(b[start+k:], b[bodyStart:])
	return b[:start+k+n]
}

func appendMeta(b []byte, m *Meta) []byte {
	flags := byte(0)
	if m.Target != "" {
		flags |= mTarget
	}
	if m.X != nil {
		flags |= mX
	}
	b = append(b, byte(m.Kind), flags)
	b = binary.AppendUvarint(b, uint64(m.Mode))
	b = binary.AppendVarint(b, m.Size)
	b = binary.AppendVarint(b, m.MTime)
	if m.Target != "" {
		b = appendString(b, m.Target)
	}
	if x := m.X; x != nil {
		xf := byte(0)
		if x.UID != nil {
			xf |= xUID
		}
		if x.GID != nil {
			xf |= xGID
		}
		if x.Attrs != nil {
			xf |= xAttrs
		}
		b = append(b, xf)
		for _, p := range []*uint32{x.UID, x.GID, x.Attrs} {
			if p != nil {
				b = binary.AppendUvarint(b, uint64(*p))
			}
		}
		for _, s := range []string{x.Owner, x.Group, x.ACL, x.Xattr, x.SACL} {
			b = appendString(b, s)
		}
	}
	return b
}

// record splits the first record off b.
func record(b []byte) (body, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) || n < 5 {
		return nil, nil, errors.New("a malformed record")
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// decoder reads a record's body; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errors.New("a malformed record")
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint(max uint64) uint64 {
	v, k := binary.Uvarint(d.b)
	if k <= 0 || v > max {
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) varint() int64 {
	v, k := binary.Varint(d.b)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint(math.MaxInt32)
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func decodeChange(body []byte) (*Change, error) {
	d := &decoder{b: body}
	c := &Change{Action: Action(d.byte()), Class: Class(d.byte()), Kind: Kind(d.byte()), Phase: Phase(d.byte())}
	flags := d.byte()
	if flags&^(fSrc|fDst|fDiffers|fLinkTo) != 0 {
		d.fail()
	}
	c.Path = d.string()
	c.Size = d.varint()
	if flags&fSrc != 0 {
		c.Src = d.meta()
	}
	if flags&fDst != 0 {
		c.Dst = d.meta()
	}
	if flags&fDiffers != 0 {
		n := d.uvarint(uint64(len(d.b)))
		if n == 0 || n > uint64(len(d.b)) {
			d.fail()
		}
		c.Differs = make([]string, 0, n)
		for range n {
			c.Differs = append(c.Differs, d.string())
		}
	}
	if flags&fLinkTo != 0 {
		if c.LinkTo = d.string(); c.LinkTo == "" {
			d.fail()
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}

func (d *decoder) meta() *Meta {
	m := &Meta{Kind: Kind(d.byte())}
	flags := d.byte()
	if flags&^(mTarget|mX) != 0 {
		d.fail()
	}
	m.Mode = uint32(d.uvarint(math.MaxUint32))
	m.Size = d.varint()
	m.MTime = d.varint()
	if flags&mTarget != 0 {
		if m.Target = d.string(); m.Target == "" {
			d.fail()
		}
	}
	if flags&mX != 0 {
		x := &MetaX{}
		xf := d.byte()
		if xf&^(xUID|xGID|xAttrs) != 0 {
			d.fail()
		}
		for _, f := range []struct {
			bit byte
			p   **uint32
		}{{xUID, &x.UID}, {xGID, &x.GID}, {xAttrs, &x.Attrs}} {
			if xf&f.bit != 0 {
				v := uint32(d.uvarint(math.MaxUint32))
				*f.p = &v
			}
		}
		x.Owner, x.Group, x.ACL, x.Xattr, x.SACL = d.string(), d.string(), d.string(), d.string(), d.string()
		m.X = x
	}
	return m
}
