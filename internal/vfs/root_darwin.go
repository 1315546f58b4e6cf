package vfs

import "golang.org/x/sys/unix"

// oSearch opens a directory only to resolve names beneath it.
const oSearch = unix.O_RDONLY

// openBeneath opens rel beneath dirfd without following a link at any
// component (the last included), one component at a time.
func openBeneath(dirfd int, rel string, flags int, mode uint32) (int, error) {
	return walkBeneath(dirfd, rel, flags, mode)
}
