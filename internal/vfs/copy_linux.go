//go:build linux

package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNoFastCopy is returned by (*Local).ReplaceFile and CopyNewFile when
// the fast path cannot
// handle a file (it is not a regular file any more, it cannot be opened, or
// the platform has no fast path); the caller falls back to the portable
// Open/CreateTemp/Rename path, whose guards report what happened.
var ErrNoFastCopy = errors.New("fast copy not possible")

// FastCopy says whether (*Local).CopyNewFile and ReplaceFile can
// copy on this platform (else they always return ErrNoFastCopy).
const FastCopy = true

// CopyChecks are the caller's guards, run by (*Local).ReplaceFile and
// CopyNewFile on the
// already-open source descriptor, so no second lstat by path is needed.
type CopyChecks struct {
	// Before sees the source as opened (fstat) and returns a reason to
	// skip the copy, or "".
	Before func(src Entry) string
	// After sees the source again once its bytes were copied, with the
	// number of bytes read, and returns a reason to skip, or "".
	After func(n int64, src Entry) string
	// Stop is asked between chunks whether to stop; the copy then returns
	// the error it gives.
	Stop func() error
	// Chunk is how many bytes are copied between two calls to Stop.
	Chunk int64
	// Meta is the metadata written on the new file from the source's
	// descriptor after its bytes and before its time (copyMeta); Warn
	// receives what the process may not set (an owner as non-root), with
	// the file's name.
	Meta MetaCopy
	Warn func(name, msg string)
}

