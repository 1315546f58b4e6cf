//go:build linux

package vfs

import (
	"fmt"
	"io/fs"
	"runtime"

	"golang.org/x/sys/unix"
)

var _ MetaFS = (*Local)(nil)

// The extended attribute calls of Linux take a path or a descriptor that
// was really opened, not an O_PATH one. robo opens the entry with O_PATH
// beneath the root (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, so a
// link is refused at any component, the last one included) and then
// names it by its /proc/self/fd/N magic link, which resolves to that very
// inode: no second path walk, no open of a device or FIFO swapped in,
// and no read permission needed on the file (as with getfattr).

// openMeta opens name beneath the root with O_PATH, refusing a link.
func (l *Local) openMeta(op, name string) (int, error) {
	h, err := l.handle()
	if err != nil {
		return -1, err
	}
	defer runtime.KeepAlive(h)
	if name == "" {
		fd, err := unix.Openat(h.fd, ".", unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, l.pathErr(op, name, err)
		}
		return fd, nil
	}
	fd, err := openBeneath(h.fd, name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, l.pathErr(op, name, resolveErr(err))
	}
	// O_PATH|O_NOFOLLOW opens a final link itself: refuse it here.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT == unix.S_IFLNK {
		unix.Close(fd)
		if err == nil {
			err = fmt.Errorf("a symbolic link: %w", ErrNoMeta)
		}
		return -1, l.pathErr(op, name, err)
	}
	return fd, nil
}

func procFD(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }

func (l *Local) Xattrs(name string, which XattrClass) ([]Xattr, error) {
	fd, err := l.openMeta("listxattr", name)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	p := procFD(fd)
	names, err := listXattrs(p)
	if err != nil {
		return nil, l.pathErr("listxattr", name, err)
	}
	var out []Xattr
	for _, n := range splitXattrNames(names, which) {
		v, err := getXattr(p, n)
		if err == unix.ENODATA {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, l.pathErr("getxattr "+n, name, err)
		}
		out = append(out, Xattr{Name: n, Value: v})
	}
	return out, nil
}

func listXattrs(p string) ([]byte, error) {
	for size := 1024; ; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Listxattr(p, buf)
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

func getXattr(p, n string) ([]byte, error) {
	for size := 256; ; size *= 4 {
		buf := make([]byte, size)
		k, err := unix.Getxattr(p, n, buf)
		if err == unix.ERANGE && size < 1<<24 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:k], nil
	}
}

func (l *Local) SetXattrs(name string, which XattrClass, xs []Xattr) error {
	fd, err := l.openMeta("setxattr", name)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	p := procFD(fd)
	names, err := listXattrs(p)
	if err != nil {
		return l.pathErr("listxattr", name, err)
	}
	want := map[string]bool{}
	for _, x := range xs {
		want[x.Name] = true
	}
	for _, n := range splitXattrNames(names, which) {
		if !want[n] {
			if err := unix.Removexattr(p, n); err != nil && err != unix.ENODATA {
				return l.pathErr("removexattr "+n, name, err)
			}
		}
	}
	for _, x := range xs {
		if !which.Has(x.Name) {
			continue
		}
		if err := unix.Setxattr(p, x.Name, x.Value, 0); err != nil {
			return l.pathErr("setxattr "+x.Name, name, err)
		}
	}
	return nil
}

func (l *Local) Chown(name string, uid, gid uint32) error {
	h, dfd, base, err := l.at("chown", name)
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(h)
	defer h.release(dfd)
	flags := unix.AT_SYMLINK_NOFOLLOW
	if base == "." {
		flags = 0 // the root itself, which is a directory we hold open
	}
	if err := unix.Fchownat(dfd, base, int(uid), int(gid), flags); err != nil {
		return l.pathErr("chown", name, err)
	}
	return nil
}

func (l *Local) Chmod(name string, mode uint32) error {
	fd, err := l.openMeta("chmod", name)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fchmodat(unix.AT_FDCWD, procFD(fd), mode&0o7777, 0); err != nil {
		return l.pathErr("chmod", name, err)
	}
	return nil
}

// copyMeta copies the metadata m asks for from the open source sfd (with
// its fstat st) to the new file dfd, in the order that keeps each: owner
// first (chown clears setuid and setgid), then the attributes (an ACL
// sets the group bits), then the exact mode. What the process may not
// set (a chown as non-root, a trusted.* attribute) goes to warn and is
// not an error of the copy.
func copyMeta(dfd int, dpath string, sfd int, st *unix.Stat_t, m MetaCopy, name string, warn func(name, msg string)) error {
	if m.Owner {
		if err := unix.Fchown(dfd, int(st.Uid), int(st.Gid)); err != nil {
			if err != unix.EPERM || warn == nil {
				return &fs.PathError{Op: "chown", Path: dpath, Err: err}
			}
			warn(name, OwnerWarning(st.Uid, st.Gid, err))
		}
	}
	if m.Xattrs != 0 {
		names, err := flistXattrs(sfd)
		if err != nil {
			return &fs.PathError{Op: "listxattr", Path: dpath, Err: err}
		}
		for _, n := range splitXattrNames(names, m.Xattrs) {
			v, err := fgetXattr(sfd, n)
			if err == unix.ENODATA {
				continue
			}
			if err == nil {
				err = unix.Fsetxattr(dfd, n, v, 0)
			}
			if err != nil {
				if (err == unix.EPERM || err == unix.ENOTSUP) && warn != nil {
					warn(name, fmt.Sprintf("extended attribute %s not kept: %v", n, err))
					continue
				}
				return &fs.PathError{Op: "setxattr " + n, Path: dpath, Err: err}
			}
		}
	}
	// The permission bits were given at creation (and fixed by fill where
	// the umask took some): a chmod is needed only for the setuid, setgid
	// and sticky bits (never given at creation, and the ones a chown
	// clears: chown(2) leaves the other bits alone), or after an ACL set
	// the group bits. A chown alone needs none.
	if m.Mode && (st.Mode&0o7000 != 0 || m.Xattrs&XattrACL != 0) {
		if err := unix.Fchmod(dfd, st.Mode&0o7777); err != nil {
			return &fs.PathError{Op: "chmod", Path: dpath, Err: err}
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
			return nil, nil
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
