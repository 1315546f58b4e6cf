package native

import (
	"io/fs"
	"os"
	"testing"

	"golang.org/x/sys/windows"
)

// TestAccessDeniedIsTransient (issue 14 item 3): the errors Windows gives
// when another program holds a destination file (access denied on a
// rename over it, a sharing or lock violation) are retried with the set's
// retries; a missing file is not. (Under wine a rename over an open file
// fails with a sharing violation, which was retried before; access
// denied, what real Windows returns, was not.)
func TestAccessDeniedIsTransient(t *testing.T) {
	for _, errno := range []windows.Errno{windows.ERROR_ACCESS_DENIED, windows.ERROR_SHARING_VIOLATION, windows.ERROR_LOCK_VIOLATION} {
		err := &os.LinkError{Op: "rename", Old: `C:\d\.robo-f.tmp`, New: `C:\d\f`, Err: errno}
		if !transient(err) {
			t.Errorf("%v (%d) is not retried", errno, uint32(errno))
		}
	}
	if transient(&fs.PathError{Op: "open", Path: `C:\d\f`, Err: windows.ERROR_FILE_NOT_FOUND}) {
		t.Error("a missing file is retried")
	}
}
