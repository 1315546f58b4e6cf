package vfs

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// allocatedRange is FILE_ALLOCATED_RANGE_BUFFER.
type allocatedRange struct{ Offset, Length int64 }

// CopySparse copies the file r, of size bytes, into the new, empty file w
// so that r's holes stay holes: when r is a sparse file
// (FILE_ATTRIBUTE_SPARSE_FILE), w is made sparse (FSCTL_SET_SPARSE), only
// r's allocated ranges (FSCTL_QUERY_ALLOCATED_RANGES) are written, at
// their offsets, and w is given its size. It returns ErrNotSparse, having
// written nothing, when r is not sparse, either side is not a local file,
// or the file system refuses either control code. stop is asked between
// chunks of chunk bytes.
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
	if err != nil || size == 0 {
		return 0, ErrNotSparse
	}
	if a, ok := fi.Sys().(*syscall.Win32FileAttributeData); !ok || a.FileAttributes&windows.FILE_ATTRIBUTE_SPARSE_FILE == 0 {
		return 0, ErrNotSparse
	}
	ranges, err := allocatedRanges(windows.Handle(rf.Fd()), size)
	if err != nil {
		return 0, ErrNotSparse
	}
	var ret uint32
	if err := windows.DeviceIoControl(windows.Handle(wf.Fd()), windows.FSCTL_SET_SPARSE, nil, 0, nil, 0, &ret, nil); err != nil {
		return 0, ErrNotSparse
	}
	buf := make([]byte, 256<<10)
	for _, rg := range ranges {
		end := min(rg.Offset+rg.Length, size)
		if rg.Offset >= end {
			continue
		}
		if err := copyExtent(wf, rf, rg.Offset, end-rg.Offset, chunk, stop, buf); err != nil {
			return rg.Offset, err
		}
	}
	return size, wf.Truncate(size)
}

// allocatedRanges lists the allocated ranges of the first size bytes of
// the file h, asking again from the end of the last one while the answer
// does not fit (ERROR_MORE_DATA).
func allocatedRanges(h windows.Handle, size int64) ([]allocatedRange, error) {
	var out []allocatedRange
	q := allocatedRange{0, size}
	buf := make([]allocatedRange, 64)
	for {
		var ret uint32
		err := windows.DeviceIoControl(h, windows.FSCTL_QUERY_ALLOCATED_RANGES, (*byte)(unsafe.Pointer(&q)), uint32(unsafe.Sizeof(q)),
			(*byte)(unsafe.Pointer(&buf[0])), uint32(len(buf))*uint32(unsafe.Sizeof(buf[0])), &ret, nil)
		if err != nil && err != windows.ERROR_MORE_DATA {
			return nil, err
		}
		got := buf[:ret/uint32(unsafe.Sizeof(buf[0]))]
		out = append(out, got...)
		if err == nil || len(got) == 0 {
			return out, nil
		}
		last := got[len(got)-1]
		q = allocatedRange{last.Offset + last.Length, size - (last.Offset + last.Length)}
		if q.Length <= 0 {
			return out, nil
		}
	}
}
