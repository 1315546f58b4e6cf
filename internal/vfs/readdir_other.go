//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package vfs

import (
	"errors"
	"io/fs"
	"os"
	"sort"
)

// readDir lists a directory and lstats each entry.
func readDir(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	des, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(des))
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // vanished between readdir and lstat
			}
			return nil, err
		}
		out = append(out, entryOf(de.Name(), fi))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
