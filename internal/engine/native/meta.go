package native

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"syscall"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// Metadata fidelity (issue 16, docs/engine.md "Metadata classes"): which
// classes a set copies comes from its copy and directory_copy letters
// (engine.MetaCopied). The scan compares them for entries present on both
// sides, from the listing where it has them (mode, owner, Windows
// attributes: no extra system call) and by reading the extended
// attributes only when the set copies ACLs (S) or xattrs (E). A file whose
// data is Same but whose metadata differs is planned as a Tweaked update.

// xattrClasses are the extended attribute classes the set copies for an
// entry of kind k.
func xattrClasses(spec *engine.Spec, k engine.Kind) vfs.XattrClass {
	var c vfs.XattrClass
	if engine.MetaCopied(spec, 'S', k) {
		c |= vfs.XattrACL
	}
	if engine.MetaCopied(spec, 'E', k) {
		c |= vfs.XattrOther
	}
	return c
}

// quickSame reports, from the two listings alone, that the metadata the set
// copies is equal, when no extended attribute class is copied: the common
// case of an unchanged tree costs two comparisons, no allocation.
func (s *scanner) quickSame(se, de vfs.Entry, k engine.Kind) bool {
	if xattrClasses(&s.spec, k) != 0 && s.unixMeta || s.readsSecurity(k) {
		return false
	}
	if engine.MetaCopied(&s.spec, 'A', k) && k != engine.KindSymlink {
		switch {
		case se.Attrs != 0 && de.Attrs != 0:
			if uint32(se.Attrs)&engine.AttrsCopied != uint32(de.Attrs)&engine.AttrsCopied {
				return false
			}
		case s.unixMeta && se.Mode != de.Mode:
			return false
		}
	}
	if engine.MetaCopied(&s.spec, 'O', k) && s.unixMeta && (se.UID != de.UID || se.GID != de.GID) {
		return false
	}
	return true
}

// fillMeta adds to m the metadata of en (at rel in fsys) that the set
// copies and the scan compares. ok is false when it could not be read
// (a scan error was recorded).
func (s *scanner) fillMeta(fsys vfs.FS, side, rel string, en vfs.Entry, m *engine.Meta, attrs bool) bool {
	k := m.Kind
	if engine.MetaCopied(&s.spec, 'A', k) && attrs {
		a := uint32(en.Attrs) & engine.AttrsCopied
		m.SetCopied().Attrs = &a
	}
	if !s.unixMeta {
		// Permission bits are not comparable (a share, Windows): only
		// attributes are, and the NT security descriptor (security.go).
		m.Mode = 0
		return s.fillSecurity(fsys, side, rel, m)
	}
	if engine.MetaCopied(&s.spec, 'O', k) {
		u, g := en.UID, en.GID
		x := m.SetCopied()
		x.UID, x.GID = &u, &g
	}
	which := xattrClasses(&s.spec, k)
	if which == 0 || k == engine.KindSymlink {
		return true
	}
	mfs, ok := fsys.(vfs.MetaFS)
	if !ok {
		return true // warned once by noteUnsupported
	}
	xs, err := mfs.Xattrs(rel, which)
	if errors.Is(err, vfs.ErrNoMeta) {
		return true
	}
	if err != nil {
		s.fail("read "+side+" extended attributes", rel, err)
		return false
	}
	var acl, other []vfs.Xattr
	for _, x := range xs {
		if vfs.XattrACL.Has(x.Name) {
			acl = append(acl, x)
		} else {
			other = append(other, x)
		}
	}
	if which&vfs.XattrACL != 0 {
		m.SetCopied().ACL = engine.MetaDigest(vfs.XattrBytes(acl))
	}
	if which&vfs.XattrOther != 0 {
		m.SetCopied().Xattr = engine.MetaDigest(vfs.XattrBytes(other))
	}
	return true
}

