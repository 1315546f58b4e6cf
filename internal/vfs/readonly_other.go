//go:build !linux && !darwin && !windows

package vfs

import "os"

// clearReadOnly: only Windows has a read-only attribute that stops deletes
// and renames (readonly_windows.go).
func clearReadOnly(*os.Root, string) bool { return false }

func deniedReadOnly(error) bool { return false }
