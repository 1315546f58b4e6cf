package vfs

import (
	"errors"
	"io/fs"
	"os"
)

// clearReadOnly clears the read-only attribute of name when it is set
// (Windows refuses to delete or replace a read-only file; robocopy clears
// it, and so does robo's SMB client). It reports whether it did.
func clearReadOnly(r *os.Root, name string) bool {
	fi, err := r.Lstat(osName(name))
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o200 != 0 {
		return false
	}
	return r.Chmod(osName(name), 0o666) == nil
}

// deniedReadOnly reports whether err may be Windows refusing a read-only
// file.
func deniedReadOnly(err error) bool { return errors.Is(err, fs.ErrPermission) }
