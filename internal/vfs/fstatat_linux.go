//go:build linux && !(amd64 || arm64 || riscv64)

package vfs

import "golang.org/x/sys/unix"

// fstatat lstats name relative to dirfd (unix.Fstatat: on these
// architectures it may convert the kernel's structure).
func fstatat(dirfd int, _ *byte, name string, st *unix.Stat_t) error {
	return unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
}
