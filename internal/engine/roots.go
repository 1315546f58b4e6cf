package engine

import "fmt"

// RootID is what a scan saw of one of a set's root directories: whether it
// existed and, when it did, which directory it was (device and inode on
// Unix; volume serial number and file index on Windows). The configured
// path may pass through links (the admin's choice), so the path alone
// does not say which directory a plan was made against; the identity does.
type RootID struct {
	Exists bool   `json:"exists"`
	Dev    uint64 `json:"dev,omitempty"`
	Ino    uint64 `json:"ino,omitempty"`
}

func (r RootID) String() string {
	if !r.Exists {
		return "absent"
	}
	return fmt.Sprintf("directory %d:%d", r.Dev, r.Ino)
}

// Roots are the identities of a set's two roots when its plan was made. A
// nil side was not recorded (a plan saved before robo recorded them, an
// SMB share, an OS without file ids): apply pins only what was recorded.
type Roots struct {
	Source      *RootID `json:"source,omitempty"`
	Destination *RootID `json:"destination,omitempty"`
}

// RootChangedError says a root is not the directory the plan was made
// against: apply refuses the set before touching anything.
type RootChangedError struct {
	Side string // "source" or "destination"
	Path string
	Was  RootID
	// Now describes what is there now.
	Now string
}

func (e *RootChangedError) Error() string {
	return fmt.Sprintf("%s root %s changed since the plan: the plan saw %s, now it is %s; nothing was changed (make a new plan)",
		e.Side, e.Path, e.Was, e.Now)
}
