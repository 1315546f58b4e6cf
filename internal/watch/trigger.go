package watch

import (
	"errors"
	"fmt"
)

// ErrUnknownSet is Trigger's error for a set the configuration lacks.
var ErrUnknownSet = errors.New("no such set in the configuration")

// Trigger queues a run of set now (the dashboard's "run now"), as a
// schedule or a source change does; reason is logged with the run. A set
// that is running runs again once it ends.
func (w *Watcher) Trigger(set, reason string) error {
	w.mu.Lock()
	cfg, q := w.cfg, w.q
	w.mu.Unlock()
	b := cfg.Backup(set)
	switch {
	case b == nil:
		return fmt.Errorf("%w: %s", ErrUnknownSet, set)
	case !b.Enabled:
		return fmt.Errorf("set %s is disabled (enabled = false)", set)
	case q == nil:
		return errors.New("robo watch is not running yet")
	}
	q.trigger(set, reason)
	return nil
}
