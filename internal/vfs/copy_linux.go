//go:build linux

package vfs

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNoFastCopy is returned by (*Local).CopyFile when the fast path cannot
// handle a file (it is not a regular file any more, it cannot be opened, or
// the platform has no fast path); the caller falls back to the portable
// Open/CreateTemp/Rename path, whose guards report what happened.
var ErrNoFastCopy = errors.New("fast copy not possible")

// CopyChecks are the caller's guards, run by (*Local).CopyFile on the
// already-open source descriptor, so no second lstat by path is needed.
type CopyChecks struct {
	// Before sees the source as opened (fstat) and returns a reason to
	// skip the copy, or "".
	Before func(src Entry) string
	// After sees the source again once its bytes were copied, with the
	// number of bytes read, and returns a reason to skip, or "".
	After func(n int64, src Entry) string
	// Stop is asked between chunks whether to stop; CopyFile then returns
	// the error it gives.
	Stop func() error
	// Chunk is how many bytes are copied between two calls to Stop.
	Chunk int64
}

// CopyFile copies the regular file name of src into a new file tmp of l,
// created exclusively with mode perm, and gives it the modification time
// mtime, all on open descriptors (openat, fstat, copy_file_range, futimens):
// the syscalls of a cp -a. On success tmp holds the complete copy and the
// caller renames it into place; on any error or skip tmp does not exist. A
// skip reason from checks is returned as skip with a nil error.
func (l *Local) CopyFile(src *Local, name, tmp string, perm fs.FileMode, mtime time.Time, checks CopyChecks) (skip string, err error) {
	sfd, err := unix.Open(src.Path(name), unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return "", ErrNoFastCopy
	}
	defer unix.Close(sfd)
	var st unix.Stat_t
	if err := unix.Fstat(sfd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", ErrNoFastCopy
	}
	if why := checks.Before(entryOfStat(name, &st)); why != "" {
		return why, nil
	}
	tpath := l.Path(tmp)
	dfd, err := unix.Open(tpath, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, uint32(perm.Perm()))
	if err != nil {
		return "", &fs.PathError{Op: "open", Path: tpath, Err: err}
	}
	ok := false
	defer func() {
		if dfd >= 0 {
			unix.Close(dfd)
		}
		if !ok {
			unix.Unlink(tpath)
		}
	}()
	if perm.Perm()&^umask() != perm.Perm() {
		if err := unix.Fchmod(dfd, uint32(perm.Perm())); err != nil {
			return "", &fs.PathError{Op: "chmod", Path: tpath, Err: err}
		}
	}
	n, err := copyFD(dfd, sfd, st.Size, checks)
	if err != nil {
		if isErrno(err) {
			return "", &fs.PathError{Op: "copy", Path: tpath, Err: err}
		}
		return "", err // from checks.Stop
	}
	if err := unix.Fstat(sfd, &st); err != nil {
		return "", &fs.PathError{Op: "fstat", Path: src.Path(name), Err: err}
	}
	if why := checks.After(n, entryOfStat(name, &st)); why != "" {
		return why, nil
	}
	ts := []unix.Timespec{{Sec: 0, Nsec: unix.UTIME_NOW}, unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(dfd, "", ts, unix.AT_EMPTY_PATH); err != nil {
		return "", &fs.PathError{Op: "chtimes", Path: tpath, Err: err}
	}
	err = unix.Close(dfd)
	dfd = -1
	if err != nil {
		return "", &fs.PathError{Op: "close", Path: tpath, Err: err}
	}
	ok = true
	return "", nil
}

func isErrno(err error) bool {
	var e unix.Errno
	return errors.As(err, &e)
}

// copyFD copies sfd to dfd with copy_file_range, falling back to read and
// write where the kernel or file system cannot, in chunks between which
// checks.Stop is asked.
func copyFD(dfd, sfd int, size int64, checks CopyChecks) (int64, error) {
	var n int64
	useCFR := true
	var buf []byte
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
			if useCFR {
				k, err = unix.CopyFileRange(sfd, nil, dfd, nil, want, 0)
				if err != nil && n+got == 0 && (err == unix.EXDEV || err == unix.EINVAL || err == unix.ENOSYS ||
					err == unix.EOPNOTSUPP || err == unix.EPERM || err == unix.EBADF || err == unix.EIO) {
					useCFR = false
					continue
				}
			} else {
				if buf == nil {
					buf = make([]byte, 256<<10)
				}
				k, err = unix.Read(sfd, buf[:min(len(buf), want)])
				if err == nil && k > 0 {
					if err = writeAll(dfd, buf[:k]); err != nil {
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
		}
		n += got
	}
}

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

// RenameFile renames a file (not a directory) within l: rename(2) without
// the lstat of the target that os.Rename adds to refuse directories.
func (l *Local) RenameFile(oldname, newname string) error {
	op, np := l.Path(oldname), l.Path(newname)
	if err := unix.Rename(op, np); err != nil {
		return &os.LinkError{Op: "rename", Old: op, New: np, Err: err}
	}
	return nil
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
