package native

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// rootIdentifier is a file system that can say which directory its root
// is (vfs.Local). Wrappers and SMB shares cannot: their roots are not
// recorded and not pinned.
type rootIdentifier interface {
	RootID() (vfs.FileID, error)
	RootIsLink() bool
}

// rootID records what a scan sees of a root: nil when fsys cannot tell.
// exists says whether the scan found the root.
func rootID(fsys vfs.FS, exists bool) *engine.RootID {
	ri, ok := fsys.(rootIdentifier)
	if !ok {
		return nil
	}
	if !exists {
		return &engine.RootID{}
	}
	id, err := ri.RootID()
	if err != nil {
		return nil
	}
	return &engine.RootID{Exists: true, Dev: id.Dev, Ino: id.Ino}
}

// checkRoot compares a root now with what the plan recorded (nil: nothing
// recorded, nothing checked). Opening it here pins it: every later
// operation of the run resolves beneath this same directory.
func checkRoot(side, path string, fsys vfs.FS, was *engine.RootID) error {
	ri, ok := fsys.(rootIdentifier)
	if was == nil || !ok {
		return nil
	}
	changed := func(now string) error {
		return &engine.RootChangedError{Side: side, Path: path, Was: *was, Now: now}
	}
	id, err := ri.RootID()
	switch {
	case err == nil && !was.Exists:
		// Absent at plan time and a real directory now (made by hand or
		// by a before hook): allowed. A link would have failed RootID.
		return nil
	case err == nil && (id.Dev != was.Dev || id.Ino != was.Ino):
		return changed(fmt.Sprintf("another directory (%d:%d)", id.Dev, id.Ino))
	case err == nil:
		return nil
	case ri.RootIsLink():
		return changed("a symbolic link, which robo does not follow as a root's last component")
	case errors.Is(err, fs.ErrNotExist) && was.Exists:
		return changed("absent")
	case errors.Is(err, fs.ErrNotExist):
		return nil
	}
	return changed(errText(err))
}
