package native

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// Hard links (a set with hard_links = true, rsync -H). The scan groups the
// source files that are one inode (same device and inode number, more
// than one name) and plans the first name of each group, in walk order,
// as usual; every other name becomes a change with LinkTo naming the
// first, which Apply performs as a hard link to the destination's copy of
// the first. See docs/engine.md, "Hard links".

// fileKey is a file's identity on its machine.
type fileKey struct{ dev, ino uint64 }

// linkGroup is what the scan knows of one source inode with several names.
type linkGroup struct {
	first string       // the name planned as a file
	phase engine.Phase // the phase in which first is written
	// kept is set when first's destination file stays as it is (Same), so
	// the group's other destination names may already be links to it:
	// dst is that file's identity.
	kept bool
	dst  fileKey
}

// hardLinks is the scan's table of linked source inodes.
type hardLinks struct {
	groups map[fileKey]*linkGroup
}

// newHardLinks returns the table for a set with hard_links, or nil when
// the set has none or the destination cannot hold hard links (then a
// warning says so).
func newHardLinks(spec engine.Spec, src, dst vfs.FS, res *engine.ScanResult) *hardLinks {
	if !spec.HardLinks {
		return nil
	}
	if _, ok := dst.(vfs.Linker); !ok {
		res.Warnings = append(res.Warnings, fmt.Sprintf("hard_links = true, but the destination %s cannot hold hard links (robo's SMB client makes none): each name of a linked file is copied as a separate file", dst))
		return nil
	}
	return &hardLinks{groups: map[fileKey]*linkGroup{}}
}

// identity returns a file's identity when it has more than one name
// (ok false otherwise, or when the file system cannot tell).
func identity(fsys vfs.FS, rel string, en vfs.Entry) (key fileKey, ok bool) {
	links, dev, ino := en.Links, en.Dev, en.Ino
	if links == 0 {
		id, can := fsys.(vfs.Identifier)
		if !can {
			return fileKey{}, false
		}
		var err error
		if links, dev, ino, err = id.Identify(rel); err != nil {
			return fileKey{}, false
		}
	}
	if links < 2 || ino == 0 {
		return fileKey{}, false
	}
	return fileKey{dev, ino}, true
}

// linkNew plans a source-only file: it returns the link change when the
// file is a later name of a linked group, or registers it as the first.
func (s *scanner) linkNew(rel string, en vfs.Entry, m *engine.Meta, phase engine.Phase) (engine.Change, bool) {
	key, ok := identity(s.src, rel, en)
	if !ok {
		return engine.Change{}, false
	}
	g := s.hl.groups[key]
	if g == nil {
		s.hl.groups[key] = &linkGroup{first: rel, phase: phase}
		return engine.Change{}, false
	}
	s.res.Source.Bytes -= en.Size // counted once, at the first name
	return engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: rel, Phase: max(phase, g.phase),
		Src: m, LinkTo: g.first}, true
}

// linkBoth plans a file present on both sides whose source has several
// names. The first name of a group is planned as usual (handled false),
// remembering whether its destination file stays. A later name is Same
// when its destination file already is that same file; otherwise it is
// an update that links it (a destination holding separate copies of a
// linked group is re-linked, and the old copy replaced), unless
// exclude_older keeps a newer destination file.
func (s *scanner) linkBoth(dir string, se, de vfs.Entry, class engine.Class, phase engine.Phase) (handled bool) {
	if se.Links == 1 {
		return false // the common case, without an allocation
	}
	rel := vfs.Join(dir, se.Name)
	key, ok := identity(s.src, rel, se)
	if !ok {
		return false
	}
	g := s.hl.groups[key]
	if g == nil {
		g = &linkGroup{first: rel, phase: phase}
		if class == engine.Same || (class == engine.Older && s.spec.ExcludeOlder) {
			if dk, ok := destIdentity(s.dst, rel, de); ok {
				g.kept, g.dst = true, dk
			}
		}
		s.hl.groups[key] = g
		return false
	}
	s.res.Source.Bytes -= se.Size
	if class == engine.Older && s.spec.ExcludeOlder {
		return true
	}
	if g.kept {
		if dk, ok := destIdentity(s.dst, rel, de); ok && dk == g.dst {
			return true // already one file with the first
		}
	}
	if class == engine.Same {
		class = engine.Changed // same data, but a separate copy
	}
	sm, dm := metaOf(se), metaOf(de)
	s.emit(engine.Change{Action: engine.Update, Class: class, Kind: engine.KindFile, Path: rel, Phase: max(phase, g.phase),
		Src: sm, Dst: dm, LinkTo: g.first})
	return true
}

