//go:build !linux && !darwin && !windows

package vfs

// CopySparse always returns ErrNotSparse on this platform: files are
// copied byte for byte, holes written as zeros.
func CopySparse(w Writer, r Reader, size, chunk int64, stop func() error) (int64, error) {
	return 0, ErrNotSparse
}
