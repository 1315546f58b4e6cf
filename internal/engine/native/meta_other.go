//go:build !windows

package native

import (
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// Security descriptors and alternate data streams are Windows' (see
// meta_windows.go); elsewhere these do nothing.

func platformSec(*engine.Spec, vfs.FS, vfs.FS) (mask uint8, handled string, warn string) {
	return 0, "", ""
}

func (s *scanner) readsSecurity(engine.Kind) bool { return false }

func (s *scanner) fillSecurity(vfs.FS, string, string, *engine.Meta) bool { return true }

func (a *applier) copySecurity(*engine.Change, string) error { return nil }

func (a *applier) copyStreams(*engine.Change, string) error { return nil }
