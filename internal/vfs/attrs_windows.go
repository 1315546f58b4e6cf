package vfs

import (
	"io/fs"
	"syscall"

	"golang.org/x/sys/windows"
)

// sysAttrs returns the Windows file attributes a listing or lstat gave.
func sysAttrs(fi fs.FileInfo) uint16 {
	if d, ok := fi.Sys().(*syscall.Win32FileAttributeData); ok {
		return uint16(d.FileAttributes)
	}
	return 0
}

// AttrFS is an FS that sets Windows file attributes.
type AttrFS interface {
	// SetAttrs sets the attributes of name in mask to those of attrs,
	// leaving the others as they are.
	SetAttrs(name string, attrs, mask uint32) error
}

var _ AttrFS = (*Local)(nil)

// SetAttrs sets name's attributes through the root (the path is checked
// beneath it first, as every Windows operation of Local is).
func (l *Local) SetAttrs(name string, attrs, mask uint32) error {
	if _, err := l.resolve("setattr", name); err != nil {
		return err
	}
	p, err := windows.UTF16PtrFromString(l.Path(name))
	if err != nil {
		return l.pathErr("setattr", name, err)
	}
	cur, err := windows.GetFileAttributes(p)
	if err != nil {
		return l.pathErr("setattr", name, err)
	}
	if cur&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		return l.pathErr("setattr", name, ErrNotFollowed)
	}
	next := cur&^mask | attrs&mask
	if next&^windows.FILE_ATTRIBUTE_DIRECTORY == 0 {
		next = windows.FILE_ATTRIBUTE_NORMAL
	}
	if next == cur {
		return nil
	}
	if err := windows.SetFileAttributes(p, next&^windows.FILE_ATTRIBUTE_DIRECTORY); err != nil {
		return l.pathErr("setattr", name, err)
	}
	return nil
}