// CopyNewFile copies the regular file name of src to the same name in l,
// where nothing may exist yet, so that the name appears only with the
// complete copy and its modification time: the bytes go into an anonymous
// file of the destination directory (O_TMPFILE), which linkat(2) gives its
// name at the end. linkat never replaces, so a name that appeared since the
// plan was made fails with an error matching fs.ErrExist and is left alone.
// On any error or skip nothing of the copy is left behind (the anonymous
// file is freed when closed). It returns ErrNoFastCopy, having changed
// nothing, where the file system has no O_TMPFILE or the link cannot be
// made without privileges robo lacks and /proc is not mounted: the caller
// then copies through a temporary name.
func (l *Local) CopyNewFile(src *Local, name string, perm fs.FileMode, mtime time.Time, checks CopyChecks) (skip string, err error) {
	if l.noTmpfile.Load() {
		return "", ErrNoFastCopy
	}
	sfd, st, skip, err := openSource(src, name, checks)
	if sfd < 0 {
		return skip, err
	}
	defer unix.Close(sfd)
	h, pfd, base, err := l.at("open", name)
	if err != nil {
		return "", err
	}
	defer runtime.KeepAlive(h)
	defer h.release(pfd)
	dir := l.Path(parentOf(name))
	dfd, err := openatRetry(pfd, ".", unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, uint32(perm.Perm()))
	switch err {
	case nil:
	case unix.EOPNOTSUPP, unix.EISDIR, unix.EINVAL:
		l.noTmpfile.Store(true)
		return "", ErrNoFastCopy
	default:
		return "", &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	dpath := l.Path(name)
	if skip, err := l.fill(dfd, dpath, sfd, src.Path(name), name, st, perm, mtime, checks); skip != "" || err != nil {
		return skip, err
	}
	if err := linkTmpfile(dfd, pfd, base); err != nil {
		if err == errNoLink {
			l.noTmpfile.Store(true)
			return "", ErrNoFastCopy
		}
		return "", &os.LinkError{Op: "link", Old: "(new file)", New: dpath, Err: err}
	}
	return "", nil
}

// openSource opens the source without following links and runs the Before
// check on its fstat. sfd < 0 means no copy: skip or err say why, or the
// pair is ("", ErrNoFastCopy).
func openSource(src *Local, name string, checks CopyChecks) (sfd int, st unix.Stat_t, skip string, err error) {
	h, err := src.handle()
	if err != nil || name == "" {
		return -1, st, "", ErrNoFastCopy
	}
	sfd, err = openBeneath(h.fd, name, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	runtime.KeepAlive(h)
	if err != nil {
		return -1, st, "", ErrNoFastCopy
	}
	if err := unix.Fstat(sfd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(sfd)
		return -1, st, "", ErrNoFastCopy
	}
	if why := checks.Before(entryOfStat(name, &st)); why != "" {
		unix.Close(sfd)
		return -1, st, why, nil
	}
	return sfd, st, "", nil
}

// fill writes the open source sfd into the new descriptor dfd of l (dpath
// names it in errors): mode, bytes, the After check, modification time. The
// bytes take the route l.routes remembers for the source's file system.
func (l *Local) fill(dfd int, dpath string, sfd int, spath, name string, st unix.Stat_t, perm fs.FileMode, mtime time.Time, checks CopyChecks) (skip string, err error) {
	if perm.Perm()&^umask() != perm.Perm() {
		if err := unix.Fchmod(dfd, uint32(perm.Perm())); err != nil {
			return "", &fs.PathError{Op: "chmod", Path: dpath, Err: err}
		}
	}
	var n int64
	dev := uint64(st.Dev)
	route := l.routes.get(dev)
	was := route
	if sparse(&st) {
		n, err = copySparseFD(dfd, sfd, st.Size, checks, &route)
	} else {
		n, err = copyFD(dfd, sfd, st.Size, checks, &route)
	}
	if route != was {
		l.routes.set(dev, route)
	}
	if err != nil {
		if isErrno(err) {
			return "", &fs.PathError{Op: "copy", Path: dpath, Err: err}
		}
		return "", err // from checks.Stop
	}
	if err := unix.Fstat(sfd, &st); err != nil {
		return "", &fs.PathError{Op: "fstat", Path: spath, Err: err}
	}
	if why := checks.After(n, entryOfStat(name, &st)); why != "" {
		return why, nil
	}
	if err := copyMeta(dfd, dpath, sfd, &st, checks.Meta, name, checks.Warn); err != nil {
		return "", err
	}
	ts := []unix.Timespec{{Sec: 0, Nsec: unix.UTIME_NOW}, unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(dfd, "", ts, unix.AT_EMPTY_PATH); err != nil {
		return "", &fs.PathError{Op: "chtimes", Path: dpath, Err: err}
	}
	return "", nil
}

// errNoLink: neither way of linking an O_TMPFILE file is available.
var errNoLink = errors.New("cannot link an anonymous file")

// noEmptyPathLink is set once linkat(AT_EMPTY_PATH) was refused: it needs
// CAP_DAC_READ_SEARCH. The /proc/self/fd route needs only a mounted /proc.
var noEmptyPathLink atomic.Bool

// linkTmpfile gives the anonymous file fd the name base in the directory
// dirfd, failing with EEXIST if the name exists.
func linkTmpfile(fd, dirfd int, base string) error {
	if !noEmptyPathLink.Load() {
		err := unix.Linkat(fd, "", dirfd, base, unix.AT_EMPTY_PATH)
		if err != unix.ENOENT && err != unix.EPERM {
			return err
		}
		// ENOENT is also what an unprivileged AT_EMPTY_PATH gets; try the
		// /proc route before believing the directory is gone.
	}
	err := unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", fd), dirfd, base, unix.AT_SYMLINK_FOLLOW)
	switch {
	case err == nil:
		noEmptyPathLink.Store(true)
	case err == unix.ENOENT:
		if _, serr := os.Stat("/proc/self/fd"); serr != nil {
			return errNoLink
		}
	}
	return err
}

func parentOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

func isErrno(err error) bool {
	var e unix.Errno
	return errors.As(err, &e)
}

// copyFD copies sfd to dfd by the route *route names (copy_file_range,
// then sendfile, then read and write through a pooled buffer), in chunks
// between which checks.Stop is asked. A call that the pair of file systems
// refuses outright, before any byte moved, moves the file to the next
// route; when the refusal is one the pair will always give (errSticky),
// *route is left there so the caller remembers it for the next file
// (routeCache). It stops at size, the source's size when it was opened,
// without the call that would confirm the end of the file: a file that
// grew meanwhile has another size in the After check's fstat, which skips
// the copy.
func copyFD(dfd, sfd int, size int64, checks CopyChecks, route *copyRoute) (int64, error) {
	var n int64
	if size == 0 {
		return 0, nil
	}
	r := *route
	var buf *[]byte
	defer func() {
		if buf != nil {
			bufPool.Put(buf)
		}
	}()
	for {
		if err := checks.Stop(); err != nil {
			return n, err
		}
		chunk := checks.Chunk
		var got int64
		for got < chunk {
			want := int(min(chunk-got, 1<<30))
			var k int
			var err error
			switch r {
			case routeCFR:
				k, err = unix.CopyFileRange(sfd, nil, dfd, nil, want, 0)
				if err != nil && n+got == 0 && cfrRefused(err) {
					r = routeSendfile
					if errSticky(err) {
						*route = r
					}
					continue
				}
			case routeSendfile:
				k, err = unix.Sendfile(dfd, sfd, nil, want)
				if err != nil && n+got == 0 && sendfileRefused(err) {
					r = routeRW
					if errSticky(err) {
						*route = r
					}
					continue
				}
			default:
				if buf == nil {
					buf = bufPool.Get().(*[]byte)
				}
				b := *buf
				k, err = unix.Read(sfd, b[:min(len(b), want)])
				if err == nil && k > 0 {
					if err = writeAll(dfd, b[:k]); err != nil {
						return n + got, err
					}
				}
			}
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
			if err != nil {
				return n + got, err
			}
			if k == 0 {
				return n + got, nil
			}
			got += int64(k)
			if n+got == size {
				return n + got, nil
			}
		}
		n += got
	}
}

// copyRoute is the way a file's bytes go from one file system to another,
// the fastest first.
type copyRoute uint8

const (
	// routeCFR is copy_file_range(2): in the kernel, and a reflink or a
	// server-side copy where the file system has one. Between two
	// mounted file systems Linux refuses it (EXDEV) before 5.3 and since
	// 5.19, unless both are of one network file system that copies
	// itself (NFS, SMB): ext4 to another ext4 mount, to tmpfs or XFS is
	// refused.
	routeCFR copyRoute = iota
	// routeSendfile is sendfile(2): still in the kernel (page cache to
	// page cache), between any two file systems.
	routeSendfile
	// routeRW is read(2) and write(2) through a pooled buffer.
	routeRW
)

func (r copyRoute) String() string {
	switch r {
	case routeCFR:
		return "copy_file_range"
	case routeSendfile:
		return "sendfile"
	}
	return "read/write"
}

// routeCache remembers, for the destination Local that holds it, which
// route works from each source device, so that the files after the first
// go straight to it instead of paying one refused call each. It is a hint:
// a route that fails on some file (a mount inside the tree) falls further
// for that file, and only a refusal the pair always gives (errSticky) is
// remembered. Reads take no lock: the map is replaced, never changed.
type routeCache struct {
	m atomic.Pointer[map[uint64]copyRoute]
}

func (c *routeCache) get(dev uint64) copyRoute {
	if m := c.m.Load(); m != nil {
		return (*m)[dev]
	}
	return routeCFR
}

func (c *routeCache) set(dev uint64, r copyRoute) {
	for {
		old := c.m.Load()
		next := map[uint64]copyRoute{dev: r}
		if old != nil {
			for k, v := range *old {
				if k != dev {
					next[k] = v
				}
			}
		}
		if c.m.CompareAndSwap(old, &next) {
			return
		}
	}
}

// cfrRefused: copy_file_range cannot copy between these two descriptors
// (another file system, a kernel or file system without it, a FUSE or
// network file system that declines): another route can.
func cfrRefused(err error) bool {
	switch err {
	case unix.EXDEV, unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP, unix.EPERM, unix.EBADF, unix.EIO:
		return true
	}
	return false
}

// sendfileRefused: sendfile cannot copy between these two descriptors.
func sendfileRefused(err error) bool {
	switch err {
	case unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP:
		return true
	}
	return false
}

// errSticky: a refusal that depends only on the kernel and the two file
// systems, so the next file between them gets it too. EPERM, EBADF and
// EIO may be about the one file, and are not remembered.
func errSticky(err error) bool {
	switch err {
	case unix.EXDEV, unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP:
		return true
	}
	return false
}

// bufPool holds the buffers of the read and write route, so that a tree
// of small files copied that way allocates a few buffers, not one each.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 256<<10)
	return &b
}}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		k, err := unix.Write(fd, b)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return err
		}
		b = b[k:]
	}
	return nil
}

