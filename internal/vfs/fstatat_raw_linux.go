//go:build linux && (amd64 || arm64 || riscv64)

package vfs

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstatat lstats the NUL-terminated name cname relative to dirfd with the
// raw system call, so the name needs no conversion (and no allocation);
// on these architectures unix.Stat_t is the kernel's struct stat.
func fstatat(dirfd int, cname *byte, _ string, st *unix.Stat_t) error {
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(cname)),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
