package native

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/filter"
	"github.com/robo-backup/robo/internal/vfs"
	"golang.org/x/text/unicode/norm"
)

// Scan implements engine.Engine. It walks both trees directory by directory
// over sorted listings (rclone's march): memory holds the current listings on
// the path from the root and the change list, nothing else.
func (e *Engine) Scan(ctx context.Context, spec engine.Spec) (*engine.ScanResult, error) {
	rules, errs := filter.New(spec.Include, spec.ExcludeFiles, spec.ExcludeDirs)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	src, err := e.Open(spec.Source)
	if err != nil {
		return nil, &engine.SourceError{Path: spec.Source, Err: err}
	}
	defer vfs.Close(src)
	dst, err := e.Open(spec.Destination)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", spec.Destination, err)
	}
	defer vfs.Close(dst)
	// SMB shares compare names case-insensitively whatever the client OS.
	fold := e.FoldCase || isUNC(spec.Source) || isUNC(spec.Destination)
	s := &scanner{ctx: ctx, spec: spec, rules: rules, src: src, dst: dst, fold: fold, norm: e.FoldNorm,
		winNames: e.WindowsNames || isUNC(spec.Destination), res: &engine.ScanResult{Changes: engine.NewChangeList()}, paths: rules.UsesPath()}
	// A tree that keeps coarser times (SFTP: whole seconds) compares
	// within its step, or every file would look newer on every run.
	s.spec.TimeTolerance = max(s.spec.TimeTolerance, vfs.TimePrecision(src), vfs.TimePrecision(dst))

	root, err := src.Stat("")
	if err != nil {
		return nil, &engine.SourceError{Path: spec.Source, Err: err}
	}
	if root.Kind != vfs.Dir {
		return nil, &engine.SourceError{Path: spec.Source, Err: fmt.Errorf("not a directory (it is a %s)", root.Kind)}
	}
	s.res.Source.Exists = true
	droot, err := dst.Stat("")
	switch {
	case err == nil && droot.Kind == vfs.Dir:
		s.res.Dest.Exists = true
	case err == nil:
		return nil, fmt.Errorf("destination %s is not a directory (it is a %s)", spec.Destination, droot.Kind)
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, fmt.Errorf("destination %s: %w", spec.Destination, err)
	}
	s.hl = newHardLinks(spec, src, dst, s.res)
	if sid, did := rootID(src, true), rootID(dst, s.res.Dest.Exists); sid != nil || did != nil {
		s.res.Roots = &engine.Roots{Source: sid, Destination: did}
	}
	s.noteUnsupported()
	err = s.walk("", s.res.Dest.Exists, engine.PhaseCopy)
	if scanDone != nil {
		scanDone(s.held.Load, s.peakHeld.Load())
	}
	if err != nil {
		s.res.Changes.Close()
		return nil, err
	}
	if err := s.res.Changes.Err(); err != nil {
		s.res.Changes.Close()
		return nil, err
	}
	if spec.Versions != nil && s.res.Dest.Exists {
		s.res.Versions = versionFolders(dst)
	}
	return s.res, nil
}

type scanner struct {
	ctx   context.Context
	spec  engine.Spec
	rules *filter.Rules
	src   vfs.FS
	dst   vfs.FS
	fold  bool
	norm  bool // fold Unicode normalization too (macOS)
	// winNames refuses to create source names a Windows or SMB
	// destination cannot hold.
	winNames bool
	// unixMeta: both trees carry Unix modes and owners (vfs.MetaFS).
	unixMeta bool
	// sec: the NT security descriptor parts compared (vfs.SecInfo bits;
	// platformSec), and those read ahead for the directories being
	// walked (secPrefetch).
	sec      uint8
	secAhead map[string]secRead
	// saclOff: a side refused to let the SACL be read (secCompared).
	saclOff bool
	res     *engine.ScanResult
	// paths is set when a filter pattern needs the relative path, which
	// is otherwise built only for entries that change.
	paths bool
	// pending holds new directories not yet emitted because, without
	// copy_empty_dirs, a directory is created only once a file needs it.
	pending []engine.Change
	// Read-ahead of directory listings (see prefetch): at most
	// aheadDirs listings held, read by at most cap(sem) at once.
	ahead     map[string]*listing
	aheadDirs int
	// held counts the entries of the listings read ahead and not yet
	// walked or dropped; no read ahead starts at aheadEntries or more.
	held     atomic.Int64
	peakHeld atomic.Int64 // the most held when a read ahead started (tests)
	queues   []*dirQueue
	sem      chan struct{}
	// hl groups the source's linked files (hard_links; nil otherwise).
	hl *hardLinks
}