// tweak compares the copied metadata of an entry whose data is the same on
// both sides and emits a Tweaked update when it differs. sm and dm are the
// entries' metadata, nil for a file (made only when something differs).
func (s *scanner) tweak(dir string, se, de vfs.Entry, sm, dm *engine.Meta, phase engine.Phase) {
	k := engine.KindFile
	if sm != nil {
		k = sm.Kind
	}
	if s.quickSame(se, de, k) {
		return
	}
	rel := vfs.Join(dir, se.Name)
	if sm == nil {
		sm, dm = metaOf(se), metaOf(de)
	}
	attrs := se.Attrs != 0 && de.Attrs != 0
	if !s.fillMeta(s.src, "source", rel, se, sm, attrs) || !s.fillMeta(s.dst, "destination", rel, de, dm, attrs) {
		return
	}
	if d := engine.MetaDiff(&s.spec, sm, dm); len(d) > 0 {
		s.emit(engine.Change{Action: engine.Update, Class: engine.Tweaked, Kind: sm.Kind, Path: rel, Phase: phase, Src: sm, Dst: dm, Differs: d})
	}
}

// noteUnsupported warns once per scan about the classes the set copies that
// its trees cannot carry (a share, Windows owners and ACLs, macOS xattrs).
func (s *scanner) noteUnsupported() {
	var miss []string
	_, srcMeta := s.src.(vfs.MetaFS)
	_, dstMeta := s.dst.(vfs.MetaFS)
	both := srcMeta && dstMeta
	s.unixMeta = both
	sec, handled, warn := platformSec(&s.spec, s.src, s.dst)
	s.sec = sec
	if warn != "" {
		s.res.Warnings = append(s.res.Warnings, warn)
	}
	oneSide := secOneSide(&s.spec, s.src, s.dst)
	if oneSide != "" {
		s.res.Warnings = append(s.res.Warnings, oneSide)
	}
	for _, l := range []struct {
		letter byte
		what   string
	}{{'S', "security (S: ACLs)"}, {'O', "owner (O)"}, {'U', "auditing (U: the SACL)"}, {'E', "extended attributes (E)"}} {
		if !s.spec.Copies(l.letter, false) && !s.spec.Copies(l.letter, true) {
			continue
		}
		if strings.IndexByte(handled, l.letter) >= 0 || oneSide != "" && strings.IndexByte("SOU", l.letter) >= 0 {
			continue
		}
		// macOS ACLs are not extended attributes and are not read.
		if l.letter == 'U' || !both || l.letter == 'S' && runtime.GOOS == "darwin" {
			miss = append(miss, l.what)
		}
	}
	if len(miss) > 0 {
		s.res.Warnings = append(s.res.Warnings, fmt.Sprintf("the native engine cannot copy %s between %s and %s on this platform: they are neither compared nor copied (docs/engine.md, \"Metadata classes\")",
			strings.Join(miss, ", "), s.src, s.dst))
	}
}

// ---- apply ----

// metaCopy is what a local copy writes on the new file besides its data.
func (a *applier) metaCopy(k engine.Kind) vfs.MetaCopy {
	return vfs.MetaCopy{
		Mode:   engine.MetaCopied(&a.spec, 'A', k),
		Owner:  engine.MetaCopied(&a.spec, 'O', k),
		Xattrs: xattrClasses(&a.spec, k),
	}
}

// createPerm is the mode a new file is created with: the source's
// permission bits when the set copies A (robocopy's attributes), else with
// the owner's read and write added, as robo always did.
func (a *applier) createPerm(c *engine.Change) fs.FileMode {
	_, sok := a.src.(vfs.MetaFS)
	_, dok := a.dst.(vfs.MetaFS)
	if engine.MetaCopied(&a.spec, 'A', c.Kind) && sok && dok {
		return fs.FileMode(c.Src.Mode) & fs.ModePerm
	}
	return fs.FileMode(c.Src.Mode)&fs.ModePerm | 0o600
}

// warn records a per-file warning (an owner robo may not set): the first
// ones by path, then a count.
func (a *applier) warn(path, msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.warned++
	if a.warned <= maxMetaWarnings {
		a.res.Warnings = append(a.res.Warnings, path+": "+msg)
	}
}

const maxMetaWarnings = 20

// finishWarnings adds the count of warnings not listed.
func (a *applier) finishWarnings() {
	if n := a.warned - maxMetaWarnings; n > 0 {
		a.res.Warnings = append(a.res.Warnings, fmt.Sprintf("... and %d more metadata warnings like these", n))
	}
}

