package shares

import (
	"errors"
	"io/fs"
	"strings"
	"sync"

	smb2 "github.com/cloudsoda/go-smb2"

	"github.com/robo-backup/robo/internal/vfs"
)

// Confinement on a share (issue 13).
//
// SMB2 has no openat: every request names its file by a path from the
// share's root, and the server resolves that path itself. Whether a
// symbolic link, junction or other reparse point on the way is followed is
// the server's choice:
//
//   - Windows servers answer STATUS_STOPPED_ON_SYMLINK for a symbolic link
//     at any component and leave it to the client; go-smb2 follows it
//     (client side, within the same share) for Open, OpenFile, Stat,
//     Chtimes and Chmod, and returns the status for the others (robo's
//     CreateTemp and Chtimes use OpenFileWith and SetBasicInfo, which
//     return it). Junctions (mount points) are followed by the server.
//   - Samba follows a Unix symlink on the server (follow symlinks = yes,
//     the default), within the share unless wide links = yes, and shows
//     nothing of it: the link has its target's attributes and file id.
//
// So robo's client cannot refuse a link atomically, as openat2 does. It
// does the strongest it can:
//
//  1. Every directory on the way to a name (the root, then each component
//     before the last) is checked before the first operation beneath it in
//     a file system's life: opened (go-smb2 following a Windows symlink is
//     seen from the name of the handle it returns, and refused), queried
//     for its attributes and file id, and refused when it is a reparse
//     point, not a directory, or another directory than the one robo saw
//     at that path (the file id it had in the listing of its parent, or in
//     an earlier check, on this connection). A directory robo never saw
//     before is also opened without following a reparse point (Lstat), and
//     refused when its id is already another path's in this file system.
//  2. STATUS_STOPPED_ON_SYMLINK from the server is vfs.ErrNotFollowed.
//  3. Open and CreateTemp compare the name of the handle go-smb2 returns
//     with the name asked for; a handle that go-smb2 reached by following a
//     link is closed (a file created through it is removed) and refused.
//     (CreateTemp's open does not follow links at all; the check stays.)
//
// What remains: the check of a directory and the operations after it are
// separate requests, and a directory is checked once per file system
// (once per scan or apply), so a swap made after that check, during the
// run, is not seen. A swap between a plan and its apply is, when the plan
// was made through the same connection (a plain apply, a watch run, a
// before hook swapping after the plan): the listing recorded the file ids.
// A saved plan applied by another process carries only the root's id:
// there a directory swapped for a link to a directory the run never saw
// under another name is not recognised on a server that follows links
// itself (Samba's default); set `follow symlinks = no` on such shares.

// dirTable maps share-relative directory paths (backslash-separated, as
// sent) to the file id the server gave them, for one connection.
type dirTable struct {
	mu  sync.Mutex
	ids map[string]uint64
}

func (t *dirTable) get(full string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ids[full]
}

func (t *dirTable) set(full string, id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ids == nil {
		t.ids = map[string]uint64{}
	}
	if id == 0 {
		delete(t.ids, full)
		return
	}
	t.ids[full] = id
}

