package vfs

import (
	"errors"
	"io"
)

// ErrNotSparse is returned by CopySparse, having written nothing, when the
// source has no holes or either side cannot keep them: the caller copies
// the bytes as usual.
var ErrNotSparse = errors.New("not a sparse copy")

// copyExtent copies n bytes at off of r to the same offset of w (pread
// and pwrite, in chunks between which stop is asked).
func copyExtent(w io.WriterAt, r io.ReaderAt, off, n, chunk int64, stop func() error, buf []byte) error {
	for n > 0 {
		if err := stop(); err != nil {
			return err
		}
		k := min(n, chunk)
		if _, err := io.CopyBuffer(io.NewOffsetWriter(w, off), io.NewSectionReader(r, off, k), buf); err != nil {
			return err
		}
		off, n = off+k, n-k
	}
	return nil
}
