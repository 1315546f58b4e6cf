package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Local is an FS on a local (or OS-mounted) directory.
type Local struct {
	root string
	// noTmpfile is set once the file system refused O_TMPFILE (Linux).
	noTmpfile atomic.Bool
}

var _ FS = (*Local)(nil)

// NewLocal returns an FS rooted at the directory root, which should be an
// absolute, cleaned OS path. The root need not exist yet.
func NewLocal(root string) *Local { return &Local{root: root} }

func (l *Local) String() string { return l.root }

// Path returns the OS path of a relative name.
func (l *Local) Path(name string) string {
	if name == "" {
		return l.root
	}
	return filepath.Join(l.root, filepath.FromSlash(name))
}

func entryOf(name string, fi fs.FileInfo) Entry {
	e := Entry{Name: name, Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode().Perm()}
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

func (l *Local) Stat(name string) (Entry, error) {
	fi, err := os.Lstat(l.Path(name))
	if err != nil {
		return Entry{}, err
	}
	return entryOf(fi.Name(), fi), nil
}

func (l *Local) ReadDir(name string) ([]Entry, error) { return readDir(l.Path(name)) }

func (l *Local) Open(name string) (Reader, error) {
	return os.Open(l.Path(name))
}

func (l *Local) CreateTemp(dir, prefix string, perm fs.FileMode) (Writer, string, error) {
	f, err := os.CreateTemp(l.Path(dir), prefix+"*.tmp")
	if err != nil {
		return nil, "", err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, "", err
	}
	return f, Join(dir, filepath.Base(f.Name())), nil
}

func (l *Local) Rename(oldname, newname string) error {
	return os.Rename(l.Path(oldname), l.Path(newname))
}

func (l *Local) Chtimes(name string, mtime time.Time) error {
	return os.Chtimes(l.Path(name), time.Now(), mtime)
}

func (l *Local) Mkdir(name string, perm fs.FileMode) error {
	err := os.Mkdir(l.Path(name), perm)
	if err != nil && errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Lstat(l.Path(name)); serr == nil && fi.IsDir() {
			return nil
		}
	}
	return err
}

func (l *Local) MkdirAll(name string) error { return os.MkdirAll(l.Path(name), 0o755) }

func (l *Local) Remove(name string) error { return os.Remove(l.Path(name)) }

func (l *Local) Symlink(target, name string) error {
	return os.Symlink(target, l.Path(name))
}

func (l *Local) Readlink(name string) (string, error) { return os.Readlink(l.Path(name)) }
