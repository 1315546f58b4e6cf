//go:build darwin

package vfs

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

var _ MetaFS = (*Local)(nil)

// On macOS robo sets owners and modes with fchownat and fchmodat
// (AT_SYMLINK_NOFOLLOW) in the parent's descriptor. Extended attributes
// (com.apple.*) and ACLs are not read or written yet: the calls that take
// a descriptor need one opened for reading, which robo does not do for
// metadata (docs/engine.md, "Metadata classes").

func (l *Local) Xattrs(name string, which XattrClass) ([]Xattr, error) {
	return nil, l.pathErr("listxattr", name, fmt.Errorf("extended attributes on macOS: %w", ErrNoMeta))
}

func (l *Local) SetXattrs(name string, which XattrClass, xs []Xattr) error {
	return l.pathErr("setxattr", name, fmt.Errorf("extended attributes on macOS: %w", ErrNoMeta))
}

func (l *Local) Chown(name string, uid, gid uint32) error {
	h, dfd, base, err := l.at("chown", name)
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(h)
	defer h.release(dfd)
	if err := unix.Fchownat(dfd, base, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return l.pathErr("chown", name, err)
	}
	return nil
}

func (l *Local) Chmod(name string, mode uint32) error {
	h, dfd, base, err := l.at("chmod", name)
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(h)
	defer h.release(dfd)
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return l.pathErr("chmod", name, fmt.Errorf("a symbolic link: %w", ErrNoMeta))
	}
	if err := unix.Fchmodat(dfd, base, mode&0o7777, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return l.pathErr("chmod", name, err)
	}
	return nil
}
