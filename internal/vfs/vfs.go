package vfs

import (
	"errors"
	"io"
	"io/fs"
	"time"
)

// Kind is the type of a directory entry.
type Kind uint8

// Entry kinds. Other covers devices, sockets and FIFOs, which robo never copies.
const (
	File Kind = iota
	Dir
	Symlink
	Other
)

func (k Kind) String() string {
	switch k {
	case File:
		return "file"
	case Dir:
		return "dir"
	case Symlink:
		return "symlink"
	}
	return "other"
}

// Entry describes one directory entry as seen by lstat.
type Entry struct {
	Name    string
	Size    int64
	ModTime time.Time
	// Mode is the permission bits and, on Unix, the setuid, setgid and
	// sticky bits as their Unix values (0o4000, 0o2000, 0o1000, not
	// fs.ModeSetuid...): Mode.Perm() is the rwx bits alone.
	Mode fs.FileMode
	// UID and GID are the owner and group on Unix (from the same lstat).
	UID, GID uint32
	// Attrs are the low 16 bits of the Windows file attributes
	// (FILE_ATTRIBUTE_*, all robo copies), 0 elsewhere.
	Attrs uint16
	Kind  Kind
	// Links is the number of names of the entry's inode (st_nlink) and
	// Dev and Ino its identity (st_dev, st_ino), from the same lstat, on
	// the file systems that tell (local Unix trees); 0 where unknown
	// (Windows listings and SMB: see Identifier).
	Links    uint32
	Dev, Ino uint64
	// (Fields ordered so that an Entry takes 88 bytes: a scan holds
	// listings of many of them.)
}

// Identifier is implemented by the file systems that can tell, at a cost
// (a handle opened per file), a file's identity and number of names where
// their listings do not (a local tree on Windows: the volume serial number,
// the file index and the number of links of GetFileInformationByHandle).
// The scan asks only for the files of a set with hard_links.
type Identifier interface {
	Identify(name string) (links uint32, dev, ino uint64, err error)
}

// Linker is implemented by the file systems that can give a file another
// name (a local tree). Link makes newname a hard link to the regular file
// oldname, both resolved beneath the root without following a link at any
// component (the last included): an entry at newname is never replaced
// (an error matching fs.ErrExist), and check, given the entry at oldname
// as lstat sees it just before the link, returns a reason not to link (a
// skip, returned with a nil error), or "".
type Linker interface {
	Link(oldname, newname string, check func(old Entry) string) (skip string, err error)
}

// Reader is an open file being read.
type Reader interface {
	io.Reader
	io.Closer
	Stat() (fs.FileInfo, error)
}

// Writer is a new file being written. Sync must flush it to stable storage.
type Writer interface {
	io.Writer
	io.Closer
	Sync() error
}

// Finisher is implemented by a Writer that can give the new file its
// modification time and put it at its final name in the request that closes
// it (an SMB share: one round trip where Close, Chtimes and Rename take
// three, or seven requests). Finish sets the modification time (and the
// access time to now), renames the file to newname (a name of the same FS),
// replacing what is there as Rename does, and closes it. Only call it once
// everything is written. Whatever it returns, the Writer is closed
// afterwards; when it fails, the file may still be under its temporary name,
// where the caller removes it.
type Finisher interface {
	Finish(mtime time.Time, newname string) error
}

// FreshRenamer is implemented by an FS whose rename can refuse a name that
// is taken, in the same request (an SMB share: ReplaceIfExists cleared). For
// a new file that makes the destination guard part of the rename, so the
// look before it is not needed: one round trip less per new file.
// RenameFresh renames oldname to newname when nothing is at newname; when
// something is (a file, a directory or a link), it changes nothing and
// fails with an error that matches fs.ErrExist.
type FreshRenamer interface {
	RenameFresh(oldname, newname string) error
}

// FreshFinisher is Finisher for a new file: FinishFresh does what Finish
// does, but the rename refuses a newname that is taken, as RenameFresh does.
// Then the error matches fs.ErrExist and the file is left complete under
// its temporary name, closed, where the caller removes it.
type FreshFinisher interface {
	FinishFresh(mtime time.Time, newname string) error
}

// TempWriter is implemented by an FS that can create a temporary file (as
// CreateTemp does) already holding data in one request (an SMB share: the
// create and the write compounded, one round trip instead of two).
// WriteTemp returns the file open, positioned after data, and its name.
// When it fails, it leaves no file behind.
type TempWriter interface {
	WriteTemp(dir, prefix string, perm fs.FileMode, data []byte) (Writer, string, error)
}