func (s *scanner) key(name string) string {
	if s.norm {
		name = norm.NFC.String(name)
	}
	if s.fold {
		return strings.ToLower(name)
	}
	return name
}

func (s *scanner) emit(c engine.Change) {
	if c.Kind != engine.KindDir || c.Action == engine.Delete {
		s.flush()
	}
	s.res.Changes.Add(c)
}

func (s *scanner) flush() {
	for i := range s.pending {
		s.res.Changes.Add(s.pending[i])
	}
	s.pending = s.pending[:0]
}

func (s *scanner) fail(op, path string, err error) {
	s.res.Errors = append(s.res.Errors, engine.FileError{Path: path, Op: op, Err: errText(err)})
}

// selected filters a listing: it drops excluded names, entries robo never
// copies (devices, FIFOs, sockets) and, on the source, robo's temp files.
func (s *scanner) selected(dir string, list []vfs.Entry, source bool) []vfs.Entry {
	out := list[:0]
	for _, en := range list {
		if dir == "" && engine.IsVersionsDir(en.Name, s.fold) {
			// Reserved at the roots: the destination's holds old
			// versions, which are never extras nor mirrored.
			continue
		}
		rel := ""
		if s.paths {
			rel = vfs.Join(dir, en.Name)
		}
		switch en.Kind {
		case vfs.Other:
			if source && s.rules.File(rel, en.Name) {
				// A FIFO, socket or device: never copied, but counted
				// so the plan can say so.
				if s.res.Special == 0 {
					s.res.SpecialExample = vfs.Join(dir, en.Name)
				}
				s.res.Special++
			}
			continue
		case vfs.Dir:
			if !s.rules.Dir(rel, en.Name) {
				continue
			}
		default:
			if IsTemp(en.Name) {
				if source {
					continue
				}
				break // stale temp files are kept so they can be cleaned up
			}
			if !s.rules.File(rel, en.Name) {
				continue
			}
		}
		out = append(out, en)
	}
	if s.fold || s.norm {
		sort.SliceStable(out, func(i, j int) bool { return s.key(out[i].Name) < s.key(out[j].Name) })
	}
	return out
}

func (s *scanner) walk(dir string, dstExists bool, phase engine.Phase) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	l := s.ahead[dir]
	if l != nil {
		delete(s.ahead, dir)
		<-l.done
		s.held.Add(-l.n)
	}
	if l == nil || l.skipped || l.dstExists != dstExists {
		l = s.read(dir, dstExists)
	}
	s.prefetch()
	srcList, err, dstList, dstErr := l.src, l.srcErr, l.dst, l.dstErr
	if err != nil {
		if dir == "" {
			return &engine.SourceError{Path: s.spec.Source, Err: err}
		}
		// The subtree is unknown: leave its destination alone.
		s.fail("read source dir", dir, err)
		return nil
	}
	srcList = s.selected(dir, srcList, true)
	if dstErr != nil {
		s.fail("read destination dir", dir, dstErr)
		return nil
	}
	dstList = s.selected(dir, dstList, false)
	if keys := s.secPrefetch(dir, srcList, dstList); keys != nil {
		defer s.secForget(keys)
	}
	s.queues = append(s.queues, &dirQueue{subs: s.subdirs(dir, srcList, dstList)})
	defer s.popQueue()
	s.prefetch()
	i, j := 0, 0
	for i < len(srcList) || j < len(dstList) {
		switch {
		case j >= len(dstList) || (i < len(srcList) && s.key(srcList[i].Name) < s.key(dstList[j].Name)):
			if err := s.srcOnly(dir, srcList[i], phase); err != nil {
				return err
			}
			i++
		case i >= len(srcList) || s.key(srcList[i].Name) > s.key(dstList[j].Name):
			if err := s.dstOnly(dir, dstList[j]); err != nil {
				return err
			}
			j++
		default:
			if err := s.both(dir, srcList[i], dstList[j], phase); err != nil {
				return err
			}
			i++
			j++
		}
	}
	return nil
}

