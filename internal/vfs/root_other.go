//go:build !linux && !darwin && !windows

package vfs

import "errors"

// id is not known on this OS: a plan records no root identity here.
func (h *rootHandle) id() (FileID, error) {
	return FileID{}, errors.New("root identity is not available on this OS")
}
