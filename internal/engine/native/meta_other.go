//go:build !windows

package native

import (
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// Alternate data streams are Windows' (see meta_windows.go), and so are
// the local privileges security descriptors need; elsewhere security
// descriptors are a share's (security.go), whose privileges are the
// server's.

func enableSecPrivileges(all vfs.SecInfo, _, _ vfs.FS) (vfs.SecInfo, string) { return all, "" }

func (a *applier) copyStreams(*engine.Change, string) error { return nil }
