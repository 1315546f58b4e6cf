package vfs

import (
	"errors"
	"io/fs"
	"os"
	"sort"

	"golang.org/x/sys/unix"
)

// readDirFD lists the open directory fd (path names it in errors) and
// lstats each entry relative to it (fstatat), which saves the kernel a
// path walk per entry: the scan of an unchanged tree is mostly these
// calls. It closes fd.
func readDirFD(fd int, path string) ([]Entry, error) {
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
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
