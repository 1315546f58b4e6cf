//go:build linux || darwin

package vfs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// rootHandle is the open root directory. Its descriptor is closed when the
// handle is garbage: every operation keeps the handle alive while it uses
// the descriptor (runtime.KeepAlive).
type rootHandle struct{ fd int }

// openRoot opens the root directory: links on the way to it are followed
// (they are part of the configured path), a link as its last component is
// not.
func openRoot(root string) (*rootHandle, error) {
	fd, err := unix.Open(root, oSearch|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if (err == unix.ELOOP || err == unix.ENOTDIR) && rootIsLink(root) {
			return nil, &fs.PathError{Op: "open", Path: root, Err: ErrNotFollowed}
		}
		return nil, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	h := &rootHandle{fd: fd}
	runtime.AddCleanup(h, func(fd int) { unix.Close(fd) }, fd)
	return h, nil
}

// close does nothing: see Local.Close.
func (h *rootHandle) close() error { return nil }

func rootIsLink(root string) bool {
	fi, err := os.Lstat(root)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

func (h *rootHandle) id() (FileID, error) {
	var st unix.Stat_t
	err := unix.Fstat(h.fd, &st)
	runtime.KeepAlive(h)
	if err != nil {
		return FileID{}, err
	}
	return FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, nil
}

// release closes a directory descriptor that dirAt or at returned, unless
// it is the root's own.
func (h *rootHandle) release(fd int) {
	if fd != h.fd {
		unix.Close(fd)
	}
}

// resolveErr turns what a path walk refused because of a link into
// ErrNotFollowed: ELOOP (a link) and EXDEV (openat2 refusing to leave the
// root). ENOTDIR (a file where a directory was) stays what it is: an
// error of the operation, as it always was.
func resolveErr(err error) error {
	switch err {
	case unix.ELOOP, unix.EXDEV:
		return ErrNotFollowed
	}
	return err
}

// openDirNoFollow opens the directory el of dirfd without following a
// link; a link there fails with ELOOP (O_NOFOLLOW|O_DIRECTORY says
// ENOTDIR for a link on Linux, so that case is told apart by an lstat).
func openDirNoFollow(dirfd int, el string) (int, error) {
	fd, err := openatRetry(dirfd, el, oSearch|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ENOTDIR {
		var st unix.Stat_t
		if unix.Fstatat(dirfd, el, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			err = unix.ELOOP
		}
	}
	return fd, err
}

func (l *Local) pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: l.Path(name), Err: err}
}

// dirAt opens the directory dir beneath the root for use as the base of
// *at calls ("" is the root's own descriptor); release it with h.release.
func (l *Local) dirAt(op, dir string) (*rootHandle, int, error) {
	if !cleanName(dir) {
		return nil, -1, l.pathErr(op, dir, fs.ErrInvalid)
	}
	h, err := l.handle()
	if err != nil {
		return nil, -1, err
	}
	if dir == "" {
		return h, h.fd, nil
	}
	fd, err := openBeneath(h.fd, dir, oSearch|unix.O_DIRECTORY, 0)
	if err != nil {
		runtime.KeepAlive(h)
		return nil, -1, l.pathErr(op, dir, resolveErr(err))
	}
	return h, fd, nil
}

// at resolves the parent directory of name beneath the root and returns
// its descriptor and the name's last element ("." for the root itself).
func (l *Local) at(op, name string) (h *rootHandle, dfd int, base string, err error) {
	if name == "" {
		h, dfd, err = l.dirAt(op, "")
		return h, dfd, ".", err
	}
	dir, base := split(name)
	if base == "" || base == "." || base == ".." {
		return nil, -1, "", l.pathErr(op, name, fs.ErrInvalid)
	}
	h, dfd, err = l.dirAt(op, dir)
	if err != nil {
		if pe, ok := err.(*fs.PathError); ok {
			pe.Path = l.Path(name)
		}
	}
	return h, dfd, base, err
}

// walkBeneath opens rel beneath dirfd one component at a time, each
// directory with O_NOFOLLOW|O_DIRECTORY and the last one with flags and
// O_NOFOLLOW: the portable form of openat2's RESOLVE_NO_SYMLINKS.
func walkBeneath(dirfd int, rel string, flags int, mode uint32) (int, error) {
	if !cleanName(rel) || rel == "" {
		return -1, unix.EXDEV
	}
	fd := dirfd
	for {
		el := rel
		i := indexSlash(rel)
		if i < 0 {
			nfd, err := openatRetry(fd, el, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
			if err == unix.ENOTDIR && flags&unix.O_DIRECTORY != 0 {
				var st unix.Stat_t
				if unix.Fstatat(fd, el, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
					err = unix.ELOOP
				}
			}
			if fd != dirfd {
				unix.Close(fd)
			}
			return nfd, err
		}
		el, rel = rel[:i], rel[i+1:]
		nfd, err := openDirNoFollow(fd, el)
		if fd != dirfd {
			unix.Close(fd)
		}
		if err != nil {
			return -1, err
		}
		fd = nfd
	}
}

func indexSlash(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

func openatRetry(dirfd int, name string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, mode)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func (l *Local) Stat(name string) (Entry, error) {
	var st unix.Stat_t
	if name == "" {
		h, err := l.handle()
		if err != nil {
			// A root that is a link or a file: say what it is.
			if fi, lerr := os.Lstat(l.root); lerr == nil && !fi.IsDir() {
				return entryOf(fi.Name(), fi), nil
			}
			return Entry{}, err
		}
		err = unix.Fstat(h.fd, &st)
		runtime.KeepAlive(h)
		if err != nil {
			return Entry{}, l.pathErr("fstat", name, err)
		}
		return entryOfStat(filepath.Base(l.root), &st), nil
	}
	h, dfd, base, err := l.at("lstat", name)
	if err != nil {
		return Entry{}, err
	}
	err = unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	h.release(dfd)
	runtime.KeepAlive(h)
	if err != nil {
		return Entry{}, l.pathErr("lstat", name, err)
	}
	return entryOfStat(base, &st), nil
}

// openDir opens a directory beneath the root for reading.
func (l *Local) openDir(name string) (*rootHandle, int, error) {
	if !cleanName(name) {
		return nil, -1, l.pathErr("open", name, fs.ErrInvalid)
	}
	h, err := l.handle()
	if err != nil {
		return nil, -1, err
	}
	var fd int
	if name == "" {
		fd, err = openatRetry(h.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	} else {
		fd, err = openBeneath(h.fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		err = resolveErr(err)
	}
	runtime.KeepAlive(h)
	if err != nil {
		return nil, -1, l.pathErr("open", name, err)
	}
	return h, fd, nil
}

func (l *Local) ReadDir(name string) ([]Entry, error) {
	_, fd, err := l.openDir(name)
	if err != nil {
		return nil, err
	}
	return readDirFD(fd, l.Path(name))
}

func (l *Local) Open(name string) (Reader, error) {
	if name == "" || !cleanName(name) {
		return nil, l.pathErr("open", name, fs.ErrInvalid)
	}
	h, err := l.handle()
	if err != nil {
		return nil, err
	}
	// O_NONBLOCK: a FIFO swapped in is not waited on; it is refused below.
	fd, err := openBeneath(h.fd, name, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	runtime.KeepAlive(h)
	if err != nil {
		return nil, l.pathErr("open", name, resolveErr(err))
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		if err == nil {
			err = errors.New("not a regular file")
		}
		return nil, l.pathErr("open", name, err)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, l.pathErr("open", name, err)
	}
	return os.NewFile(uintptr(fd), l.Path(name)), nil
}

func (l *Local) CreateTemp(dir, prefix string, perm fs.FileMode) (Writer, string, error) {
	h, dfd, err := l.dirAt("create", dir)
	if err != nil {
		return nil, "", err
	}
	defer runtime.KeepAlive(h)
	defer h.release(dfd)
	for range 10 {
		var b [6]byte
		rand.Read(b[:])
		base := prefix + hex.EncodeToString(b[:]) + ".tmp"
		fd, err := openatRetry(dfd, base, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == unix.EEXIST {
			continue
		}
		name := Join(dir, base)
		if err != nil {
			return nil, "", l.pathErr("create", name, err)
		}
		if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
			unix.Close(fd)
			unix.Unlinkat(dfd, base, 0)
			return nil, "", l.pathErr("chmod", name, err)
		}
		return os.NewFile(uintptr(fd), l.Path(name)), name, nil
	}
	return nil, "", l.pathErr("create", dir, errors.New("no unique temporary name after 10 attempts"))
}

func (l *Local) Rename(oldname, newname string) error {
	lerr := func(err error) error {
		return &os.LinkError{Op: "rename", Old: l.Path(oldname), New: l.Path(newname), Err: err}
	}
	if oldname == "" || newname == "" {
		return lerr(fs.ErrInvalid)
	}
	h, ofd, obase, err := l.at("rename", oldname)
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(h)
	defer h.release(ofd)
	od, _ := split(oldname)
	nd, nbase := split(newname)
	nfd := ofd
	if nd != od {
		var err error
		if _, nfd, err = l.dirAt("rename", nd); err != nil {
			return err
		}
		defer h.release(nfd)
	}
	if nbase == "" || nbase == "." || nbase == ".." {
		return lerr(fs.ErrInvalid)
	}
	if err := unix.Renameat(ofd, obase, nfd, nbase); err != nil {
		return lerr(err)
	}
	return nil
}

func (l *Local) Chtimes(name string, mtime time.Time) error {
	h, dfd, base, err := l.at("chtimes", name)
	if err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(time.Now().UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	err = unix.UtimesNanoAt(dfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
	h.release(dfd)
	runtime.KeepAlive(h)
	if err != nil {
		return l.pathErr("chtimes", name, err)
	}
	return nil
}

func (l *Local) Mkdir(name string, perm fs.FileMode) error {
	if name == "" {
		return l.pathErr("mkdir", name, fs.ErrInvalid)
	}
	h, dfd, base, err := l.at("mkdir", name)
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(h)
	defer h.release(dfd)
	err = unix.Mkdirat(dfd, base, uint32(perm.Perm()))
	if err == unix.EEXIST {
		var st unix.Stat_t
		if unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return nil
		}
	}
	if err != nil {
		return l.pathErr("mkdir", name, err)
	}
	return nil
}

// MkdirAll creates a directory and its missing parents. For the root
// (name "") the configured path is created as os.MkdirAll does, following
// links on the way (they are part of the configured path); below the root
// every component is created and entered without following links.
func (l *Local) MkdirAll(name string) error {
	if name == "" {
		if err := os.MkdirAll(l.root, 0o755); err != nil {
			return err
		}
		_, err := l.handle()
		return err
	}
	if !cleanName(name) {
		return l.pathErr("mkdir", name, fs.ErrInvalid)
	}
	h, err := l.handle()
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(h)
	fd := h.fd
	defer func() { h.release(fd) }()
	rest := name
	for rest != "" {
		el := rest
		if i := indexSlash(rest); i >= 0 {
			el, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if err := unix.Mkdirat(fd, el, 0o755); err != nil && err != unix.EEXIST {
			return l.pathErr("mkdir", name, err)
		}
		nfd, err := openDirNoFollow(fd, el)
		if err != nil {
			return l.pathErr("mkdir", name, resolveErr(err))
		}
		h.release(fd)
		fd = nfd
	}
	return nil
}

func (l *Local) Remove(name string) error {
	if name == "" {
		return l.pathErr("remove", name, errors.New("refusing to remove the root"))
	}
	h, dfd, base, err := l.at("remove", name)
	if err != nil {
		return err
	}
	defer runtime.KeepAlive(h)
	defer h.release(dfd)
	// As os.Remove: unlink, then rmdir, and the error that says more.
	e := unix.Unlinkat(dfd, base, 0)
	if e == nil {
		return nil
	}
	e1 := unix.Unlinkat(dfd, base, unix.AT_REMOVEDIR)
	if e1 == nil {
		return nil
	}
	if e1 != unix.ENOTDIR {
		e = e1
	}
	return l.pathErr("remove", name, e)
}

func (l *Local) Symlink(target, name string) error {
	h, dfd, base, err := l.at("symlink", name)
	if err != nil {
		return err
	}
	err = unix.Symlinkat(target, dfd, base)
	h.release(dfd)
	runtime.KeepAlive(h)
	if err != nil {
		return &os.LinkError{Op: "symlink", Old: target, New: l.Path(name), Err: err}
	}
	return nil
}

func (l *Local) Readlink(name string) (string, error) {
	h, dfd, base, err := l.at("readlink", name)
	if err != nil {
		return "", err
	}
	defer runtime.KeepAlive(h)
	defer h.release(dfd)
	for n := 256; ; n *= 2 {
		b := make([]byte, n)
		k, err := unix.Readlinkat(dfd, base, b)
		if err != nil {
			return "", l.pathErr("readlink", name, err)
		}
		if k < n {
			return string(b[:k]), nil
		}
	}
}

var _ Linker = (*Local)(nil)

// Link implements Linker: linkat(2) between the parent directories of the
// two names, resolved beneath the root; on Linux the link is made from a
// descriptor of the checked file (linkAt), so the inode checked is the
// inode linked.
func (l *Local) Link(oldname, newname string, check func(old Entry) string) (skip string, err error) {
	lerr := func(err error) error {
		return &os.LinkError{Op: "link", Old: l.Path(oldname), New: l.Path(newname), Err: err}
	}
	if oldname == "" || newname == "" || oldname == newname {
		return "", lerr(fs.ErrInvalid)
	}
	h, ofd, obase, err := l.at("link", oldname)
	if err != nil {
		return "", err
	}
	defer runtime.KeepAlive(h)
	defer h.release(ofd)
	_, nfd, nbase, err := l.at("link", newname)
	if err != nil {
		return "", err
	}
	defer h.release(nfd)
	skip, err = linkAt(ofd, obase, nfd, nbase, check)
	if err != nil {
		if pe, ok := err.(*fs.PathError); ok {
			pe.Path = l.Path(oldname)
			return "", pe
		}
		return "", lerr(err)
	}
	return skip, nil
}
