package vfs

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// FileFlags names the Linux inode flags of name (lsattr) that forbid
// changing it, "immutable" (chattr +i) or "append-only" (chattr +a), ""
// when it has neither or they cannot be read. robo never clears them (an
// admin set them for a reason): an update or removal that fails because
// of one says so (issue 16). Only a regular file or a directory is opened
// to read them (read-only, non-blocking, beneath the root, no link
// followed: the file is reopened through its O_PATH descriptor).
func (l *Local) FileFlags(name string) string {
	pfd, err := l.openMeta("getflags", name)
	if err != nil {
		return ""
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if unix.Fstat(pfd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return ""
	}
	fd, err := unix.Open(procFD(pfd), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	var flags int32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.FS_IOC_GETFLAGS, uintptr(unsafe.Pointer(&flags))); e != 0 {
		return ""
	}
	switch {
	case flags&fsImmutableFL != 0:
		return "immutable"
	case flags&fsAppendFL != 0:
		return "append-only"
	}
	return ""
}

// From linux/fs.h (x/sys/unix does not export them).
const (
	fsImmutableFL = 0x00000010
	fsAppendFL    = 0x00000020
)
