//go:build !linux && !darwin

package vfs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// On Windows (and any OS without the descriptor walk of local_unix.go) the
// root is an os.Root: no operation can leave it, even through a link or
// junction swapped in after the plan, since os.Root resolves every name
// itself and refuses a path that escapes. os.Root does follow a link that
// stays inside the root, so each operation also lstats every directory on
// the way to its name (through the root) and refuses one that is a link,
// a junction or not a directory. That check and the operation are two
// steps: a link swapped in between them may be followed, but only to
// another directory inside the same root.
type rootHandle struct{ r *os.Root }

func openRoot(root string) (*rootHandle, error) {
	if rootIsLink(root) {
		return nil, &fs.PathError{Op: "open", Path: root, Err: ErrNotFollowed}
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	return &rootHandle{r: r}, nil
}

// close closes the os.Root, which is safe while other goroutines use it
// (their operations then fail).
func (h *rootHandle) close() error { return h.r.Close() }

func rootIsLink(root string) bool {
	fi, err := os.Lstat(root)
	return err == nil && (fi.Mode()&fs.ModeSymlink != 0 || fi.Mode()&fs.ModeIrregular != 0)
}

func osName(name string) string {
	if name == "" {
		return "."
	}
	return filepath.FromSlash(name)
}

func (l *Local) pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: l.Path(name), Err: err}
}

// resolve opens the root and checks that every directory on the way to
// name (not name itself) is a plain directory.
func (l *Local) resolve(op, name string) (*os.Root, error) {
	if !cleanName(name) || strings.ContainsAny(name, `\:`) {
		return nil, l.pathErr(op, name, fs.ErrInvalid)
	}
	h, err := l.handle()
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		fi, err := h.r.Lstat(osName(name[:i]))
		if err != nil {
			return nil, l.pathErr(op, name, unwrapPath(err))
		}
		if fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
			return nil, l.pathErr(op, name, ErrNotFollowed)
		}
		if !fi.IsDir() {
			return nil, l.pathErr(op, name, syscall.ENOTDIR)
		}
	}
	return h.r, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (l *Local) Stat(name string) (Entry, error) {
	r, err := l.resolve("lstat", name)
	if err != nil {
		if name == "" {
			if fi, lerr := os.Lstat(l.root); lerr == nil && !fi.IsDir() {
				return entryOf(fi.Name(), fi), nil
			}
		}
		return Entry{}, err
	}
	fi, err := r.Lstat(osName(name))
	if err != nil {
		return Entry{}, l.pathErr("lstat", name, unwrapPath(err))
	}
	if name == "" {
		return entryOf(filepath.Base(l.root), fi), nil
	}
	_, base := split(name)
	return entryOf(base, fi), nil
}

func (l *Local) ReadDir(name string) ([]Entry, error) {
	r, err := l.resolve("open", name)
	if err != nil {
		return nil, err
	}
	if name != "" {
		fi, err := r.Lstat(osName(name))
		if err != nil {
			return nil, l.pathErr("open", name, unwrapPath(err))
		}
		if !fi.IsDir() || fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
			return nil, l.pathErr("open", name, ErrNotFollowed)
		}
	}
	f, err := r.Open(osName(name))
	if err != nil {
		return nil, l.pathErr("open", name, unwrapPath(err))
	}
	defer f.Close()
	des, err := f.ReadDir(-1)
	if err != nil {
		return nil, l.pathErr("readdir", name, unwrapPath(err))
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

func (l *Local) Open(name string) (Reader, error) {
	r, err := l.resolve("open", name)
	if err != nil {
		return nil, err
	}
	if fi, err := r.Lstat(osName(name)); err != nil {
		return nil, l.pathErr("open", name, unwrapPath(err))
	} else if !fi.Mode().IsRegular() {
		return nil, l.pathErr("open", name, errors.New("not a regular file"))
	}
	f, err := r.Open(osName(name))
	if err != nil {
		return nil, l.pathErr("open", name, unwrapPath(err))
	}
	return f, nil
}

func (l *Local) CreateTemp(dir, prefix string, perm fs.FileMode) (Writer, string, error) {
	r, err := l.resolve("create", Join(dir, "x"))
	if err != nil {
		return nil, "", err
	}
	for range 10 {
		name := Join(dir, prefix+randomHex()+".tmp")
		f, err := r.OpenFile(osName(name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", l.pathErr("create", name, unwrapPath(err))
		}
		if err := f.Chmod(perm); err != nil {
			f.Close()
			r.Remove(osName(name))
			return nil, "", l.pathErr("chmod", name, unwrapPath(err))
		}
		return f, name, nil
	}
	return nil, "", l.pathErr("create", dir, errors.New("no unique temporary name after 10 attempts"))
}

func (l *Local) Rename(oldname, newname string) error {
	r, err := l.resolve("rename", oldname)
	if err != nil {
		return err
	}
	if _, err := l.resolve("rename", newname); err != nil {
		return err
	}
	err = r.Rename(osName(oldname), osName(newname))
	if err != nil && deniedReadOnly(err) && clearReadOnly(r, newname) {
		err = r.Rename(osName(oldname), osName(newname))
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: l.Path(oldname), New: l.Path(newname), Err: unwrapLink(err)}
	}
	return nil
}

func unwrapLink(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return unwrapPath(err)
}

func (l *Local) Chtimes(name string, mtime time.Time) error {
	r, err := l.resolve("chtimes", name)
	if err != nil {
		return err
	}
	if err := r.Chtimes(osName(name), time.Now(), mtime); err != nil {
		return l.pathErr("chtimes", name, unwrapPath(err))
	}
	return nil
}

func (l *Local) Mkdir(name string, perm fs.FileMode) error {
	r, err := l.resolve("mkdir", name)
	if err != nil {
		return err
	}
	err = r.Mkdir(osName(name), perm)
	if err != nil && errors.Is(err, fs.ErrExist) {
		if fi, serr := r.Lstat(osName(name)); serr == nil && fi.IsDir() && fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) == 0 {
			return nil
		}
	}
	if err != nil {
		return l.pathErr("mkdir", name, unwrapPath(err))
	}
	return nil
}

