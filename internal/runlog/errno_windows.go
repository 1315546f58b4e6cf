package runlog

import (
	"errors"
	"syscall"
)

// Code is the Windows error code of err (the system's own code on
// Windows), or 0 when err carries none.
func Code(err error) uint32 {
	var n syscall.Errno
	if errors.As(err, &n) {
		return uint32(n)
	}
	return 0
}