// forget drops full, and with tree every path beneath it.
func (t *dirTable) forget(full string, tree bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.ids, full)
	if !tree {
		return
	}
	for k := range t.ids {
		if full == "" || strings.HasPrefix(k, full+`\`) {
			delete(t.ids, k)
		}
	}
}

const statusStoppedOnSymlink = 0x8000002D

// notFollowed is the error of an operation refused by the checks.
func (f *shareFS) notFollowed(op, name string) error {
	return &fs.PathError{Op: op, Path: f.display(name), Err: vfs.ErrNotFollowed}
}

// confine checks the directories on the way to name (and name itself when
// self is set) before operation op on it.
func (f *shareFS) confine(op, name string, self bool) error {
	if f.err != nil {
		return f.err
	}
	if name != "" && (strings.ContainsRune(name, '\\') || !fs.ValidPath(name)) {
		// Refused before any request, as f.full does.
		return &fs.PathError{Op: op, Path: f.display(name), Err: fs.ErrInvalid}
	}
	// The root, then every directory before the last component,
	// outermost first.
	if err := f.checkDir(op, name, ""); err != nil {
		return err
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			if err := f.checkDir(op, name, name[:i]); err != nil {
				return err
			}
		}
	}
	if self && name != "" {
		return f.checkDir(op, name, name)
	}
	return nil
}

// knownDir reports whether name is a directory whose id robo knows (it was
// listed as one, or checked).
func (f *shareFS) knownDir(name string) bool {
	full, err := f.full("", name)
	return err == nil && f.c.dirs.get(full) != 0
}

func (f *shareFS) isChecked(dir string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checked[dir]
}

// checkDir checks directory dir once in the file system's life; op and
// name are those of the operation that needs it, for the error.
func (f *shareFS) checkDir(op, name, dir string) error {
	if f.isChecked(dir) {
		return nil
	}
	full, err := f.full(op, dir)
	if err != nil {
		return err
	}
	err = f.conn().do(f.ctx, func(sh *smb2.Share, _ bool) error {
		d, err := sh.Open(full)
		if err != nil {
			return err
		}
		defer d.Close()
		return f.verify(sh, d, dir, full)
	})
	if errors.Is(err, vfs.ErrNotFollowed) {
		return f.notFollowed(op, name)
	}
	return f.wrap(op, name, err)
}

// verify checks the open handle d of directory dir (share path full): that
// go-smb2 did not follow a link to reach it, that it is a directory and not
// a reparse point, and that it is the directory robo saw at that path. It
// records dir as checked.
func (f *shareFS) verify(sh *smb2.Share, d *smb2.File, dir, full string) error {
	if d.Name() != full {
		return vfs.ErrNotFollowed // go-smb2 followed a link to get here
	}
	fi, err := d.Stat()
	if err != nil {
		return err
	}
	st := fi.Sys().(*smb2.FileStat)
	known := f.c.dirs.get(full)
	switch {
	case st.FileAttributes&attrDirectory == 0:
		return &statusError{code: statusNotADirectory, err: errors.New("not a directory")}
	case known != 0 && st.FileId != 0 && st.FileId != known:
		return vfs.ErrNotFollowed // another directory than the one listed
	case known != 0 && st.FileId == known:
		// The directory listed, or checked, before. A reparse point
		// here is one the listing showed as an ordinary directory
		// (a tag that is not a name surrogate: dedup, cloud files).
	case st.FileAttributes&attrReparsePoint != 0:
		return vfs.ErrNotFollowed
	default:
		// Never seen: the entry itself must not be a reparse point (a
		// junction, which the server followed for Open), and its id
		// must not be another path's.
		li, err := sh.Lstat(full)
		if err != nil {
			return err
		}
		if li.Sys().(*smb2.FileStat).FileAttributes&attrReparsePoint != 0 {
			return vfs.ErrNotFollowed
		}
		if st.FileId != 0 {
			f.mu.Lock()
			first, seen := f.idPath[st.FileId]
			f.mu.Unlock()
			if seen && first != dir {
				return vfs.ErrNotFollowed
			}
		}
	}
	f.c.dirs.set(full, st.FileId)
	f.mu.Lock()
	if st.FileId != 0 {
		if _, seen := f.idPath[st.FileId]; !seen {
			f.idPath[st.FileId], f.pathID[dir] = dir, st.FileId
		}
	}
	f.checked[dir] = true
	f.mu.Unlock()
	return nil
}

// forget drops what robo knew of name, and with tree of everything beneath
// it (robo created, removed or renamed it).
func (f *shareFS) forget(name string, tree bool) {
	full, err := f.full("", name)
	if err != nil {
		return
	}
	f.c.dirs.forget(full, tree)
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.checked, name)
	if !tree {
		return
	}
	for k := range f.checked {
		if name == "" || strings.HasPrefix(k, name+"/") {
			delete(f.checked, k)
		}
	}
}

// RootID returns the file id of the root directory (checking it as any
// directory on the way): the native engine records it in the plan and
// refuses an apply whose root is another directory now. Dev is 0. A server
// that reports no file ids gives an error, and nothing is recorded.
func (f *shareFS) RootID() (vfs.FileID, error) {
	if err := f.checkDir("open", "", ""); err != nil {
		return vfs.FileID{}, err
	}
	full, _ := f.full("open", "")
	id := f.c.dirs.get(full)
	if id == 0 {
		return vfs.FileID{}, &fs.PathError{Op: "open", Path: f.display(""), Err: errors.New("the server reports no file ids")}
	}
	return vfs.FileID{Ino: id}, nil
}

// RootIsLink reports whether the root is a reparse point (a symbolic link
// or junction on a Windows server) now. A link that the server follows
// itself (Samba) cannot be seen.
func (f *shareFS) RootIsLink() bool {
	full, err := f.full("lstat", "")
	if err != nil {
		return false
	}
	link := false
	f.conn().do(f.ctx, func(sh *smb2.Share, _ bool) error {
		fi, err := sh.Lstat(full)
		if err != nil {
			code, ok := status(err)
			link = ok && code == statusStoppedOnSymlink
			return nil
		}
		link = fi.Sys().(*smb2.FileStat).FileAttributes&attrReparsePoint != 0
		return nil
	})
	return link
}