// listing is the pair of listings of one directory, read ahead of the walk
// or when the walk reaches it.
type listing struct {
	done           chan struct{}
	n              int64 // entries on both sides, set before done closes
	skipped        bool  // not read: too many entries were held when its turn came
	dstExists      bool
	src, dst       []vfs.Entry
	srcErr, dstErr error
}

// A directory's source and destination listings are read at once, and the
// listings of the next directories the walk will enter are read ahead on a
// pool: on two cores (and over SMB) the walk of an unchanged tree is
// bound by these reads. The walk itself, and so the change list, stays in
// one goroutine and in sorted order. The pool has four readers per CPU, at
// least 16 and at most 32, and holds four listings per reader; so memory
// stays bounded whatever the tree's size. More readers than CPUs because a
// read of a tree whose inodes are not cached (a cold cache, or a tree too
// big to stay in it: 20 million entries) sleeps in the kernel on inode
// tables and memory reclaim, not only on CPUs: on 2 CPUs, a cold scan of
// 10 million files took 235 s with 3 readers and 172 s with 16 (32: 178 s),
// and a cached one is no slower (docs/performance.md).
// A side on a server (vfs.Networked: object stores, SFTP, WebDAV) waits
// on round trips, not CPUs, and asks for its own number of readers (what
// the server is sent at once is its choice, not the local disk's).
var (
	readAheadWorkers = min(max(4*runtime.GOMAXPROCS(0), 16), 32) // directories read at once, at most
	readAheadDirs    = 4 * readAheadWorkers                      // listings read ahead, at most
	// aheadEntries bounds the listings held by their entries too, so a
	// tree of huge sibling directories (100,000 files each) holds one or
	// two of them, not aheadDirs: about 14 MB of entries (88 bytes and the
	// name each), plus the listings being read (at most one per reader).
	// 64 listings of 100-file directories hold 13,000.
	aheadEntries int64 = 1 << 17
)

// scanDone, set by tests, is told after a walk how to read the entries
// still held ahead and the most held when a read ahead started.
var scanDone func(held func() int64, peak int64)

// aheadWorkers is the read-ahead pool's size for a scan of src and dst:
// a side on a server asks for its number, at least one more than CPUs (at
// least 3, at most 16), at most 64; local and SMB trees get
// readAheadWorkers.
func aheadWorkers(src, dst vfs.FS) int {
	if n := max(vfs.ListAhead(src), vfs.ListAhead(dst)); n > 0 {
		return min(max(n, min(max(runtime.GOMAXPROCS(0)+1, 3), 16)), 64)
	}
	return readAheadWorkers
}

// read lists dir on both sides now; dst only when it exists.
func (s *scanner) read(dir string, dstExists bool) *listing {
	l := &listing{done: make(chan struct{}), dstExists: dstExists}
	close(l.done)
	s.fill(l, dir, dstExists)
	return l
}

func (s *scanner) fill(l *listing, dir string, dstExists bool) {
	done := make(chan struct{})
	if dstExists {
		go func() {
			l.dst, l.dstErr = s.dst.ReadDir(dir)
			close(done)
		}()
	} else {
		close(done)
	}
	l.src, l.srcErr = s.src.ReadDir(dir)
	<-done
}

// dirQueue holds the subdirectories a walk of one directory will enter, in
// walk order, and how many of them were handed to the read-ahead.
type dirQueue struct {
	subs []subdir
	next int
}

type subdir struct {
	rel       string
	dstExists bool
}

// subdirs returns the source directories the merge of the two listings
// recurses into: new ones and those that are directories on both sides.
func (s *scanner) subdirs(dir string, src, dst []vfs.Entry) []subdir {
	var out []subdir
	j := 0
	for _, se := range src {
		if se.Kind != vfs.Dir {
			continue
		}
		k := s.key(se.Name)
		for j < len(dst) && s.key(dst[j].Name) < k {
			j++
		}
		switch {
		case j < len(dst) && s.key(dst[j].Name) == k:
			if dst[j].Kind == vfs.Dir {
				out = append(out, subdir{vfs.Join(dir, se.Name), true})
			}
			j++ // the merge pairs each destination entry once
		default:
			out = append(out, subdir{vfs.Join(dir, se.Name), false})
		}
	}
	return out
}

