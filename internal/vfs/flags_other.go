//go:build !linux

package vfs

// FileFlags returns "": only Linux's inode flags are read (macOS's
// uchg/uappnd are not yet).
func (l *Local) FileFlags(name string) string { return "" }