// ReplaceSteps are the steps of (*Local).ReplaceFile around the copy.
type ReplaceSteps struct {
	// Guard, when set, sees the entry at the destination name as it is
	// before anything is written (nil when there is none), from an lstat
	// on the directory the copy resolves anyway, and returns a reason to
	// skip, or "".
	Guard func(now *Entry) string
	// NoReplace: the name must still be free when the copy takes it
	// (renameat2 RENAME_NOREPLACE, where the file system has it): an
	// entry that appeared since the guard is left alone and the copy
	// skipped with Guard's reason for it.
	NoReplace bool
	// Ready, when set, runs once the copy is complete and before the
	// rename (keeping the old version); a skip or error from it removes
	// the copy.
	Ready func() (skip string, err error)
}

// ReplaceFile copies the regular file name of src to the same name in l
// through the temporary name tmp beside it, all on open descriptors
// (openat, fstat, copy_file_range, futimens: the system calls of a cp -a):
// steps.Guard, the copy into tmp (created exclusively with mode perm and
// given the modification time mtime), steps.Ready and renameat(2) of tmp
// over name, on the one descriptor of their directory, resolved beneath
// the root once (a copy, a Rename and a Stat for the guard resolved it
// three times). Both names are resolved beneath their roots without
// following a link at any component (openat2 or the component walk). On
// any error or skip tmp does not exist and name is as it was; a skip
// reason from checks or steps is returned as skip with a nil error. It
// returns ErrNoFastCopy, having changed nothing, when the source is not a
// regular file any more or cannot be opened: the caller falls back to the
// portable Open/CreateTemp/Rename path, whose guards report what happened.
func (l *Local) ReplaceFile(src *Local, name, tmp string, perm fs.FileMode, mtime time.Time, checks CopyChecks, steps ReplaceSteps) (skip string, err error) {
	dir, base := split(name)
	if tdir, _ := split(tmp); tdir != dir || name == "" || tmp == name {
		return "", l.pathErr("replace", tmp, fs.ErrInvalid)
	}
	sfd, st, skip, err := openSource(src, name, checks)
	if sfd < 0 {
		return skip, err
	}
	defer unix.Close(sfd)
	h, pfd, tbase, err := l.at("open", tmp)
	if err != nil {
		return "", err
	}
	defer runtime.KeepAlive(h)
	defer h.release(pfd)
	if steps.Guard != nil {
		now, err := l.entryAt(pfd, name, base)
		if err != nil {
			return "", err
		}
		if why := steps.Guard(now); why != "" {
			return why, nil
		}
	}
	tpath := l.Path(tmp)
	dfd, err := openatRetry(pfd, tbase, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, uint32(perm.Perm()))
	if err != nil {
		return "", &fs.PathError{Op: "open", Path: tpath, Err: err}
	}
	ok := false
	defer func() {
		if dfd >= 0 {
			unix.Close(dfd)
		}
		if !ok {
			unix.Unlinkat(pfd, tbase, 0)
		}
	}()
	if skip, err := l.fill(dfd, tpath, sfd, src.Path(name), name, st, perm, mtime, checks); skip != "" || err != nil {
		return skip, err
	}
	err = unix.Close(dfd)
	dfd = -1
	if err != nil {
		return "", &fs.PathError{Op: "close", Path: tpath, Err: err}
	}
	if steps.Ready != nil {
		if skip, err := steps.Ready(); skip != "" || err != nil {
			return skip, err
		}
	}
	if steps.NoReplace && !l.noRenameNoReplace.Load() {
		err = unix.Renameat2(pfd, tbase, pfd, base, unix.RENAME_NOREPLACE)
		switch err {
		case nil:
			ok = true
			return "", nil
		case unix.EEXIST:
			if steps.Guard != nil {
				now, gerr := l.entryAt(pfd, name, base)
				if gerr == nil && now != nil {
					if why := steps.Guard(now); why != "" {
						return why, nil
					}
				}
			}
			return "", &os.LinkError{Op: "rename", Old: tpath, New: l.Path(name), Err: err}
		case unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP:
			// No RENAME_NOREPLACE on this file system (or kernel): the
			// guard above stands, as for every rename before it.
			l.noRenameNoReplace.Store(true)
		default:
			return "", &os.LinkError{Op: "rename", Old: tpath, New: l.Path(name), Err: err}
		}
	}
	if err := unix.Renameat(pfd, tbase, pfd, base); err != nil {
		return "", &os.LinkError{Op: "rename", Old: tpath, New: l.Path(name), Err: err}
	}
	ok = true
	return "", nil
}

