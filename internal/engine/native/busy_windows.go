package native

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// osBusy reports whether err is Windows saying that another program holds
// the file: a sharing or lock violation, or access denied (what a rename
// over a file open without FILE_SHARE_DELETE, or a file being deleted,
// returns). robocopy retries these with /R and /W; so does robo, with the
// set's retries and retry_wait. A real permission problem is retried too,
// and then fails with the same message.
func osBusy(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case windows.ERROR_SHARING_VIOLATION, windows.ERROR_LOCK_VIOLATION, windows.ERROR_ACCESS_DENIED:
		return true
	}
	return false
}
