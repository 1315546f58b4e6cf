package vfs

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// linkAt links obase of ofd as nbase of nfd once check accepts it: the
// file is opened (O_PATH, not following a link), checked on that
// descriptor's fstat and linked from the descriptor (linkTmpfile), so a
// name swapped between the check and the link cannot be linked instead.
// Where neither descriptor route is open to robo, the link is made by name
// after an lstat.
func linkAt(ofd int, obase string, nfd int, nbase string, check func(Entry) string) (string, error) {
	fd, err := openatRetry(ofd, obase, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &fs.PathError{Op: "open", Path: obase, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", &fs.PathError{Op: "fstat", Path: obase, Err: err}
	}
	if why := check(entryOfStat(obase, &st)); why != "" {
		return why, nil
	}
	err = linkTmpfile(fd, nfd, nbase)
	if err == errNoLink {
		return linkByName(ofd, obase, nfd, nbase, check)
	}
	return "", err
}