// entryAt lstats base in the directory dirfd (name in l names it): nil
// when there is nothing.
func (l *Local) entryAt(dirfd int, name, base string) (*Entry, error) {
	var st unix.Stat_t
	err := unix.Fstatat(dirfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.ENOENT {
		return nil, nil
	}
	if err != nil {
		return nil, l.pathErr("lstat", name, err)
	}
	en := entryOfStat(base, &st)
	return &en, nil
}

var (
	umaskOnce sync.Once
	umaskBits fs.FileMode
)

// umask returns the process umask as /proc/self/status shows it (reading
// it with umask(2) would race with files created meanwhile). When unknown
// it returns 0o777, so callers always chmod.
func umask() fs.FileMode {
	umaskOnce.Do(func() {
		umaskBits = 0o777
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					umaskBits = fs.FileMode(m) & fs.ModePerm
				}
				return
			}
		}
	})
	return umaskBits
}

// sparse reports whether a regular file has holes: fewer bytes allocated
// than its size (st_blocks counts 512-byte units). A file whose blocks
// cover its size takes the plain copy, as fast as before; a file with
// holes (or data inline in its inode, which costs two lseeks more) takes
// copySparseFD.
func sparse(st *unix.Stat_t) bool { return st.Size > 0 && st.Blocks*512 < st.Size }

