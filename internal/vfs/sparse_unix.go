//go:build linux || darwin

package vfs

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// CopySparse copies the file r, of size bytes, into the new, empty file w
// so that r's holes stay holes: only r's data extents (lseek SEEK_DATA and
// SEEK_HOLE) are written, at their offsets, and w is truncated to size. It
// returns ErrNotSparse, having written nothing, when r has no holes (its
// allocated blocks cover its size: the usual copy is as good and faster)
// or either side is not a local file. stop is asked between chunks of
// chunk bytes. It returns the bytes covered (size, when complete).
func CopySparse(w Writer, r Reader, size, chunk int64, stop func() error) (int64, error) {
	rf, ok := r.(*os.File)
	if !ok {
		return 0, ErrNotSparse
	}
	wf, ok := w.(*os.File)
	if !ok {
		return 0, ErrNotSparse
	}
	fi, err := rf.Stat()
	if err != nil {
		return 0, ErrNotSparse
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Size == 0 || st.Blocks*512 >= st.Size {
		return 0, ErrNotSparse
	}
	buf := make([]byte, 256<<10)
	for off := int64(0); off < size; {
		data, err := rf.Seek(off, unix.SEEK_DATA)
		if errors.Is(err, syscall.ENXIO) {
			break
		}
		if err != nil {
			return off, err
		}
		if data >= size {
			break
		}
		hole, err := rf.Seek(data, unix.SEEK_HOLE)
		if err != nil {
			return off, err
		}
		hole = min(hole, size)
		if err := copyExtent(wf, rf, data, hole-data, chunk, stop, buf); err != nil {
			return data, err
		}
		off = hole
	}
	return size, wf.Truncate(size)
}
