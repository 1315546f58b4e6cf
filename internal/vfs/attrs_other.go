//go:build !windows

package vfs

import "io/fs"

// sysAttrs returns 0: only Windows has file attributes.
func sysAttrs(fs.FileInfo) uint16 { return 0 }