// copySparseFD copies only the data extents of sfd into dfd, found with
// lseek's SEEK_DATA and SEEK_HOLE, each with copy_file_range at its offset
// (pread and pwrite where the kernel cannot, or *route says it cannot: the
// extents are written at their offsets, which sendfile cannot do without
// an lseek each), and gives dfd the size
// size with ftruncate, so the holes stay holes. It returns size once every
// extent below size is copied: the After check compares it, as with
// copyFD. checks.Stop is asked between chunks.
func copySparseFD(dfd, sfd int, size int64, checks CopyChecks, route *copyRoute) (int64, error) {
	useCFR := *route == routeCFR
	var buf *[]byte
	defer func() {
		if buf != nil {
			bufPool.Put(buf)
		}
	}()
	for off := int64(0); off < size; {
		data, err := unix.Seek(sfd, off, unix.SEEK_DATA)
		if err == unix.ENXIO {
			break // only a hole up to the end of the file
		}
		if err != nil {
			return off, err
		}
		if data >= size {
			break
		}
		hole, err := unix.Seek(sfd, data, unix.SEEK_HOLE)
		if err != nil {
			return off, err
		}
		hole = min(hole, size)
		for data < hole {
			if err := checks.Stop(); err != nil {
				return data, err
			}
			want := min(hole-data, checks.Chunk, 1<<30)
			var k int
			if useCFR {
				roff, woff := data, data
				k, err = unix.CopyFileRange(sfd, &roff, dfd, &woff, int(want), 0)
				if err != nil && cfrRefused(err) {
					useCFR = false
					if errSticky(err) {
						*route = routeSendfile
					}
					continue
				}
			} else {
				if buf == nil {
					buf = bufPool.Get().(*[]byte)
				}
				b := *buf
				k, err = unix.Pread(sfd, b[:min(int64(len(b)), want)], data)
				if err == nil && k > 0 {
					err = pwriteAll(dfd, b[:k], data)
				}
			}
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
			if err != nil {
				return data, err
			}
			if k == 0 {
				// The file ended early (it shrank): the After check's
				// fstat sees the new size.
				hole, size = data, data
				break
			}
			data += int64(k)
		}
		off = hole
	}
	for {
		err := unix.Ftruncate(dfd, size)
		if err != unix.EINTR {
			return size, err
		}
	}
}

func pwriteAll(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		k, err := unix.Pwrite(fd, b, off)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return err
		}
		b, off = b[k:], off+int64(k)
	}
	return nil
}