// prefetch starts reading ahead the next subdirectories of the directory
// being walked, up to aheadDirs listings held at once.
func (s *scanner) prefetch() {
	if len(s.queues) == 0 {
		return
	}
	if s.sem == nil {
		w := aheadWorkers(s.src, s.dst)
		s.sem = make(chan struct{}, w)
		s.aheadDirs = max(readAheadDirs, 4*w)
		s.ahead = map[string]*listing{}
	}
	q := s.queues[len(s.queues)-1]
	for q.next < len(q.subs) && len(s.ahead) < s.aheadDirs {
		if s.held.Load() >= aheadEntries {
			break
		}
		sd := q.subs[q.next]
		q.next++
		l := &listing{done: make(chan struct{}), dstExists: sd.dstExists}
		s.ahead[sd.rel] = l
		go func() {
			defer close(l.done)
			s.sem <- struct{}{}
			defer func() { <-s.sem }()
			// Held entries are checked again when the read's turn
			// comes: the reads queued at once would otherwise all
			// be held, however big their directories.
			h := s.held.Load()
			if h >= aheadEntries {
				l.skipped = true // the walk reads it when it gets there
				return
			}
			for p := s.peakHeld.Load(); h > p && !s.peakHeld.CompareAndSwap(p, h); p = s.peakHeld.Load() {
			}
			s.fill(l, sd.rel, sd.dstExists)
			l.n = int64(len(l.src) + len(l.dst))
			s.held.Add(l.n)
		}()
	}
}

// drop forgets a listing read ahead that the walk will not use; its
// entries stop counting once its read is done.
func (s *scanner) drop(l *listing) {
	select {
	case <-l.done:
		s.held.Add(-l.n)
	default:
		go func() {
			<-l.done
			s.held.Add(-l.n)
		}()
	}
}

// popQueue ends the walk of a directory: read-ahead listings it did not
// use are dropped.
func (s *scanner) popQueue() {
	q := s.queues[len(s.queues)-1]
	s.queues = s.queues[:len(s.queues)-1]
	for _, sd := range q.subs[:q.next] {
		if l, ok := s.ahead[sd.rel]; ok {
			delete(s.ahead, sd.rel)
			s.drop(l)
		}
	}
}

func (s *scanner) countSource(en vfs.Entry) {
	if en.Kind == vfs.Dir {
		s.res.Source.Dirs++
		return
	}
	s.res.Source.Files++
	s.res.Source.Bytes += en.Size
}

func (s *scanner) countDest(en vfs.Entry) {
	if en.Kind == vfs.Dir {
		s.res.Dest.Dirs++
		return
	}
	s.res.Dest.Files++
	s.res.Dest.Bytes += en.Size
}

func (s *scanner) link(fsys vfs.FS, rel string, m *engine.Meta) error {
	t, err := fsys.Readlink(rel)
	if err != nil {
		return err
	}
	m.Target = t
	return nil
}

func (s *scanner) srcOnly(dir string, en vfs.Entry, phase engine.Phase) error {
	rel := vfs.Join(dir, en.Name)
	if en.Kind == vfs.Symlink && !s.spec.CopySymlinks {
		return nil
	}
	if s.winNames {
		if why := windowsNameProblem(en.Name); why != "" {
			// Nothing under it can be created either. The scan error
			// keeps the set's deletions from running until the name is
			// fixed or excluded.
			s.fail("create", rel, fmt.Errorf("%s: rename it in the source or leave it out with exclude_files or exclude_dirs", why))
			return nil
		}
	}
	s.countSource(en)
	m := metaOf(en)
	switch en.Kind {
	case vfs.Dir:
		c := engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindDir, Path: rel, Phase: phase, Src: m}
		n := len(s.pending)
		s.pending = append(s.pending, c)
		if s.spec.CopyEmptyDirs {
			s.flush()
		}
		if err := s.walk(rel, false, phase); err != nil {
			return err
		}
		if len(s.pending) > n {
			s.pending = s.pending[:n] // nothing under it needed it
		}
		return nil
	case vfs.Symlink:
		if err := s.link(s.src, rel, m); err != nil {
			s.fail("readlink", rel, err)
			return nil
		}
	case vfs.File:
		if s.hl != nil {
			if c, ok := s.linkNew(rel, en, m, phase); ok {
				s.emit(c)
				return nil
			}
		}
	}
	s.emit(engine.Change{Action: engine.Create, Class: engine.New, Kind: m.Kind, Path: rel, Phase: phase, Size: dataSize(m), Src: m})
	return nil
}