// destIdentity is a destination file's identity, whatever its number of
// names (a first name may have one).
func destIdentity(fsys vfs.FS, rel string, en vfs.Entry) (fileKey, bool) {
	if en.Links == 0 {
		id, ok := fsys.(vfs.Identifier)
		if !ok {
			return fileKey{}, false
		}
		_, dev, ino, err := id.Identify(rel)
		if err != nil || ino == 0 {
			return fileKey{}, false
		}
		return fileKey{dev, ino}, true
	}
	return fileKey{en.Dev, en.Ino}, en.Ino != 0
}

// linkReplace plans a source file that replaces a destination directory
// (a mismatch) when it is a later name of a linked group: the replace
// links it.
func (s *scanner) linkReplace(rel string, se vfs.Entry, c *engine.Change) {
	key, ok := identity(s.src, rel, se)
	if !ok {
		return
	}
	g := s.hl.groups[key]
	if g == nil {
		s.hl.groups[key] = &linkGroup{first: rel, phase: c.Phase}
		return
	}
	s.res.Source.Bytes -= se.Size
	c.LinkTo, c.Size = g.first, 0
}

// link performs a change with LinkTo: the destination entry at c.Path
// becomes a hard link to the destination file at c.LinkTo. Before it
// links, the source's two names must still be one file, the one the plan
// saw, and the destination file at LinkTo must hold its data (same size
// and time: the copy of the first name, made earlier in the run or
// already there). A create links at the name itself (the link never
// replaces, so a name that appeared since the plan is left alone); an
// update or replace links under a temporary name and renames it into
// place, as a copy does.
func (a *applier) link(c *engine.Change) (skip string, err error) {
	if !a.spec.HardLinks {
		return "", fmt.Errorf("link_to %q in a set without hard_links = true", c.LinkTo)
	}
	lk, ok := a.dst.(vfs.Linker)
	if !ok {
		return "", fmt.Errorf("the destination %s cannot hold hard links", a.dst)
	}
	if why, err := a.sameSource(c); why != "" || err != nil {
		return why, err
	}
	check := func(en vfs.Entry) string {
		if en.Kind != vfs.File {
			return fmt.Sprintf("the destination's %s to link to is a %s, not a file", c.LinkTo, en.Kind)
		}
		if en.Size != c.Src.Size || !engine.TimesEqual(en.ModTime, c.Src.Time(), a.spec.TimeTolerance) {
			return fmt.Sprintf("the destination's %s does not hold the source's data (it was not copied, or changed since the plan)", c.LinkTo)
		}
		return ""
	}
	if c.Action == engine.Create {
		skip, err := lk.Link(c.LinkTo, c.Path, check)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("the destination has no %s to link to (its copy failed or was skipped)", c.LinkTo), nil
		}
		return a.refusedCreate(c, skip, err)
	}
	tmp := a.tempName(c.Path)
	skip, err = lk.Link(c.LinkTo, tmp, check)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("the destination has no %s to link to (its copy failed or was skipped)", c.LinkTo), nil
	}
	if skip != "" || err != nil {
		return skip, err
	}
	if skip, err := a.versionUpdate(c); skip != "" || err != nil {
		a.dst.Remove(tmp)
		return skip, err
	}
	if err := a.dst.Rename(tmp, c.Path); err != nil {
		a.dst.Remove(tmp)
		return "", err
	}
	return "", nil
}

// sameSource checks, for a link change, that the source's c.Path is the
// file the plan saw and one file with the source's c.LinkTo: a plan
// (edited or not) can link only names that are one inode in the source.
func (a *applier) sameSource(c *engine.Change) (skip string, err error) {
	se, err := a.src.Stat(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return "source file is gone since the plan was made", nil
	}
	if err != nil {
		return "", err
	}
	if why := guard("source", c.Src, metaOf(se)); why != "" {
		return why, nil
	}
	te, err := a.src.Stat(c.LinkTo)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("source %s (the file this one is a hard link of) is gone since the plan was made", c.LinkTo), nil
	}
	if err != nil {
		return "", err
	}
	k1, ok1 := identity(a.src, c.Path, se)
	k2, ok2 := identity(a.src, c.LinkTo, te)
	if !ok1 || !ok2 || k1 != k2 {
		return fmt.Sprintf("source %s and %s are not one file (hard links) now", c.Path, c.LinkTo), nil
	}
	return "", nil
}
