//go:build linux || darwin

package vfs

import (
	"io/fs"
	"time"

	"golang.org/x/sys/unix"
)

func entryOfStat(name string, st *unix.Stat_t) Entry {
	e := Entry{Name: name, Size: st.Size, ModTime: time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)), Mode: fs.FileMode(st.Mode & 0o7777),
		UID: st.Uid, GID: st.Gid, Links: uint32(st.Nlink), Dev: uint64(st.Dev), Ino: uint64(st.Ino)}
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
