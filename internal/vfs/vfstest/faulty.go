package vfstest

import (
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/robo-backup/robo/internal/vfs"
)

// Faulty is a real vfs.FS that fails chosen operations on chosen names.
// Every operation it does not fail is passed to the wrapped FS, so the
// files a test sees afterwards are real.
type Faulty struct {
	vfs.FS
	mu sync.Mutex
	// FailReadDir and FailOpen map names to the error to return.
	FailReadDir map[string]error
	FailOpen    map[string]error
	// FailTimes limits how often a name's Open fails (absent: always).
	FailTimes map[string]int
	// FailRename maps a rename's new name to the error to return.
	FailRename map[string]error
	// AfterRead maps a name to a function called once, after the first
	// Read of a file opened by that name: a test changes the source there
	// while the engine is in the middle of copying it.
	AfterRead map[string]func()

	// Capacity, when positive, is how many bytes writes through this FS
	// may add in all: a write past it stores what fits and fails with
	// ENOSPC, as a full disk does, and so does every CreateTemp and Mkdir
	// after that.
	Capacity int64
	written  int64

	// ReadOnly, when set, is returned by every operation that changes the
	// tree (and by writes to files already open) once ReadOnlyAfter of
	// them have succeeded: the disk turns read-only in the middle of a
	// run. Operations are counted in the order they reach the FS.
	ReadOnly      error
	ReadOnlyAfter int
	mutations     int
}

var _ vfs.FS = (*Faulty)(nil)

// NewFaulty wraps fsys.
func NewFaulty(fsys vfs.FS) *Faulty {
	return &Faulty{FS: fsys, FailReadDir: map[string]error{}, FailOpen: map[string]error{}, FailTimes: map[string]int{},
		FailRename: map[string]error{}, AfterRead: map[string]func(){}}
}

// errNoSpace is what a full disk returns.
var errNoSpace error = syscall.ENOSPC

func pathErr(op, name string, err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }

// mutate counts one change to the tree, or returns the read-only error.
func (f *Faulty) mutate() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ReadOnly != nil && f.mutations >= f.ReadOnlyAfter {
		return f.ReadOnly
	}
	f.mutations++
	return nil
}

// full reports ENOSPC once the capacity is used up.
func (f *Faulty) full() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Capacity > 0 && f.written >= f.Capacity {
		return errNoSpace
	}
	return nil
}

// ReadDir implements vfs.FS.
func (f *Faulty) ReadDir(name string) ([]vfs.Entry, error) {
	f.mu.Lock()
	err := f.FailReadDir[name]
	f.mu.Unlock()
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	return f.FS.ReadDir(name)
}

// Open implements vfs.FS.
func (f *Faulty) Open(name string) (vfs.Reader, error) {
	f.mu.Lock()
	err := f.FailOpen[name]
	if n, limited := f.FailTimes[name]; err != nil && limited {
		if n <= 0 {
			err = nil
		} else {
			f.FailTimes[name] = n - 1
		}
	}
	after := f.AfterRead[name]
	delete(f.AfterRead, name)
	f.mu.Unlock()
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	r, err := f.FS.Open(name)
	if err != nil || after == nil {
		return r, err
	}
	return &hookReader{Reader: r, after: after}, nil
}

// hookReader calls after once its first Read returned data.
type hookReader struct {
	vfs.Reader
	after func()
}

func (r *hookReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if n > 0 && r.after != nil {
		r.after()
		r.after = nil
	}
	return n, err
}

// CreateTemp implements vfs.FS.
func (f *Faulty) CreateTemp(dir, prefix string, perm fs.FileMode) (vfs.Writer, string, error) {
	if err := f.full(); err != nil {
		return nil, "", pathErr("open", vfs.Join(dir, prefix+"*"), err)
	}
	if err := f.mutate(); err != nil {
		return nil, "", pathErr("open", vfs.Join(dir, prefix+"*"), err)
	}
	w, name, err := f.FS.CreateTemp(dir, prefix, perm)
	if err != nil {
		return nil, "", err
	}
	return &faultyWriter{Writer: w, f: f, name: name}, name, nil
}

// faultyWriter counts bytes against the capacity and stops writing once
// the disk is read-only.
type faultyWriter struct {
	vfs.Writer
	f    *Faulty
	name string
}

func (w *faultyWriter) Write(p []byte) (int, error) {
	f := w.f
	f.mu.Lock()
	if f.ReadOnly != nil && f.mutations >= f.ReadOnlyAfter {
		f.mu.Unlock()
		return 0, pathErr("write", w.name, f.ReadOnly)
	}
	var err error
	if f.Capacity > 0 && f.written+int64(len(p)) > f.Capacity {
		p = p[:max(0, f.Capacity-f.written)]
		err = pathErr("write", w.name, errNoSpace)
	}
	f.written += int64(len(p))
	f.mu.Unlock()
	n, werr := w.Writer.Write(p)
	if werr != nil {
		return n, werr
	}
	return n, err
}

// ReadFrom keeps io.Copy on Write (and so on the capacity check) even when
// the wrapped writer has a faster path.
func (w *faultyWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w}, r)
}

// Rename implements vfs.FS.
func (f *Faulty) Rename(oldname, newname string) error {
	f.mu.Lock()
	err := f.FailRename[newname]
	f.mu.Unlock()
	if err == nil {
		err = f.mutate()
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return f.FS.Rename(oldname, newname)
}

// Chtimes implements vfs.FS.
func (f *Faulty) Chtimes(name string, mtime time.Time) error {
	if err := f.mutate(); err != nil {
		return pathErr("chtimes", name, err)
	}
	return f.FS.Chtimes(name, mtime)
}

// Mkdir implements vfs.FS.
func (f *Faulty) Mkdir(name string, perm fs.FileMode) error {
	if err := f.full(); err != nil {
		return pathErr("mkdir", name, err)
	}
	if err := f.mutate(); err != nil {
		return pathErr("mkdir", name, err)
	}
	return f.FS.Mkdir(name, perm)
}

// MkdirAll implements vfs.FS. It does not count as a change: it runs
// before every apply, also when the root exists.
func (f *Faulty) MkdirAll(name string) error { return f.FS.MkdirAll(name) }

// Remove implements vfs.FS.
func (f *Faulty) Remove(name string) error {
	if err := f.mutate(); err != nil {
		return pathErr("remove", name, err)
	}
	return f.FS.Remove(name)
}

// Symlink implements vfs.FS.
func (f *Faulty) Symlink(target, name string) error {
	if err := f.mutate(); err != nil {
		return &os.LinkError{Op: "symlink", Old: target, New: name, Err: err}
	}
	return f.FS.Symlink(target, name)
}

// Close closes the wrapped FS (vfs.Close).
func (f *Faulty) Close() error {
	vfs.Close(f.FS)
	return nil
}
