package native

import (
	"errors"
	"fmt"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// Windows: the privileges security descriptors need (security.go copies
// them), and alternate data streams (with D), between two local trees.
// docs/engine.md, "Metadata classes".

// enableSecPrivileges enables the privileges the security parts all
// need on this machine (a local tree: SeSecurityPrivilege for U, without
// which the SACL is neither read nor written, which is said once per set;
// SeRestorePrivilege and SeBackupPrivilege for O and S, without which an
// owner other than robo's account is warned about per file, and files
// robo's account may not read fail as they would without O or S), and
// returns the parts it can copy and a warning for the others. A share's
// privileges are the server's: refusals there are per-file warnings.
func enableSecPrivileges(all vfs.SecInfo, src, dst vfs.FS) (vfs.SecInfo, string) {
	_, sl := src.(*vfs.Local)
	_, dl := dst.(*vfs.Local)
	if !sl && !dl {
		return all, ""
	}
	if all&(vfs.SecOwner|vfs.SecDACL) != 0 {
		vfs.EnablePrivilege("SeRestorePrivilege")
		vfs.EnablePrivilege("SeBackupPrivilege")
	}
	if all&vfs.SecSACL != 0 {
		if err := vfs.EnablePrivilege("SeSecurityPrivilege"); err != nil {
			return all &^ vfs.SecSACL, fmt.Sprintf("auditing (U: the SACL) is not copied: %v", err)
		}
	}
	return all, ""
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
