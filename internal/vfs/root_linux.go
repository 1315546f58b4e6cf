package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// oSearch opens a directory only to resolve names beneath it.
const oSearch = unix.O_PATH

var (
	openat2Once sync.Once
	noOpenat2   bool
)

// openBeneath opens rel beneath dirfd without following a link at any
// component (the last included) and without leaving dirfd's tree: openat2
// with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS (Linux 5.6), one system call
// whatever the depth. Where the kernel (or a seccomp filter) has no
// openat2, the same walk is made one component at a time.
func openBeneath(dirfd int, rel string, flags int, mode uint32) (int, error) {
	openat2Once.Do(func() {
		fd, err := unix.Openat2(unix.AT_FDCWD, "/", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC})
		if err != nil {
			noOpenat2 = true
			return
		}
		unix.Close(fd)
	})
	if noOpenat2 {
		return walkBeneath(dirfd, rel, flags, mode)
	}
	if !cleanName(rel) || rel == "" {
		return -1, unix.EXDEV
	}
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS}
	if flags&(unix.O_CREAT|unix.O_TMPFILE) != 0 {
		how.Mode = uint64(mode)
	}
	for {
		fd, err := unix.Openat2(dirfd, rel, &how)
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}
