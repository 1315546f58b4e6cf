package shares

import (
	"errors"
	"testing"

	"github.com/robo-backup/robo/internal/vfs"
)

// A server that stopped answering and could not be re-dialled is
// unreachable for the engine (no retries); a lost connection otherwise is not.
func TestLostErrorUnreachable(t *testing.T) {
	gone := &LostError{Target: Target{Name: "nas"}, Err: ErrStalled, Redial: errors.New("refused")}
	if !errors.Is(gone, vfs.ErrUnreachable) || !errors.Is(gone, ErrStalled) {
		t.Errorf("a failed reconnect: Is(ErrUnreachable) %v, Is(ErrStalled) %v", errors.Is(gone, vfs.ErrUnreachable), errors.Is(gone, ErrStalled))
	}
	if errors.Is(&LostError{Err: errors.New("EOF")}, vfs.ErrUnreachable) {
		t.Error("a connection that reconnected counts as unreachable")
	}
	// A killed or restarting server is retried: it may be back in time
	// (TestEngineServerKilledMidRun).
	if errors.Is(&LostError{Err: errors.New("EOF"), Redial: errors.New("refused")}, vfs.ErrUnreachable) {
		t.Error("a server that went away (not one that stopped answering) counts as unreachable")
	}
}
