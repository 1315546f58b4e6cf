//go:build linux || darwin || freebsd || netbsd || openbsd

package vfs

import (
	"errors"
	"io/fs"
	"os"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// readDir lists a directory and lstats each entry relative to the open
// directory (fstatat), which saves the kernel a path walk per entry: the
// scan of an unchanged tree is mostly these calls.
func readDir(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	out := make([]Entry, 0, len(names))
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // vanished between readdir and stat
			}
			return nil, &fs.PathError{Op: "lstat", Path: path + "/" + name, Err: err}
		}
		out = append(out, entryOfStat(name, &st))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func entryOfStat(name string, st *unix.Stat_t) Entry {
	e := Entry{Name: name, Size: st.Size, ModTime: time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)), Mode: fs.FileMode(st.Mode & 0o777)}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		e.Kind = File
	case unix.S_IFDIR:
		e.Kind, e.Size = Dir, 0
	case unix.S_IFLNK:
		e.Kind = Symlink
	default:
		e.Kind = Other
	}
	return e
}
