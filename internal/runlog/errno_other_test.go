//go:build !windows

package runlog

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

func TestCode(t *testing.T) {
	for err, want := range map[error]uint32{
		&os.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}: 5,
		&os.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}: 2,
		syscall.ENOSPC:         112,
		syscall.EINVAL:         0,
		errors.New("no errno"): 0,
	} {
		if got := Code(err); got != want {
			t.Errorf("Code(%v) = %d, want %d", err, got, want)
		}
	}
}