// dataSize is the bytes a change copies or deletes: a link's target is not
// file data.
func dataSize(m *engine.Meta) int64 {
	if m.Kind == engine.KindFile {
		return m.Size
	}
	return 0
}

func (s *scanner) dstOnly(dir string, en vfs.Entry) error {
	rel := vfs.Join(dir, en.Name)
	if en.Kind == vfs.Symlink && !s.spec.CopySymlinks {
		return nil // never touched
	}
	m := metaOf(en)
	if en.Kind == vfs.Symlink {
		if err := s.link(s.dst, rel, m); err != nil {
			s.fail("readlink", rel, err)
			return nil
		}
	}
	if en.Kind != vfs.Dir && IsTemp(en.Name) {
		s.emit(engine.Change{Action: engine.Delete, Class: engine.StaleTemp, Kind: m.Kind, Path: rel, Phase: engine.PhaseDelete, Size: m.Size, Dst: m})
		return nil
	}
	s.countDest(en)
	if !s.spec.Mirror {
		if en.Kind == vfs.Dir {
			s.res.ExtraDirs++
		} else {
			s.res.ExtraFiles++
		}
		return nil
	}
	if en.Kind != vfs.Dir {
		s.res.ExtraFiles++
		s.emit(engine.Change{Action: engine.Delete, Class: engine.Extra, Kind: m.Kind, Path: rel, Phase: engine.PhaseDelete, Size: dataSize(m), Dst: m})
		return nil
	}
	s.res.ExtraDirs++
	_, err := s.deleteTree(rel, m, engine.Extra, true)
	return err
}

// deleteTree emits guarded deletions for a destination directory and
// everything under it that the filters select, deepest first. The directory
// itself is deleted only when nothing excluded or unreadable stays inside it,
// and only when self is set (a replace deletes it itself).
func (s *scanner) deleteTree(rel string, m *engine.Meta, class engine.Class, self bool) (complete bool, err error) {
	if err := s.ctx.Err(); err != nil {
		return false, err
	}
	list, err := s.dst.ReadDir(rel)
	if err != nil {
		s.fail("read destination dir", rel, err)
		return false, nil
	}
	all := len(list)
	list = s.selected(rel, list, false)
	complete = len(list) == all
	for _, en := range list {
		crel := vfs.Join(rel, en.Name)
		cm := metaOf(en)
		switch {
		case en.Kind == vfs.Symlink && !s.spec.CopySymlinks:
			complete = false
		case en.Kind == vfs.Dir:
			s.countDest(en)
			s.res.ExtraDirs++
			ok, err := s.deleteTree(crel, cm, engine.Extra, true)
			if err != nil {
				return false, err
			}
			complete = complete && ok
		default:
			if en.Kind == vfs.Symlink {
				if err := s.link(s.dst, crel, cm); err != nil {
					s.fail("readlink", crel, err)
					complete = false
					continue
				}
			}
			if !IsTemp(en.Name) {
				s.countDest(en)
				s.res.ExtraFiles++
			}
			s.emit(engine.Change{Action: engine.Delete, Class: engine.Extra, Kind: cm.Kind, Path: crel, Phase: engine.PhaseDelete, Size: dataSize(cm), Dst: cm})
		}
	}
	if complete && !self {
		s.flush() // as the emit below would
	}
	if complete && self {
		s.emit(engine.Change{Action: engine.Delete, Class: class, Kind: engine.KindDir, Path: rel, Phase: engine.PhaseDelete, Dst: m})
	}
	return complete, nil
}

