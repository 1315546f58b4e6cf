package native

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/robo-backup/robo/internal/vfs"
)

// A share whose server is gone for good (vfs.ErrUnreachable) is not
// retried: each remaining change fails at once instead of waiting
// retry_wait for every one of its retries (issue 13: a stalled share must
// fail the set within a bounded time).
func TestUnreachableIsNotRetried(t *testing.T) {
	dead := &fs.PathError{Op: "write", Path: `\\nas\data\f`, Err: fmt.Errorf("share lost: %w", vfs.ErrUnreachable)}
	if transient(dead) {
		t.Error("an unreachable share is retried")
	}
	if !transient(&fs.PathError{Op: "write", Path: "f", Err: syscall.ECONNRESET}) {
		t.Error("a reset connection (which may reconnect) is no longer retried")
	}
	if !errors.Is(dead, vfs.ErrUnreachable) {
		t.Fatal("test error does not wrap ErrUnreachable")
	}
}
