package native

import (
	"errors"
	"fmt"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// NT security descriptors (O: owner and group SIDs, S: the DACL, U: the
// SACL) between two trees that carry them (vfs.SecurityFS): two local
// trees on Windows, a local tree on Windows and a share, two shares on
// any platform. docs/engine.md, "Metadata classes". Between a tree that
// carries them and one that does not (a POSIX tree and a share), nothing
// converts one model into the other: noteUnsupported says so once per set.

// secClasses are the parts of the security descriptor the set copies for
// an entry of kind k.
func secClasses(spec *engine.Spec, k engine.Kind) vfs.SecInfo {
	var w vfs.SecInfo
	if engine.MetaCopied(spec, 'O', k) {
		w |= vfs.SecOwner
	}
	if k == engine.KindSymlink {
		return w
	}
	if engine.MetaCopied(spec, 'S', k) {
		w |= vfs.SecDACL
	}
	if engine.MetaCopied(spec, 'U', k) {
		w |= vfs.SecSACL
	}
	return w
}

// platformSec returns the security parts robo can copy between src and
// dst for this set (as a mask kept in scanner.sec and applier.sec), the
// copy letters it handles, and a warning for what it cannot.
func platformSec(spec *engine.Spec, src, dst vfs.FS) (mask uint8, handled string, warn string) {
	_, sok := src.(vfs.SecurityFS)
	_, dok := dst.(vfs.SecurityFS)
	if !sok || !dok {
		return 0, "", ""
	}
	all := secClasses(spec, engine.KindFile) | secClasses(spec, engine.KindDir)
	if all == 0 {
		return 0, "", ""
	}
	handled = "SO"
	if all&vfs.SecSACL != 0 {
		handled += "U" // copied, or warned about
	}
	all, warn = enableSecPrivileges(all, src, dst)
	return uint8(all), handled, warn
}

// secOneSide is the warning for a set whose one tree carries NT security
// descriptors and the other POSIX modes, owners and ACLs (or nothing), or
// "".
func secOneSide(spec *engine.Spec, src, dst vfs.FS) string {
	_, sok := src.(vfs.SecurityFS)
	_, dok := dst.(vfs.SecurityFS)
	if sok == dok || secClasses(spec, engine.KindFile)|secClasses(spec, engine.KindDir) == 0 {
		return ""
	}
	nt, other := src, dst
	if dok {
		nt, other = dst, src
	}
	return fmt.Sprintf("security (S), owner (O) and auditing (U) are not copied between %s and %s: %s keeps NT security descriptors (SIDs and ACEs) and %s does not, and robo does not convert one into the other (docs/engine.md, \"Metadata classes\")",
		src, dst, nt, other)
}

// readsSecurity reports whether the scan reads security descriptors for
// an entry of kind k (then the listings alone cannot say it is the same).
func (s *scanner) readsSecurity(k engine.Kind) bool {
	return s.sec != 0 && s.secCompared(k) != 0
}

// secCompared is the part of the descriptor the scan compares for kind k:
// all the set copies, the SACL included until a side refused to let it be
// read (saclOff).
func (s *scanner) secCompared(k engine.Kind) vfs.SecInfo {
	w := vfs.SecInfo(s.sec) & secClasses(&s.spec, k)
	if s.saclOff {
		w &^= vfs.SecSACL
	}
	return w
}

// secRead is a descriptor read ahead (secPrefetch) for fillSecurity.
type secRead struct {
	which vfs.SecInfo
	sec   *vfs.Security
	err   error
}

// secPrefetch reads, in one batch per side (vfs.SecurityBatchFS: one
// round trip for a directory's worth on a share), the descriptors
// fillSecurity will need in dir: those of the entries present on both
// sides with the same kind, and for files the same data (those whose data
// differs are copied whole). It returns the keys it stored, for
// secForget.
func (s *scanner) secPrefetch(dir string, src, dst []vfs.Entry) []string {
	sb, sok := s.src.(vfs.SecurityBatchFS)
	db, dok := s.dst.(vfs.SecurityBatchFS)
	if s.sec == 0 || !sok && !dok {
		return nil
	}
	type group struct{ snames, dnames []string }
	groups := map[vfs.SecInfo]*group{}
	j := 0
	for _, se := range src {
		k := s.key(se.Name)
		for j < len(dst) && s.key(dst[j].Name) < k {
			j++
		}
		if j >= len(dst) || s.key(dst[j].Name) != k {
			continue
		}
		de := dst[j]
		j++
		if se.Kind != de.Kind || se.Kind == vfs.Symlink && !s.spec.CopySymlinks {
			continue
		}
		sm, dm := metaValue(se), metaValue(de)
		if se.Kind == vfs.File && engine.Classify(sm, dm, s.spec.TimeTolerance) != engine.Same {
			continue
		}
		which := s.secCompared(sm.Kind)
		if which == 0 {
			continue
		}
		g := groups[which]
		if g == nil {
			g = &group{}
			groups[which] = g
		}
		g.snames = append(g.snames, se.Name)
		g.dnames = append(g.dnames, de.Name)
	}
	if len(groups) == 0 {
		return nil
	}
	if s.secAhead == nil {
		s.secAhead = map[string]secRead{}
	}
	var keys []string
	for which, g := range groups {
		var ssecs, dsecs []*vfs.Security
		var serrs, derrs []error
		var serr, derr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			if dok {
				dsecs, derrs, derr = db.Securities(dir, g.dnames, which)
			}
		}()
		if sok {
			ssecs, serrs, serr = sb.Securities(dir, g.snames, which)
		}
		<-done
		for i, n := range g.snames {
			rel := vfs.Join(dir, n)
			if sok && serr == nil {
				keys = append(keys, "s"+rel)
				s.secAhead["s"+rel] = secRead{which, ssecs[i], serrs[i]}
			}
			if dok && derr == nil {
				keys = append(keys, "d"+rel)
				s.secAhead["d"+rel] = secRead{which, dsecs[i], derrs[i]}
			}
		}
		// A batch that failed as a whole is read again one by one
		// by fillSecurity, whose error then names the file.
	}
	return keys
}

