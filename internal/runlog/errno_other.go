//go:build !windows

package runlog

import (
	"errors"
	"syscall"
)

// winCodes maps POSIX errors to the Windows error codes robocopy would
// print for the same failure.
var winCodes = map[syscall.Errno]uint32{
	syscall.ENOENT:       2,   // ERROR_FILE_NOT_FOUND
	syscall.ENOTDIR:      3,   // ERROR_PATH_NOT_FOUND
	syscall.EACCES:       5,   // ERROR_ACCESS_DENIED
	syscall.EPERM:        5,   // ERROR_ACCESS_DENIED
	syscall.EROFS:        19,  // ERROR_WRITE_PROTECT
	syscall.EBUSY:        32,  // ERROR_SHARING_VIOLATION
	syscall.ETXTBSY:      32,  // ERROR_SHARING_VIOLATION
	syscall.ENOSPC:       112, // ERROR_DISK_FULL
	syscall.EDQUOT:       112, // ERROR_DISK_FULL
	syscall.EEXIST:       183, // ERROR_ALREADY_EXISTS
	syscall.ENAMETOOLONG: 206, // ERROR_FILENAME_EXCED_RANGE
	syscall.EIO:          1117,
	syscall.ENOTEMPTY:    145, // ERROR_DIR_NOT_EMPTY
}

// Code is the Windows error code robocopy would print for err: the POSIX
// errno it wraps mapped to the nearest Windows code, or 0 when err carries
// no errno or one without a Windows equivalent.
func Code(err error) uint32 {
	var n syscall.Errno
	if errors.As(err, &n) {
		return winCodes[n]
	}
	return 0
}
