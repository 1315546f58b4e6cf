//go:build linux

package vfs

import (
	"io/fs"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// direntBufs are getdents64 buffers, reused across directories.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// readDirFD lists the open directory fd (path names it in errors) with
// getdents64 and lstats each entry relative to it (fstatat), which saves
// the kernel a path walk per entry: the scan of an unchanged tree is
// mostly these calls. It closes fd. The names are
// kept NUL-terminated in one buffer per directory, handed to fstatat as
// they are and to the entries as substrings of one string, so a directory
// costs a few allocations whatever its size, not two per entry.
func readDirFD(fd int, path string) ([]Entry, error) {
	defer unix.Close(fd)
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp

	type span struct{ off, n int }
	var arena []byte // name NUL name NUL ...
	var spans []span
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "readdirent", Path: path, Err: err}
		}
		if n <= 0 {
			break
		}
		for rec := buf[:n]; len(rec) >= 19; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(*(*uint16)(unsafe.Pointer(&rec[16])))
			if reclen < 19 || reclen > len(rec) {
				break
			}
			name := rec[19:reclen]
			if i := slices.Index(name, 0); i >= 0 {
				name = name[:i]
			}
			rec = rec[reclen:]
			if len(name) == 0 || (len(name) == 1 && name[0] == '.') || (len(name) == 2 && name[0] == '.' && name[1] == '.') {
				continue
			}
			spans = append(spans, span{len(arena), len(name)})
			arena = append(arena, name...)
			arena = append(arena, 0)
		}
	}
	if len(spans) == 0 {
		return []Entry{}, nil
	}
	// arena is not written again: the names can share its bytes.
	names := unsafe.String(&arena[0], len(arena))
	out := make([]Entry, 0, len(spans))
	for _, sp := range spans {
		var st unix.Stat_t
		if err := fstatat(fd, &arena[sp.off], names[sp.off:sp.off+sp.n], &st); err != nil {
			if err == unix.ENOENT {
				continue // vanished between readdir and stat
			}
			return nil, &fs.PathError{Op: "lstat", Path: path + "/" + names[sp.off:sp.off+sp.n], Err: err}
		}
		out = append(out, entryOfStat(names[sp.off:sp.off+sp.n], &st))
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