// FS is a directory tree the native engine reads or writes. Implementations
// MUST be safe for concurrent use by several goroutines. Errors MUST name the
// path (as *fs.PathError or similar) and wrap fs.ErrNotExist, fs.ErrExist and
// fs.ErrPermission where those apply, so callers can test them with errors.Is.
type FS interface {
	// String names the root for messages (a local path or a UNC path).
	String() string
	// Stat returns the entry at name without following a final symlink.
	Stat(name string) (Entry, error)
	// ReadDir lists a directory, sorted by name, without following links.
	ReadDir(name string) ([]Entry, error)
	// Open opens a file for reading.
	Open(name string) (Reader, error)
	// CreateTemp creates a new, empty file with a unique name in directory
	// dir, whose name starts with prefix, and returns it and its name.
	CreateTemp(dir, prefix string, perm fs.FileMode) (Writer, string, error)
	// Rename atomically replaces newname with oldname.
	Rename(oldname, newname string) error
	// Chtimes sets the modification time (and the access time to now).
	Chtimes(name string, mtime time.Time) error
	// Mkdir creates one directory. An existing directory is not an error.
	Mkdir(name string, perm fs.FileMode) error
	// MkdirAll creates a directory and its missing parents (used for roots).
	MkdirAll(name string) error
	// Remove deletes a file, a symlink or an empty directory.
	Remove(name string) error
	// Symlink creates name as a symbolic link to target.
	Symlink(target, name string) error
	// Readlink returns the target of a symbolic link.
	Readlink(name string) (string, error)
}

// TimedMkdirer is implemented by an FS whose directory keeps its
// modification time in what making it writes (an object store's folder
// marker): MkdirTime makes the directory with that time in one step, where
// Mkdir and then Chtimes would write it twice. Like Mkdir, an existing
// directory is not an error (its time is left alone). The native engine
// makes a new directory through it with its source's time; the time is
// set again after the directory's changes only when it differs.
type TimedMkdirer interface {
	MkdirTime(name string, perm fs.FileMode, mtime time.Time) error
}

// AtomicCreator is implemented by an FS that has no rename (an object
// store) but stores a whole file under its final name in one step that
// either completes or leaves nothing: a PUT, a completed multipart upload,
// a committed block list. The native engine writes files to such an FS
// through CreateFinal instead of CreateTemp and Rename, so no partial file
// is ever visible under a final name.
type AtomicCreator interface {
	// CreateFinal starts a file at name with the permission bits perm and
	// the modification time mtime. Nothing is visible at name until
	// Commit succeeds.
	CreateFinal(name string, perm fs.FileMode, mtime time.Time) (FinalWriter, error)
}

// FinalWriter is a file being written by an AtomicCreator.
type FinalWriter interface {
	io.Writer
	// Commit stores everything written under the final name if expect
	// returns "" for the entry there now (nil when there is none). The
	// check and the store are tied together where the store allows (a
	// conditional write on the ETag the check saw), so an entry that
	// changes in between is not overwritten. A non-empty reason from
	// expect is returned as skip and nothing changes. After Commit the
	// writer is finished, whatever the outcome.
	Commit(expect func(now *Entry) string) (skip string, err error)
	// Abort discards what was written: nothing appears at the name. After
	// Commit it does nothing.
	Abort() error
}

// SizeHinter is implemented by a FinalWriter that plans its upload better
// when told the file's expected size before the first Write (an object
// store: a file past the multipart threshold goes in parts from its first
// byte instead of being held in memory up to the threshold, a smaller one
// gets a buffer of its size). It is only a hint: the writer stores what
// is written, whatever its length.
type SizeHinter interface {
	SizeHint(size int64)
}

// ErrUnreachable is wrapped by an FS's errors when the server behind it
// (an SMB share) is gone and reconnecting failed: every further operation
// would fail the same way, so the engine retries none of them (a dead
// share fails the set within its answer timeout, not after every file's
// retries and waits).
var ErrUnreachable = errors.New("the server of this file system cannot be reached")

// Join joins slash-separated relative names; Join("", "a") is "a".
func Join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// Precisioner is implemented by an FS whose modification times are coarser
// than the engine's time unit (an SFTP server keeps whole seconds). Times
// read from it compare with the source's within that step.
type Precisioner interface {
	TimePrecision() time.Duration
}

// Networked is implemented by an FS whose every listing waits on a round
// trip to a server (an object store, SFTP, WebDAV): ListAhead is how many
// of its directories a scan should read at once, whatever the number of
// CPUs, since the waiting is the server's and the network's.
type Networked interface {
	ListAhead() int
}

// ListAhead returns fsys's ListAhead, or 0 when it is not Networked.
func ListAhead(fsys FS) int {
	if n, ok := fsys.(Networked); ok {
		return n.ListAhead()
	}
	return 0
}

// TimePrecision returns fsys's time step, or 0 when it keeps full times.
func TimePrecision(fsys FS) time.Duration {
	if p, ok := fsys.(Precisioner); ok {
		return p.TimePrecision()
	}
	return 0
}
