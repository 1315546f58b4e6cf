//go:build !unix

package web

// openFileLimit is unknown here (Windows handles have no small limit).
func openFileLimit() uint64 { return 0 }
