package shares

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	smb2 "github.com/cloudsoda/go-smb2"

	"github.com/robo-backup/robo/internal/vfs"
)

// FS returns the file system rooted at dir, a directory inside the share
// (slash- or backslash-separated, "" for the share's root). The directory
// need not exist yet. Operations are not bound to a context; see FSContext.
func (c *Conn) FS(dir string) vfs.FS { return c.FSContext(context.Background(), dir) }

// FSContext is FS whose operations (and reconnects) end when ctx does.
func (c *Conn) FSContext(ctx context.Context, dir string) vfs.FS { return c.fsContext(ctx, dir, nil) }

// fsContext is FSContext whose operations are spread over c and the
// connections of extra (same share, same account) as they become available.
func (c *Conn) fsContext(ctx context.Context, dir string, extra *lanes) *shareFS {
	f := &shareFS{c: c, extra: extra, ctx: ctx, idPath: map[uint64]string{}, pathID: map[string]uint64{}, links: map[string]bool{},
		checked: map[string]bool{}}
	dir = strings.ReplaceAll(dir, `\`, "/")
	u, err := ParseUNC(`\\s\s\` + dir)
	if err != nil {
		f.err = fmt.Errorf("directory %q in %s: %w", dir, c.target, err)
	}
	f.dir = u.Path
	f.root = UNC{Server: c.target.Server, Share: c.target.Share, Path: u.Path}
	return f
}

var _ vfs.FS = (*shareFS)(nil)

// shareFS is a vfs.FS on a directory of a share.
type shareFS struct {
	c     *Conn
	extra *lanes // more sessions to the same share, or nil
	next  atomic.Uint32
	ctx   context.Context
	dir   string // share-relative, slash-separated
	root  UNC
	err   error // from an invalid dir

	// Symlink detection (see doc.go): Samba shows server-side symlinks as
	// what they point to. Directory entries whose file id was already seen
	// at another path are reported as symlinks and never descended.
	mu     sync.Mutex
	idPath map[uint64]string // directory file id -> first path seen
	pathID map[string]uint64 // and back
	links  map[string]bool   // paths reported as links

	// Directories checked before operations beneath them (confine.go).
	checked map[string]bool

	// Attributes SetAttrs set without ARCHIVE, by name: a rename sets
	// ARCHIVE (Windows and Samba alike), so Rename and Finish set them
	// again on the new name (meta.go).
	attrsSet map[string]uint32
}

func (f *shareFS) String() string { return f.root.String() }

// full returns the share-relative backslash name of a vfs name.
func (f *shareFS) full(op, name string) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	if name != "" {
		if strings.ContainsRune(name, '\\') || !fs.ValidPath(name) {
			return "", &fs.PathError{Op: op, Path: f.display(name), Err: fs.ErrInvalid}
		}
	}
	p := vfs.Join(f.dir, name)
	if f.dir == "" {
		p = name
	}
	return strings.ReplaceAll(p, "/", `\`), nil
}

// display is the UNC path of a name, for messages.
func (f *shareFS) display(name string) string {
	if name == "" {
		return f.root.String()
	}
	return f.root.String() + `\` + strings.ReplaceAll(name, "/", `\`)
}

func (f *shareFS) wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var le *LostError
	if errors.As(err, &le) || errors.Is(err, ErrClosed) || err == f.err {
		return &fs.PathError{Op: op, Path: f.display(name), Err: err}
	}
	if code, ok := status(err); ok && code == statusStoppedOnSymlink {
		// A Windows server met a symbolic link on the way (confine.go).
		err = vfs.ErrNotFollowed
	} else if needsRedial(err) {
		err = &LostError{Target: f.c.target, Err: inner(err)}
	} else {
		err = inner(err)
	}
	return &fs.PathError{Op: op, Path: f.display(name), Err: err}
}

// conn picks the connection for the next operation: c and the extra lanes
// in turn. Every operation, and every open file, stays on one connection;
// successive operations on one name may use different ones (they are
// sessions of one account on one share, so each sees what the other did
// once it was answered).
func (f *shareFS) conn() *Conn {
	if f.extra == nil {
		return f.c
	}
	cs := f.extra.get()
	if len(cs) == 0 {
		return f.c
	}
	i := int(f.next.Add(1)) % (len(cs) + 1)
	if i == 0 {
		return f.c
	}
	return cs[i-1]
}

// do runs fn on the share with reconnects and wraps its error.
func (f *shareFS) do(op, name string, fn func(sh *smb2.Share, full string, retried bool) error) error {
	full, err := f.full(op, name)
	if err != nil {
		return err
	}
	err = f.conn().do(f.ctx, func(sh *smb2.Share, retried bool) error { return fn(sh, full, retried) })
	return f.wrap(op, name, err)
}

// File attributes.
const (
	attrReadOnly     = 0x1
	attrDirectory    = 0x10
	attrReparsePoint = 0x400
)

// Reparse point tags that make an entry a link (name surrogates).
const (
	reparseTagMountPoint    = 0xA0000003
	reparseTagSymlink       = 0xA000000C
	reparseTagNameSurrogate = 0x20000000
)

func (f *shareFS) entry(name string, st *smb2.FileStat) vfs.Entry {
	attrs := st.FileAttributes
	// Attrs carry the low 16 bits as Windows listings do (the engine
	// compares and copies engine.AttrsCopied of them). A plain file reads
	// back as NORMAL or ARCHIVE, never 0, so a share's entries always take
	// part in the comparison with a tree that reports attributes, and
	// never with one that does not (a Unix tree's are 0).
	e := vfs.Entry{Name: name, Size: st.EndOfFile, ModTime: st.LastWriteTime, Mode: 0o644, Kind: vfs.File, Attrs: uint16(attrs)}
	if attrs&attrReadOnly != 0 {
		e.Mode = 0o444
	}
	if attrs&attrDirectory != 0 {
		e.Kind, e.Size, e.Mode = vfs.Dir, 0, 0o755
	}
	if attrs&attrReparsePoint != 0 {
		tag := st.ReparsePointTag
		// Share.Lstat does not report the tag (0): treat every reparse
		// point it shows as a link. Listings do, and then only name
		// surrogates (symlinks, junctions) are links; other tags (dedup,
		// cloud files) are ordinary files and directories.
		if tag == 0 || tag == reparseTagSymlink || tag == reparseTagMountPoint || tag&reparseTagNameSurrogate != 0 {
			e.Kind, e.Size = vfs.Symlink, 0
		}
	}
	return e
}

func (f *shareFS) Stat(name string) (vfs.Entry, error) {
	var e vfs.Entry
	if err := f.confine("lstat", name, false); err != nil {
		return vfs.Entry{}, err
	}
	err := f.do("lstat", name, func(sh *smb2.Share, full string, _ bool) error {
		fi, err := sh.Lstat(full)
		if err != nil {
			return err
		}
		st := fi.Sys().(*smb2.FileStat)
		base := path.Base(name)
		if name == "" {
			base = path.Base("/" + f.root.Share + "/" + f.dir)
		}
		e = f.entry(base, st)
		return nil
	})
	if err != nil {
		return vfs.Entry{}, err
	}
	f.mu.Lock()
	if f.links[name] {
		e.Kind, e.Size = vfs.Symlink, 0
	}
	f.mu.Unlock()
	return e, nil
}

func (f *shareFS) ReadDir(name string) ([]vfs.Entry, error) {
	var stats []*smb2.FileStat
	if err := f.confine("readdir", name, false); err != nil {
		return nil, err
	}
	err := f.do("readdir", name, func(sh *smb2.Share, full string, _ bool) error {
		d, err := sh.Open(full)
		if err != nil {
			return err
		}
		defer d.Close()
		// The directory itself is checked on the handle that lists it
		// (which also records its own id, to recognise links back to it).
		if !f.isChecked(name) {
			if err := f.verify(sh, d, name, full); err != nil {
				return err
			}
		}
		fis, err := d.Readdir(-1)
		if err != nil {
			return err
		}
		stats = stats[:0]
		for _, fi := range fis {
			stats = append(stats, fi.(*smb2.FileStat))
		}
		return nil
	})
	if errors.Is(err, vfs.ErrNotFollowed) {
		return nil, f.notFollowed("readdir", name)
	}
	if err != nil {
		return nil, err
	}
	out := make([]vfs.Entry, 0, len(stats))
	f.mu.Lock()
	defer f.mu.Unlock()
	// Directories sharing a file id within this listing: at least one is a
	// link, and SMB does not say which, so all are reported as links.
	count := map[uint64]int{}
	for _, st := range stats {
		if st.FileAttributes&attrDirectory != 0 && st.FileId != 0 {
			count[st.FileId]++
		}
	}
	for _, st := range stats {
		e := f.entry(st.FileName, st)
		rel := vfs.Join(name, st.FileName)
		if e.Kind == vfs.Dir && st.FileId != 0 {
			first, seen := f.idPath[st.FileId]
			switch {
			case count[st.FileId] > 1, seen && first != rel:
				e.Kind = vfs.Symlink
			case !seen:
				f.idPath[st.FileId], f.pathID[rel] = rel, st.FileId
			}
		}
		if e.Kind == vfs.Symlink {
			f.links[rel] = true
		} else {
			delete(f.links, rel)
		}
		// What the plan sees of each directory: later operations
		// beneath it check that it is still the same one.
		if full, err := f.full("", rel); err == nil {
			if e.Kind == vfs.Dir {
				f.c.dirs.set(full, st.FileId)
			} else {
				f.c.dirs.set(full, 0)
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *shareFS) Open(name string) (vfs.Reader, error) {
	var r *smbFile
	if err := f.confine("open", name, false); err != nil {
		return nil, err
	}
	err := f.do("open", name, func(sh *smb2.Share, full string, _ bool) error {
		file, err := sh.Open(full)
		if err != nil {
			return err
		}
		if file.Name() != full {
			// go-smb2 followed a link (STATUS_STOPPED_ON_SYMLINK).
			file.Close()
			return vfs.ErrNotFollowed
		}
		r = &smbFile{f: f, name: name, file: file}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (f *shareFS) CreateTemp(dir, prefix string, perm fs.FileMode) (vfs.Writer, string, error) {
	return f.createTemp(dir, prefix, nil)
}

var _ vfs.TempWriter = (*shareFS)(nil)

// WriteTemp is CreateTemp with data written: the create and the write in
// one compound request (one round trip) when data fits one write, which is
// answered before anything else is sent on the file. When the write fails,
// the file is closed and removed.
func (f *shareFS) WriteTemp(dir, prefix string, perm fs.FileMode, data []byte) (vfs.Writer, string, error) {
	if data == nil {
		data = []byte{}
	}
	return f.createTemp(dir, prefix, data)
}

// createTemp creates a temporary file in dir; with data (not nil) holding
// data.
func (f *shareFS) createTemp(dir, prefix string, data []byte) (vfs.Writer, string, error) {
	if err := f.confine("create", vfs.Join(dir, "x"), false); err != nil {
		return nil, "", err
	}
	for range 10 {
		var b [6]byte
		rand.Read(b[:])
		name := vfs.Join(dir, prefix+hex.EncodeToString(b[:])+".tmp")
		var w *smbFile
		err := f.do("create", name, func(sh *smb2.Share, full string, retried bool) error {
			var ops []smb2.FileOp
			if len(data) > 0 && len(data) <= sh.MaxWriteSize() {
				ops = append(ops, smb2.WriteOp(data, 0))
			}
			// FILE_CREATE: fails when the name exists (O_EXCL). The
			// read-only attribute is never set on a file being written.
			// DELETE access, so Finish renames through this handle.
			// A link the server reports (a Windows symlink) is not
			// followed: STATUS_STOPPED_ON_SYMLINK, vfs.ErrNotFollowed.
			file, err := sh.OpenFileWith(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644, smb2.AccessDelete, ops...)
			if file == nil {
				return err
			}
			if got := file.Name(); got != full || err != nil {
				// A failed write (the create succeeded), or go-smb2
				// followed a link and created the file elsewhere in
				// the share: remove it (it is new, made by this call).
				file.Close()
				sh.Remove(got)
				if err != nil {
					return err
				}
				return vfs.ErrNotFollowed
			}
			w = &smbFile{f: f, name: name, file: file}
			if len(ops) == 0 && len(data) > 0 {
				// Larger than one write: written now, in pieces.
				if _, err := w.ReadFrom(bytes.NewReader(data)); err != nil {
					file.Close()
					sh.Remove(full)
					w = nil
					return err
				}
			} else if len(ops) > 0 {
				if _, err := file.Seek(int64(len(data)), io.SeekStart); err != nil {
					file.Close()
					sh.Remove(full)
					w = nil
					return err
				}
			}
			return nil
		})
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		return w, name, nil
	}
	return nil, "", &fs.PathError{Op: "create", Path: f.display(dir), Err: errors.New("no unique temporary name after 10 attempts")}
}

// clearReadOnly clears the DOS read-only attribute of full when it is set.
// Windows servers refuse to delete or replace read-only files.
func clearReadOnly(sh *smb2.Share, full string) (cleared bool) {
	fi, err := sh.Lstat(full)
	if err != nil || fi.Sys().(*smb2.FileStat).FileAttributes&attrReadOnly == 0 {
		return false
	}
	return sh.Chmod(full, 0o644) == nil
}

func (f *shareFS) Rename(oldname, newname string) error {
	return f.rename(oldname, newname, true)
}

var _ vfs.FreshRenamer = (*shareFS)(nil)

// RenameFresh is Rename that refuses a newname that is taken: the rename
// request itself says not to replace (ReplaceIfExists cleared), so the
// server checks the name and renames in one step, and the error matches
// fs.ErrExist. A read-only file in the way is refused like any other.
func (f *shareFS) RenameFresh(oldname, newname string) error {
	return f.rename(oldname, newname, false)
}

func (f *shareFS) rename(oldname, newname string, replace bool) error {
	newFull, err := f.full("rename", newname)
	if err != nil {
		return err
	}
	oldDir, newDir := f.knownDir(oldname), f.knownDir(newname)
	if err := f.confine("rename", oldname, oldDir); err != nil {
		return err
	}
	if err := f.confine("rename", newname, false); err != nil {
		return err
	}
	err = f.do("rename", oldname, func(sh *smb2.Share, oldFull string, retried bool) error {
		var err error
		if replace {
			err = sh.Rename(oldFull, newFull)
			if errors.Is(err, fs.ErrPermission) && clearReadOnly(sh, newFull) {
				err = sh.Rename(oldFull, newFull)
			}
		} else {
			err = sh.RenameNoReplace(oldFull, newFull)
		}
		if retried && errors.Is(err, fs.ErrNotExist) {
			// The first attempt may have succeeded before the connection
			// broke.
			if _, serr := sh.Lstat(oldFull); errors.Is(serr, fs.ErrNotExist) {
				if _, serr := sh.Lstat(newFull); serr == nil {
					return nil
				}
			}
		}
		return err
	})
	if attrs, ok := f.takeAttrs(oldname); ok && err == nil {
		err = f.do("setattr", newname, func(sh *smb2.Share, full string, _ bool) error {
			return sh.SetBasicInfo(full, smb2.FileBasicInfo{FileAttributes: attrs})
		})
	}
	if err == nil && (oldDir || newDir) {
		// A directory moved: what robo knew beneath both names is stale.
		f.forget(oldname, true)
		f.forget(newname, true)
	}
	return err
}

func (f *shareFS) Chtimes(name string, mtime time.Time) error {
	if err := f.confine("chtimes", name, f.knownDir(name)); err != nil {
		return err
	}
	return f.do("chtimes", name, func(sh *smb2.Share, full string, _ bool) error {
		// One round trip (open, set, close compounded), on the entry
		// itself: a final link is not followed. Access time: now.
		return sh.SetBasicInfo(full, smb2.FileBasicInfo{LastAccessTime: time.Now(), LastWriteTime: mtime})
	})
}

func (f *shareFS) Mkdir(name string, perm fs.FileMode) error {
	if err := f.confine("mkdir", name, false); err != nil {
		return err
	}
	created := false
	err := f.do("mkdir", name, func(sh *smb2.Share, full string, _ bool) error {
		err := sh.Mkdir(full, perm)
		if errors.Is(err, fs.ErrExist) {
			if fi, serr := sh.Lstat(full); serr == nil && fi.IsDir() {
				return nil
			}
		}
		created = err == nil
		return err
	})
	if created {
		// A new directory: its id is learnt by the first check.
		f.forget(name, false)
	}
	return err
}

func (f *shareFS) MkdirAll(name string) error {
	full, err := f.full("mkdir", name)
	if err != nil {
		return err
	}
	if full == "" {
		return nil
	}
	if name != "" {
		// Below the root, one component at a time, each checked.
		if err := f.MkdirAll(""); err != nil {
			return err
		}
		for i := 0; i <= len(name); i++ {
			if i == len(name) || name[i] == '/' {
				if err := f.Mkdir(name[:i], 0o755); err != nil {
					return err
				}
			}
		}
		return nil
	}
	// The root and its parents, as configured (which may pass through
	// links: the admin's choice).
	created := false
	defer func() {
		if created {
			f.forget("", false)
		}
	}()
	return f.do("mkdir", name, func(sh *smb2.Share, _ string, _ bool) error {
		if fi, err := sh.Lstat(full); err == nil {
			if fi.IsDir() {
				return nil
			}
			return &statusError{code: statusNotADirectory, err: errors.New("not a directory")}
		}
		created = true
		elems := strings.Split(full, `\`)
		for i := range elems {
			p := strings.Join(elems[:i+1], `\`)
			err := sh.Mkdir(p, 0o755)
			if errors.Is(err, fs.ErrExist) {
				if fi, serr := sh.Lstat(p); serr == nil && fi.IsDir() {
					continue
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (f *shareFS) Remove(name string) error {
	if name == "" {
		return &fs.PathError{Op: "remove", Path: f.display(name), Err: errors.New("refusing to remove the root of an SMB file system")}
	}
	f.mu.Lock()
	link := f.links[name]
	delete(f.attrsSet, name)
	f.mu.Unlock()
	if link {
		// A server-side link looks like its target; deleting "it" could
		// delete what it points to. Never.
		return &fs.PathError{Op: "remove", Path: f.display(name), Err: ErrSymlinksUnsupported}
	}
	if err := f.confine("remove", name, f.knownDir(name)); err != nil {
		return err
	}
	err := f.do("remove", name, func(sh *smb2.Share, full string, retried bool) error {
		// Share.Remove clears the read-only attribute and retries when
		// the server refuses (Windows does, Samba does not).
		err := sh.Remove(full)
		if errors.Is(err, fs.ErrPermission) && clearReadOnly(sh, full) {
			err = sh.Remove(full)
		}
		if retried && errors.Is(err, fs.ErrNotExist) {
			return nil // the first attempt removed it before the connection broke
		}
		return err
	})
	if err == nil {
		// A removed directory was empty: nothing beneath it is known.
		f.forget(name, false)
	}
	return err
}

func (f *shareFS) Symlink(target, name string) error {
	return &fs.PathError{Op: "symlink", Path: f.display(name), Err: ErrSymlinksUnsupported}
}

func (f *shareFS) Readlink(name string) (string, error) {
	return "", &fs.PathError{Op: "readlink", Path: f.display(name), Err: ErrSymlinksUnsupported}
}

// smbFile is an open file: a vfs.Reader or vfs.Writer.
type smbFile struct {
	f    *shareFS
	name string
	file *smb2.File
	once sync.Once
	cerr error

	// Read buffer: io.Copy reads 32 KiB at a time, one round trip each;
	// Read asks the server for ioChunk at once and hands it out in pieces.
	rbp  *[]byte // from chunkPool, until Close
	rbuf []byte  // what is left of the last read
}

func (s *smbFile) Read(p []byte) (int, error) {
	if len(s.rbuf) == 0 && len(p) < ioChunk {
		if s.rbp == nil {
			s.rbp = chunkPool.Get().(*[]byte)
		}
		n, err := s.file.Read(*s.rbp)
		s.rbuf = (*s.rbp)[:n]
		if n == 0 && err != nil {
			if err != io.EOF {
				err = s.f.wrap("read", s.name, err)
			}
			return 0, err
		}
		// A failed read that still returned data: the next call asks
		// again and reports the error.
	}
	if len(s.rbuf) > 0 {
		n := copy(p, s.rbuf)
		s.rbuf = s.rbuf[n:]
		return n, nil
	}
	n, err := s.file.Read(p)
	if err != nil && err != io.EOF {
		err = s.f.wrap("read", s.name, err)
	}
	return n, err
}

func (s *smbFile) Write(p []byte) (int, error) {
	n, err := s.file.Write(p)
	return n, s.f.wrap("write", s.name, err)
}

// Large writes. go-smb2 sends one write request at a time and waits for its
// answer; io.Copy into a Writer without ReadFrom hands it 32 KiB at a time,
// one round trip each. ReadFrom (which io.Copy and io.CopyN use) reads the
// source in chunks of ioChunk, go-smb2's largest request, and keeps up to
// ioAhead of them in flight at increasing offsets.
const (
	ioChunk = 1 << 20
	ioAhead = 4
)

var chunkPool = sync.Pool{New: func() any { b := make([]byte, ioChunk); return &b }}

// ReadFrom writes what r holds at the file's offset, several chunks at once,
// and returns how many bytes were written: on a failed write, the bytes
// before the first failed chunk.
func (s *smbFile) ReadFrom(r io.Reader) (int64, error) {
	start, err := s.file.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, s.f.wrap("write", s.name, err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		werr  error
		bad   int64 = -1 // offset of the first failed chunk
		slots       = make(chan struct{}, ioAhead)
		n     int64 // bytes read from r
		rerr  error
	)
	fail := func(at int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		if bad < 0 || at < bad {
			bad, werr = at, err
		}
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return werr != nil
	}
	write := func(buf []byte, at int64) {
		m, err := s.file.WriteAt(buf, at)
		if err == nil && m < len(buf) {
			err = io.ErrShortWrite
		}
		if err != nil {
			fail(at, err)
		}
	}
	for !failed() {
		bp := chunkPool.Get().(*[]byte)
		k, err := io.ReadFull(r, *bp)
		last := err != nil
		if k > 0 {
			at := start + n
			n += int64(k)
			if last && n == int64(k) {
				// All of r in one chunk (a small file): no goroutine.
				write((*bp)[:k], at)
				chunkPool.Put(bp)
			} else {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() {
						chunkPool.Put(bp)
						<-slots
						wg.Done()
					}()
					write((*bp)[:k], at)
				}()
			}
		} else {
			chunkPool.Put(bp)
		}
		if last {
			if err != io.EOF && err != io.ErrUnexpectedEOF {
				rerr = err
			}
			break
		}
	}
	wg.Wait()
	written := n
	if bad >= 0 {
		written = bad - start
	}
	if _, err := s.file.Seek(start+written, io.SeekStart); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return written, s.f.wrap("write", s.name, werr)
	}
	return written, rerr
}

var _ vfs.Finisher = (*smbFile)(nil)

// Finish gives the file written through s its modification time, renames it
// to newname and closes it: SET_INFO (times), SET_INFO (rename, replacing)
// and CLOSE on the open handle in one compound request, one round trip. The
// data was written and answered before (Write, ReadFrom), so a failed write
// never reaches the rename. The checks of Rename run first (the
// directories on the way to newname). A server that refuses the rename on
// the handle (a read-only file in the way on Windows, a lease break it
// will not wait for inside a compound) gets one more try through Rename,
// by name, which clears the read-only attribute; the file keeps its time
// either way.
//
// Servers run the whole chain even when setting the time fails: then the
// file is at newname, complete, with the wrong time, and Finish reports
// the error (the next run sees the time differ and copies it again).
func (s *smbFile) Finish(mtime time.Time, newname string) error {
	return s.finish(mtime, newname, true)
}

var _ vfs.FreshFinisher = (*smbFile)(nil)

// FinishFresh is Finish for a new file: the rename in the compound refuses
// a newname that is taken (ReplaceIfExists cleared), which makes the
// destination guard of a create part of the same round trip. When it is
// refused, the file is closed under its temporary name, its time set, and
// the error matches fs.ErrExist; nothing is tried by name.
func (s *smbFile) FinishFresh(mtime time.Time, newname string) error {
	return s.finish(mtime, newname, false)
}

func (s *smbFile) finish(mtime time.Time, newname string, replace bool) error {
	newFull, err := s.f.full("rename", newname)
	if err == nil && s.f.knownDir(newname) {
		// A directory robo listed is in the way: the ordinary
		// path, which knows what to forget when it moves.
		err = errFinishByName
	}
	if err == nil {
		err = s.f.confine("rename", newname, false)
	}
	if err != nil && !errors.Is(err, errFinishByName) {
		s.Close()
		return err
	}
	if err != nil {
		if err := s.Close(); err != nil {
			return err
		}
		if err := s.f.Chtimes(s.name, mtime); err != nil {
			return err
		}
		return s.f.rename(s.name, newname, replace)
	}
	var derr error
	ops := []smb2.FileOp{smb2.SetBasicInfoOp(smb2.FileBasicInfo{LastAccessTime: time.Now(), LastWriteTime: mtime}),
		smb2.RenameOp(newFull, replace)}
	attrs, reset := s.f.takeAttrs(s.name)
	if reset {
		// After the rename, which set ARCHIVE; times left as they are.
		ops = append(ops, smb2.SetBasicInfoOp(smb2.FileBasicInfo{FileAttributes: attrs}))
	}
	ops = append(ops, smb2.CloseOp())
	s.once.Do(func() {
		derr = s.file.Do(ops...)
		s.cerr = derr
		if s.rbp != nil {
			chunkPool.Put(s.rbp)
			s.rbp, s.rbuf = nil, nil
		}
	})
	if derr == nil {
		return nil
	}
	var pe *fs.PathError
	op := "rename"
	if errors.As(derr, &pe) {
		op = pe.Op
	}
	if op == "rename" && !needsRedial(derr) {
		// The compound's CLOSE ran after the refused rename; closed
		// means the handle is gone (a second close is os.ErrInvalid).
		if cerr := s.file.Close(); cerr == nil || errors.Is(cerr, os.ErrInvalid) {
			if !replace && errors.Is(derr, fs.ErrExist) {
				// The name is taken: the caller's guard decides.
				return s.f.wrap(op, s.name, inner(derr))
			}
			if reset {
				s.f.keepAttrs(s.name, attrs)
			}
			return s.f.rename(s.name, newname, replace)
		}
	}
	return s.f.wrap(op, s.name, inner(derr))
}

// errFinishByName: Finish takes the path of Close, Chtimes and Rename.
var errFinishByName = errors.New("finish by name")

func (s *smbFile) Sync() error { return s.f.wrap("sync", s.name, s.file.Sync()) }

func (s *smbFile) Stat() (fs.FileInfo, error) {
	fi, err := s.file.Stat()
	if err != nil {
		return nil, s.f.wrap("stat", s.name, err)
	}
	return fi, nil
}

func (s *smbFile) Close() error {
	s.once.Do(func() {
		s.cerr = s.f.wrap("close", s.name, s.file.Close())
		if s.rbp != nil {
			chunkPool.Put(s.rbp)
			s.rbp, s.rbuf = nil, nil
		}
	})
	return s.cerr
}