// copyMeta gives the destination entry dname the metadata of the source
// entry c.Path that the set copies, by name (the Tweaked changes, links,
// directories, and copies that do not take the local descriptor path).
// Owner first, then extended attributes (an ACL sets the group bits), then
// the mode or attributes.
func (a *applier) copyMeta(c *engine.Change, dname string) error {
	k := c.Kind
	smeta, sok := a.src.(vfs.MetaFS)
	dmeta, dok := a.dst.(vfs.MetaFS)
	af, aok := a.dst.(interface {
		SetAttrs(name string, attrs, mask uint32) error
	})
	if !(sok && dok) && !aok {
		return nil // a share: nothing more it can carry (noteUnsupported)
	}
	en, err := a.src.Stat(c.Path)
	if err != nil {
		return err
	}
	if engine.MetaCopied(&a.spec, 'O', k) && sok && dok {
		if err := dmeta.Chown(dname, en.UID, en.GID); err != nil {
			if !errors.Is(err, syscall.EPERM) {
				return err
			}
			a.warn(c.Path, vfs.OwnerWarning(en.UID, en.GID, err))
		}
	}
	if which := xattrClasses(&a.spec, k); which != 0 && sok && dok && k != engine.KindSymlink {
		xs, err := smeta.Xattrs(c.Path, which)
		if err != nil && !errors.Is(err, vfs.ErrNoMeta) {
			return err
		}
		if err == nil {
			if err := dmeta.SetXattrs(dname, which, xs); err != nil {
				if !errors.Is(err, syscall.EPERM) && !errors.Is(err, vfs.ErrNoMeta) {
					return err
				}
				a.warn(c.Path, "extended attributes not kept: "+errText(err))
			}
		}
	}
	if engine.MetaCopied(&a.spec, 'A', k) && k != engine.KindSymlink {
		if aok && en.Attrs != 0 {
			if err := af.SetAttrs(dname, uint32(en.Attrs)&engine.AttrsCopied, engine.AttrsCopied); err != nil {
				return err
			}
		} else if dok && sok {
			return dmeta.Chmod(dname, uint32(en.Mode)&0o7777)
		}
	}
	// The security descriptor last, as a DACL copied may deny
	// robo what the attributes needed.
	return a.copySecurity(c, dname)
}

// tweakEntry applies a Tweaked change: the metadata only, when both
// entries are still as the plan saw them. A directory's metadata is set
// after its contents (restoreDirMeta).
func (a *applier) tweakEntry(c *engine.Change) (skip string, err error) {
	now, err := current(a.dst, c.Path)
	if err != nil {
		return "", err
	}
	if why := guard("destination", c.Dst, now); why != "" {
		return why, nil
	}
	srcNow, err := current(a.src, c.Path)
	if err != nil {
		return "", err
	}
	if why := guard("source", c.Src, srcNow); why != "" {
		return why, nil
	}
	if c.Kind == engine.KindDir {
		a.markDirMeta(c.Path)
		return "", nil
	}
	return "", a.copyMeta(c, c.Path)
}

// markDirMeta records a destination directory whose metadata to set from
// its source directory once the changes under it ran.
func (a *applier) markDirMeta(rel string) {
	if !a.copiesDirMeta() {
		return
	}
	a.mu.Lock()
	if a.dirMeta == nil {
		a.dirMeta = engine.NewDirSet()
	}
	a.dirMeta.Add(rel)
	a.mu.Unlock()
}

func (a *applier) copiesDirMeta() bool {
	for _, l := range []byte("ASOE") {
		if engine.MetaCopied(&a.spec, l, engine.KindDir) {
			return true
		}
	}
	return false
}

// restoreDirMeta sets the metadata of the directories created or tweaked,
// deepest first, after everything under them (a directory made read-only
// is written no more), before their times are restored.
func (a *applier) restoreDirMeta() {
	err := a.dirMeta.Each(func(d string) error {
		s, err := a.src.Stat(d)
		if err != nil || s.Kind != vfs.Dir {
			return nil
		}
		if dd, err := a.dst.Stat(d); err != nil || dd.Kind != vfs.Dir {
			return nil
		}
		c := &engine.Change{Kind: engine.KindDir, Path: d}
		if err := a.copyMeta(c, d); err != nil {
			a.res.Errors = append(a.res.Errors, engine.FileError{Path: d, Op: "set dir metadata", Err: errText(err)})
		}
		return nil
	})
	if err != nil {
		a.res.Errors = append(a.res.Errors, engine.FileError{Path: "", Op: "set dir metadata", Err: err.Error()})
	}
}
