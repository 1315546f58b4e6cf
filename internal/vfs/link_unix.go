//go:build linux || darwin

package vfs

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// linkByName lstats obase of ofd, checks it and links it as nbase of nfd
// with linkat(2), which follows no link at either name. An entry swapped
// in between the lstat and the link is found by a second lstat of the new
// name, which must be the inode checked; otherwise the new name is
// removed and the link skipped. Either way only entries beneath the root
// are involved.
func linkByName(ofd int, obase string, nfd int, nbase string, check func(Entry) string) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(ofd, obase, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return "", &fs.PathError{Op: "lstat", Path: obase, Err: err}
	}
	if why := check(entryOfStat(obase, &st)); why != "" {
		return why, nil
	}
	if err := unix.Linkat(ofd, obase, nfd, nbase, 0); err != nil {
		return "", err
	}
	var nst unix.Stat_t
	if err := unix.Fstatat(nfd, nbase, &nst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return "", &fs.PathError{Op: "lstat", Path: nbase, Err: err}
	}
	if nst.Dev != st.Dev || nst.Ino != st.Ino {
		unix.Unlinkat(nfd, nbase, 0)
		return "the destination file to link to changed while it was linked", nil
	}
	return "", nil
}
