package vfs

import (
	"golang.org/x/sys/windows"
)

// id is the root's volume serial number and file index, read from a
// handle opened through the root itself.
func (h *rootHandle) id() (FileID, error) {
	f, err := h.r.Open(".")
	if err != nil {
		return FileID{}, err
	}
	defer f.Close()
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return FileID{}, err
	}
	return FileID{Dev: uint64(info.VolumeSerialNumber), Ino: uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow)}, nil
}
