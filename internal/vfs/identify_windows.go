package vfs

import (
	"os"

	"golang.org/x/sys/windows"
)

var _ Identifier = (*Local)(nil)

// Identify implements Identifier: the file is opened through the root and
// GetFileInformationByHandle gives the volume serial number, the file
// index and the number of links (a Windows listing has none of them).
func (l *Local) Identify(name string) (links uint32, dev, ino uint64, err error) {
	r, err := l.resolve("open", name)
	if err != nil {
		return 0, 0, 0, err
	}
	f, err := r.Open(osName(name))
	if err != nil {
		return 0, 0, 0, l.pathErr("open", name, unwrapPath(err))
	}
	defer f.Close()
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		return 0, 0, 0, &os.PathError{Op: "GetFileInformationByHandle", Path: l.Path(name), Err: err}
	}
	return info.NumberOfLinks, uint64(info.VolumeSerialNumber), uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow), nil
}
