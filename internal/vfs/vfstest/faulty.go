package vfstest

import (
	"io/fs"
	"sync"

	"github.com/robo-backup/robo/internal/vfs"
)

// Faulty is a real vfs.FS that fails chosen operations on chosen names.
type Faulty struct {
	vfs.FS
	mu sync.Mutex
	// FailReadDir and FailOpen map names to the error to return.
	FailReadDir map[string]error
	FailOpen    map[string]error
	// FailTimes limits how often a name's Open fails (absent: always).
	FailTimes map[string]int
}

var _ vfs.FS = (*Faulty)(nil)

// NewFaulty wraps fsys.
func NewFaulty(fsys vfs.FS) *Faulty {
	return &Faulty{FS: fsys, FailReadDir: map[string]error{}, FailOpen: map[string]error{}, FailTimes: map[string]int{}}
}

// ReadDir implements vfs.FS.
func (f *Faulty) ReadDir(name string) ([]vfs.Entry, error) {
	f.mu.Lock()
	err := f.FailReadDir[name]
	f.mu.Unlock()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
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
	f.mu.Unlock()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return f.FS.Open(name)
}
