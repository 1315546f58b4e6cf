package shares

import (
	"errors"
	"testing"

	"github.com/robo-backup/robo/internal/vfs"
)

// A lost connection that could not be re-established is unreachable for
// the engine (no retries); one that reconnected and lost it again is not.
func TestLostErrorUnreachable(t *testing.T) {
	gone := &LostError{Target: Target{Name: "nas"}, Err: ErrStalled, Redial: errors.New("refused")}
	if !errors.Is(gone, vfs.ErrUnreachable) || !errors.Is(gone, ErrStalled) {
		t.Errorf("a failed reconnect: Is(ErrUnreachable) %v, Is(ErrStalled) %v", errors.Is(gone, vfs.ErrUnreachable), errors.Is(gone, ErrStalled))
	}
	if errors.Is(&LostError{Err: errors.New("EOF")}, vfs.ErrUnreachable) {
		t.Error("a connection that reconnected counts as unreachable")
	}
}
