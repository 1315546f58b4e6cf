package vfs

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Local is an FS on a local (or OS-mounted) directory, confined to it.
//
// The root directory is opened once, on first use, and every later
// operation resolves its name relative to that open handle, component by
// component, refusing a symbolic link (or anything not a directory) at any
// component before the last: a directory replaced by a link after the plan
// was made is never written or read through (ErrNotFollowed). The last
// component is never followed either (lstat semantics, O_NOFOLLOW opens).
// The configured root path itself may pass through links (the admin's
// choice), but its last component must be a real directory, and once open
// the root stays the same directory for the Local's life, whatever happens
// to its path. See root_*.go for how each OS does it.
type Local struct {
	root string
	// noTmpfile is set once the file system refused O_TMPFILE (Linux).
	noTmpfile atomic.Bool
	// noRenameNoReplace is set once the file system refused
	// renameat2(RENAME_NOREPLACE) (Linux).
	noRenameNoReplace atomic.Bool
	// routes remembers how the bytes of a fast copy into this tree get
	// there from each source file system (Linux: copy_file_range,
	// sendfile, or read and write).
	routes routeCache

	mu sync.Mutex
	h  *rootHandle // the open root, once opened
}

var _ FS = (*Local)(nil)

// ErrNotFollowed is the cause of an operation refused because a component
// of its path is a symbolic link (or a junction, or a file where a
// directory should be): robo never follows links inside a set's roots, so
// a directory swapped for a link since the plan cannot steer it elsewhere.
var ErrNotFollowed = errors.New("a symbolic link or a non-directory is on the path where the plan saw a directory (robo never follows links)")

// FileID identifies a directory on its machine: device and inode on Unix,
// volume serial number and file index on Windows.
type FileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// NewLocal returns an FS rooted at the directory root, which should be an
// absolute, cleaned OS path. The root need not exist yet.
func NewLocal(root string) *Local { return &Local{root: root} }

func (l *Local) String() string { return l.root }

// Path returns the OS path of a relative name (for messages and for the
// callers that must hand a path to another program).
func (l *Local) Path(name string) string {
	if name == "" {
		return l.root
	}
	return filepath.Join(l.root, filepath.FromSlash(name))
}

// handle returns the open root, opening it on first use. A root that does
// not exist yet is not remembered, so MkdirAll("") can create it.
func (l *Local) handle() (*rootHandle, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h != nil {
		return l.h, nil
	}
	h, err := openRoot(l.root)
	if err != nil {
		return nil, err
	}
	l.h = h
	return h, nil
}

// Close releases the open root on the OSes where an open directory
// handle is in other programs' way (Windows, where a directory cannot be
// renamed or deleted while a handle to it is open). Operations after Close
// fail. On Unix it does nothing: the descriptor is closed when the Local
// is garbage (a read-ahead still running on it must not see its number
// reused).
func (l *Local) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h == nil {
		return nil
	}
	return l.h.close()
}

// Close calls fsys's Close method when it has one.
func Close(fsys FS) {
	if c, ok := fsys.(interface{ Close() error }); ok {
		c.Close()
	}
}

// RootID returns the identity of the directory the root resolves to,
// opening the root if it is not open yet. An absent root fails with an
// error matching fs.ErrNotExist; a root whose last component is a link
// with ErrNotFollowed.
func (l *Local) RootID() (FileID, error) {
	h, err := l.handle()
	if err != nil {
		return FileID{}, err
	}
	return h.id()
}

// RootIsLink reports whether the root's last component is a symbolic link
// (or a junction) now.
func (l *Local) RootIsLink() bool { return rootIsLink(l.root) }

func entryOf(name string, fi fs.FileInfo) Entry {
	e := Entry{Name: name, Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode().Perm(), Attrs: sysAttrs(fi)}
	switch m := fi.Mode(); {
	case m.IsRegular():
		e.Kind = File
	case m.IsDir():
		e.Kind = Dir
		e.Size = 0
	case m&fs.ModeSymlink != 0:
		e.Kind = Symlink
	default:
		e.Kind = Other
	}
	return e
}

// split returns the parent directory and the last element of a name.
func split(name string) (dir, base string) {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i], name[i+1:]
	}
	return "", name
}

// cleanName reports whether name is a clean relative name: no empty, "."
// or ".." element (vfs names are joined to the root; such an element
// could climb out of it).
func cleanName(name string) bool {
	if name == "" {
		return true
	}
	for {
		i := strings.IndexByte(name, '/')
		el := name
		if i >= 0 {
			el = name[:i]
		}
		if el == "" || el == "." || el == ".." {
			return false
		}
		if i < 0 {
			return true
		}
		name = name[i+1:]
	}
}
