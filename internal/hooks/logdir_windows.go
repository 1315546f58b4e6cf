//go:build windows

package hooks

import "os"

// ownedByMe is false on Windows: permission bits mean little there (the
// directory's ACL decides), so robo never changes them.
func ownedByMe(os.FileInfo) bool { return false }
