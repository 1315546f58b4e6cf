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
// (com.apple.quarantine, com.apple.metadata:*, com.apple.FinderInfo, the
// resource fork com.apple.ResourceFork, user-defined ones) are all of the
// class XattrOther (robo's E): macOS ACLs are not extended attributes
// (acl(3)) and are not read (S is not supported on macOS).
//
// macOS has no O_PATH: the entry is opened for reading (O_RDONLY with
// O_NOFOLLOW, so a final link is refused, and O_NONBLOCK, so a FIFO does
// not block) in its parent's descriptor, which the component walk beneath
// the root opened without following a link (walkBeneath). Only a regular
// file or a directory is opened, as seen by an fstatat of the name first
// and checked again by an fstat of what was opened: a device, FIFO or
// socket is ErrNoMeta, nothing is opened that could react to an open.
// The attributes are then read and written on that descriptor
// (flistxattr, fgetxattr, fsetxattr, fremovexattr): no second path walk.
// Unlike Linux's O_PATH this needs read permission on the entry, which
// root (robo's usual account) has.

// openMeta opens name beneath the root for its extended attributes,
// refusing a link and anything but a regular file or a directory.
func (l *Local) openMeta(op, name string) (int, error) {
	h, dfd, base, err := l.at(op, name)
	if err != nil {
		return -1, err
	}
	defer runtime.KeepAlive(h)
	defer h.release(dfd)
	var before unix.Stat_t
	if err := unix.Fstatat(dfd, base, &before, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return -1, l.pathErr(op, name, err)
	}
	if err := metaKind(before.Mode); err != nil {
		return -1, l.pathErr(op, name, err)
	}
	fd, err := openatRetry(dfd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ELOOP {
			err = fmt.Errorf("a symbolic link: %w", ErrNoMeta)
		}
		return -1, l.pathErr(op, name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Dev != before.Dev || st.Ino != before.Ino || metaKind(st.Mode) != nil {
		unix.Close(fd)
		if err == nil {
			err = fmt.Errorf("the entry changed while being opened: %w", unix.EAGAIN)
		}
		return -1, l.pathErr(op, name, err)
	}
	return fd, nil
}

// metaKind is nil for the kinds of entry whose attributes robo reads on
// macOS: regular files and directories.
func metaKind(mode uint16) error {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
		return nil
	case unix.S_IFLNK:
		return fmt.Errorf("a symbolic link: %w", ErrNoMeta)
	}
	return fmt.Errorf("extended attributes of a device, FIFO or socket on macOS: %w", ErrNoMeta)
}

func (l *Local) Xattrs(name string, which XattrClass) ([]Xattr, error) {
	fd, err := l.openMeta("listxattr", name)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	names, err := flistXattrs(fd)
	if err != nil {
		return nil, l.pathErr("listxattr", name, err)
	}
	var out []Xattr
	for _, n := range splitXattrNames(names, which) {
		v, err := fgetXattr(fd, n)
		if err == unix.ENOATTR {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, l.pathErr("getxattr "+n, name, err)
		}
		out = append(out, Xattr{Name: n, Value: v})
	}
	return out, nil
}

func (l *Local) SetXattrs(name string, which XattrClass, xs []Xattr) error {
	fd, err := l.openMeta("setxattr", name)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	names, err := flistXattrs(fd)
	if err != nil {
		return l.pathErr("listxattr", name, err)
	}
	want := map[string]bool{}
	for _, x := range xs {
		want[x.Name] = true
	}
	for _, n := range splitXattrNames(names, which) {
		if !want[n] {
			if err := unix.Fremovexattr(fd, n); err != nil && err != unix.ENOATTR {
				return l.pathErr("removexattr "+n, name, err)
			}
		}
	}
	for _, x := range xs {
		if !which.Has(x.Name) {
			continue
		}
		if err := unix.Fsetxattr(fd, x.Name, x.Value, 0); err != nil {
			return l.pathErr("setxattr "+x.Name, name, err)
		}
	}
	return nil
}

func flistXattrs(fd int) ([]byte, error) {
	for size := 1024; ; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Flistxattr(fd, buf)
		if err == unix.ERANGE && size < 1<<24 {
			continue
		}
		if err == unix.ENOTSUP {
			return nil, nil // a file system without xattrs holds none
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

func fgetXattr(fd int, n string) ([]byte, error) {
	for size := 256; ; size *= 4 {
		buf := make([]byte, size)
		k, err := unix.Fgetxattr(fd, n, buf)
		if err == unix.ERANGE && size < 1<<24 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:k], nil
	}
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
