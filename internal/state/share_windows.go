package state

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// RenameRetryFor is how long Rename keeps retrying a rename refused with a
// sharing violation or access denied: a reader that did not allow
// FILE_SHARE_DELETE holds the file for a few milliseconds at a time, a
// virus scanner somewhat longer. cmd/go's robustio retries its cache
// renames the same way (for 500 ms).
const RenameRetryFor = 2 * time.Second

const errSharingViolation syscall.Errno = 32 // ERROR_SHARING_VIOLATION

// openShared opens path for reading and lets other processes read, write,
// delete and rename it (FILE_SHARE_DELETE, which os.Open does not give) while
// it is open.
func openShared(path string) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(longPath(path))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ,
		syscall.FILE_SHARE_READ|syscall.FILE_SHARE_WRITE|syscall.FILE_SHARE_DELETE,
		nil, syscall.OPEN_EXISTING, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// longPath gives an absolute path of 248 characters or more the \\?\ form
// that CreateFile needs for it (os does the same internally).
func longPath(path string) string {
	if len(path) < 248 || strings.HasPrefix(path, `\\`) || !filepath.IsAbs(path) {
		return path
	}
	return `\\?\` + filepath.Clean(path)
}

func rename(from, to string) error {
	deadline := time.Now().Add(RenameRetryFor)
	sleep := time.Millisecond
	for {
		err := os.Rename(from, to)
		if err == nil || !ephemeral(err) || time.Now().After(deadline) {
			return err
		}
		// Short waits, never longer than 16 ms: a reader that polls the
		// file holds it most of the time, and each attempt is a sample of
		// whether it is open; waits of 64 ms gave only ~30 samples in
		// RenameRetryFor, and under Wine 1 write in 30 once found it open
		// at every one of them.
		time.Sleep(sleep)
		if sleep < 16*time.Millisecond {
			sleep *= 2
		}
	}
}

// ephemeral reports whether a rename error may go away when another
// process closes the file.
func ephemeral(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && (errno == syscall.ERROR_ACCESS_DENIED || errno == errSharingViolation)
}