// MkdirAll creates a directory and its missing parents; for the root (name
// "") the configured path, as os.MkdirAll does.
func (l *Local) MkdirAll(name string) error {
	if name == "" {
		if err := os.MkdirAll(l.root, 0o755); err != nil {
			return err
		}
		_, err := l.handle()
		return err
	}
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '/' {
			if err := l.Mkdir(name[:i], 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *Local) Remove(name string) error {
	if name == "" {
		return l.pathErr("remove", name, errors.New("refusing to remove the root"))
	}
	r, err := l.resolve("remove", name)
	if err != nil {
		return err
	}
	err = r.Remove(osName(name))
	if err != nil && deniedReadOnly(err) && clearReadOnly(r, name) {
		err = r.Remove(osName(name))
	}
	if err != nil {
		return l.pathErr("remove", name, unwrapPath(err))
	}
	return nil
}

func (l *Local) Symlink(target, name string) error {
	r, err := l.resolve("symlink", name)
	if err != nil {
		return err
	}
	if err := r.Symlink(target, osName(name)); err != nil {
		return &os.LinkError{Op: "symlink", Old: target, New: l.Path(name), Err: unwrapLink(err)}
	}
	return nil
}

func (l *Local) Readlink(name string) (string, error) {
	r, err := l.resolve("readlink", name)
	if err != nil {
		return "", err
	}
	t, err := r.Readlink(osName(name))
	if err != nil {
		return "", l.pathErr("readlink", name, unwrapPath(err))
	}
	return t, nil
}

func randomHex() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var _ Linker = (*Local)(nil)

// Link implements Linker: an lstat through the root, the check, and
// os.Root's Link (CreateHardLink on Windows), which does not follow a link
// at oldname and cannot leave the root. The lstat and the link are two
// steps: a file swapped in between may be linked instead, but only a
// file of the same root, and a second lstat then finds the new name is
// another file and removes it.
func (l *Local) Link(oldname, newname string, check func(old Entry) string) (skip string, err error) {
	lerr := func(err error) error {
		return &os.LinkError{Op: "link", Old: l.Path(oldname), New: l.Path(newname), Err: err}
	}
	if oldname == "" || newname == "" || oldname == newname {
		return "", lerr(fs.ErrInvalid)
	}
	r, err := l.resolve("link", oldname)
	if err != nil {
		return "", err
	}
	if _, err := l.resolve("link", newname); err != nil {
		return "", err
	}
	fi, err := r.Lstat(osName(oldname))
	if err != nil {
		return "", l.pathErr("lstat", oldname, unwrapPath(err))
	}
	_, obase := split(oldname)
	if why := check(entryOf(obase, fi)); why != "" {
		return why, nil
	}
	if err := r.Link(osName(oldname), osName(newname)); err != nil {
		return "", lerr(unwrapLink(err))
	}
	return "", nil
}
