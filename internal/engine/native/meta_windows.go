package native

import (
	"errors"
	"fmt"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// Windows security descriptors (O: owner and group SIDs, S: the DACL, U:
// the SACL) and alternate data streams (with D), between two local trees
// (vfs.SecurityFS). docs/engine.md, "Metadata classes".

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
// copy letters it handles, and a warning for what it cannot. It enables
// the privileges the set needs: SeSecurityPrivilege for U (without it
// the SACL is neither read nor written, which is said once per set),
// SeRestorePrivilege and SeBackupPrivilege for O and S (without them an
// owner other than robo's account is warned about per file, and files
// robo's account may not read fail as they would without O or S).
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
	if all&(vfs.SecOwner|vfs.SecDACL) != 0 {
		vfs.EnablePrivilege("SeRestorePrivilege")
		vfs.EnablePrivilege("SeBackupPrivilege")
	}
	if all&vfs.SecSACL != 0 {
		if err := vfs.EnablePrivilege("SeSecurityPrivilege"); err != nil {
			all &^= vfs.SecSACL
			warn = fmt.Sprintf("auditing (U: the SACL) is not copied: %v", err)
		}
		handled += "U" // copied, or warned about here
	}
	return uint8(all), handled, warn
}

// readsSecurity reports whether the scan reads security descriptors for
// an entry of kind k (then the listings alone cannot say it is the same).
func (s *scanner) readsSecurity(k engine.Kind) bool {
	return vfs.SecInfo(s.sec)&secClasses(&s.spec, k)&^vfs.SecSACL != 0
}

// fillSecurity adds the owner, group and DACL digest the set copies to m.
// The SACL is copied but not compared (robocopy does not compare it
// either; Meta has no field for it).
func (s *scanner) fillSecurity(fsys vfs.FS, side, rel string, m *engine.Meta) bool {
	which := vfs.SecInfo(s.sec) & secClasses(&s.spec, m.Kind) &^ vfs.SecSACL
	if which == 0 {
		return true
	}
	sfs, ok := fsys.(vfs.SecurityFS)
	if !ok {
		return true
	}
	sec, err := sfs.Security(rel, which)
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
	return true
}

// copySecurity writes the source's security descriptor parts the set
// copies on the destination entry dname. An owner robo may not set, or a
// SACL it may not write, is a per-file warning, not a failed copy.
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

// copyStreams copies the alternate data streams of the source file onto
// the temporary file tmp, after its data and before its rename, as
// robocopy copies them with the data (D). A file system without streams
// (FAT, exFAT) has none to copy. Streams are not compared: a change to a
// stream alone is not seen, as by robocopy.
func (a *applier) copyStreams(c *engine.Change, tmp string) error {
	if a.lsrc == nil || a.ldst == nil || !a.spec.Copies('D', false) {
		return nil
	}
	_, err := a.ldst.CopyStreams(a.lsrc, c.Path, tmp)
	if errors.Is(err, vfs.ErrNoMeta) {
		return nil
	}
	return err
}