// both compares an entry present on both sides. An unchanged file costs
// no allocation: the relative path and the heap copies of the metadata are
// made only for a change.
func (s *scanner) both(dir string, se, de vfs.Entry, phase engine.Phase) error {
	srcLink := se.Kind == vfs.Symlink
	dstLink := de.Kind == vfs.Symlink
	if srcLink && !s.spec.CopySymlinks {
		if dstLink {
			return nil
		}
		// The source side is invisible; the destination entry is an extra.
		return s.dstOnly(dir, de)
	}
	if dstLink && !s.spec.CopySymlinks {
		// A destination link is never replaced or followed.
		s.countSource(se)
		s.res.Mismatches++
		return nil
	}
	s.countSource(se)
	s.countDest(de)
	smv, dmv := metaValue(se), metaValue(de)
	if smv.Kind == engine.KindFile && dmv.Kind == engine.KindFile {
		class := engine.Classify(smv, dmv, s.spec.TimeTolerance)
		if s.hl != nil && s.linkBoth(dir, se, de, class, phase) {
			return nil
		}
		if class == engine.Same {
			s.tweak(dir, se, de, nil, nil, phase)
			return nil
		}
		if class == engine.Older && s.spec.ExcludeOlder {
			return nil
		}
		sm, dm := heapMeta(smv), heapMeta(dmv)
		s.emit(engine.Change{Action: engine.Update, Class: class, Kind: sm.Kind, Path: vfs.Join(dir, se.Name), Phase: phase, Size: sm.Size, Src: sm, Dst: dm})
		return nil
	}
	rel := vfs.Join(dir, se.Name)
	sm, dm := heapMeta(smv), heapMeta(dmv)
	if sm.Kind != dm.Kind {
		return s.mismatch(rel, se, sm, dm)
	}
	switch sm.Kind {
	case engine.KindDir:
		s.tweak(dir, se, de, sm, dm, phase)
		return s.walk(rel, true, phase)
	case engine.KindSymlink:
		if err := s.link(s.src, rel, sm); err != nil {
			s.fail("readlink", rel, err)
			return nil
		}
		if err := s.link(s.dst, rel, dm); err != nil {
			s.fail("readlink", rel, err)
			return nil
		}
		if sm.Target != dm.Target {
			s.emit(engine.Change{Action: engine.Update, Class: engine.Changed, Kind: sm.Kind, Path: rel, Phase: phase, Src: sm, Dst: dm})
		} else {
			s.tweak(dir, se, de, sm, dm, phase)
		}
	}
	return nil
}

// mismatch handles an entry that is a file on one side and a directory (or
// link) on the other. A copy-mode set reports it and leaves both alone; a
// mirror deletes the destination entry, then creates the source's.
func (s *scanner) mismatch(rel string, se vfs.Entry, sm, dm *engine.Meta) error {
	s.res.Mismatches++
	if !s.spec.Mirror {
		return nil
	}
	if dm.Kind == engine.KindDir {
		// The directory's own delete is not emitted: the replace does
		// it, guarded.
		complete, err := s.deleteTree(rel, dm, engine.Mismatch, false)
		if err != nil || !complete {
			// deleteTree emitted no deletion of the directory itself (or
			// we are stopping), so the source entry cannot take its place.
			if err == nil {
				s.fail("replace", rel, fmt.Errorf("destination directory holds excluded or unreadable entries"))
			}
			return err
		}
	}
	if sm.Kind == engine.KindSymlink {
		if err := s.link(s.src, rel, sm); err != nil {
			s.fail("readlink", rel, err)
			return nil
		}
	}
	c := engine.Change{Action: engine.Replace, Class: engine.Mismatch, Kind: sm.Kind, Path: rel, Phase: engine.PhaseReplace, Size: dataSize(sm), Src: sm, Dst: dm}
	if s.hl != nil && se.Kind == vfs.File {
		s.linkReplace(rel, se, &c)
	}
	s.emit(c)
	if se.Kind == vfs.Dir {
		return s.walk(rel, false, engine.PhaseReplace)
	}
	return nil
}

// versionFolders lists the run folders under the destination's versions
// folder. A folder that cannot be read lists none: nothing is pruned.
func versionFolders(dst vfs.FS) []string {
	list, err := dst.ReadDir(engine.VersionsDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, en := range list {
		if _, ok := engine.ParseVersionStamp(en.Name); ok && en.Kind == vfs.Dir {
			out = append(out, en.Name)
		}
	}
	return out
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
