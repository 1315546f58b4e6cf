//go:build !linux

package vfs

import (
	"errors"
	"io/fs"
	"time"
)

// ErrNoFastCopy is returned by (*Local).ReplaceFile and CopyNewFile when
// the fast path cannot handle a file; the caller falls back to the portable
// Open/CreateTemp/Rename path. Only Linux has a fast path.
var ErrNoFastCopy = errors.New("fast copy not possible")

// FastCopy says whether (*Local).CopyNewFile and ReplaceFile can
// copy on this platform: not here.
const FastCopy = false

// CopyChecks are the caller's guards for (*Local).ReplaceFile.
type CopyChecks struct {
	Before func(src Entry) string
	After  func(n int64, src Entry) string
	Stop   func() error
	Chunk  int64
	Meta   MetaCopy
	Warn   func(name, msg string)
}

// routeCache is the Linux fast copy's memory of which kernel call works
// from each source file system; there is none here.
type routeCache struct{}

// ReplaceSteps are the steps of (*Local).ReplaceFile around the copy.
type ReplaceSteps struct {
	Guard     func(now *Entry) string
	NoReplace bool
	Ready     func() (skip string, err error)
}

// ReplaceFile always returns ErrNoFastCopy on this platform.
func (l *Local) ReplaceFile(src *Local, name, tmp string, perm fs.FileMode, mtime time.Time, checks CopyChecks, steps ReplaceSteps) (string, error) {
	return "", ErrNoFastCopy
}

// CopyNewFile always returns ErrNoFastCopy on this platform.
func (l *Local) CopyNewFile(src *Local, name string, perm fs.FileMode, mtime time.Time, checks CopyChecks) (string, error) {
	return "", ErrNoFastCopy
}