// secForget drops the descriptors read ahead for a directory that
// fillSecurity did not take.
func (s *scanner) secForget(keys []string) {
	for _, k := range keys {
		delete(s.secAhead, k)
	}
}

// fillSecurity adds the owner, group and DACL digest the set copies to m.
func (s *scanner) fillSecurity(fsys vfs.FS, side, rel string, m *engine.Meta) bool {
	which := s.secCompared(m.Kind)
	if which == 0 {
		return true
	}
	sfs, ok := fsys.(vfs.SecurityFS)
	if !ok {
		return true
	}
	key := side[:1] + rel // "s" or "d"
	var sec *vfs.Security
	var err error
	if r, ok := s.secAhead[key]; ok && r.which == which {
		delete(s.secAhead, key)
		sec, err = r.sec, r.err
	} else {
		sec, err = sfs.Security(rel, which)
	}
	if errors.Is(err, vfs.ErrPrivilege) && which&vfs.SecSACL != 0 {
		// The SACL needs a privilege the share's account lacks: it is
		// not compared for the rest of the set (copying it is warned
		// about per file), and this entry is read again without it.
		if !s.saclOff {
			s.saclOff = true
			s.res.Warnings = append(s.res.Warnings, fmt.Sprintf("auditing (U: the SACL) is not compared: reading it on the %s was refused: %s", side, errText(err)))
		}
		which &^= vfs.SecSACL
		sec, err = sfs.Security(rel, which)
	}
	if err == nil && sec == nil {
		err = errors.New("no security descriptor was read")
	}
	if err != nil {
		s.fail("read "+side+" security descriptor", rel, err)
		return false
	}
	if which&vfs.SecOwner != 0 {
		x := m.SetCopied()
		x.Owner, x.Group = sec.Owner, sec.Group
	}
	if which&vfs.SecDACL != 0 {
		m.SetCopied().ACL = engine.MetaDigest(sec.DACL)
	}
	if which&vfs.SecSACL != 0 {
		m.SetCopied().SACL = engine.MetaDigest(sec.SACL)
	}
	return true
}

// copySecurity writes the source's security descriptor parts the set
// copies on the destination entry dname. An owner robo may not set, or a
// SACL it may not read or write, is a per-file warning, not a failed copy.
func (a *applier) copySecurity(c *engine.Change, dname string) error {
	which := vfs.SecInfo(a.sec) & secClasses(&a.spec, c.Kind)
	if which == 0 {
		return nil
	}
	sfs, sok := a.src.(vfs.SecurityFS)
	dfs, dok := a.dst.(vfs.SecurityFS)
	if !sok || !dok {
		return nil
	}
	sec, err := sfs.Security(c.Path, which)
	if errors.Is(err, vfs.ErrPrivilege) && which&vfs.SecSACL != 0 {
		a.warn(c.Path, "auditing (SACL) not kept: "+errText(err))
		which &^= vfs.SecSACL
		if which == 0 {
			return nil
		}
		sec, err = sfs.Security(c.Path, which)
	}
	if err != nil {
		return err
	}
	err = dfs.SetSecurity(dname, which, sec)
	switch {
	case errors.Is(err, vfs.ErrOwnerNotKept):
		a.warn(c.Path, fmt.Sprintf("owner %s:%s not kept: %s", sec.Owner, sec.Group, errText(err)))
		return nil
	case errors.Is(err, vfs.ErrPrivilege):
		a.warn(c.Path, "security descriptor not kept: "+errText(err))
		return nil
	}
	return err
}
