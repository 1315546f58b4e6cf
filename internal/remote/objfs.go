package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/robo-backup/robo/internal/memlimit"
	"github.com/robo-backup/robo/internal/vfs"
)

// objStore is the few requests robo makes of an object store (S3, Azure
// Blob). Keys are full, slash-separated object names. Every method MUST
// wrap fs.ErrNotExist for a missing key, errPrecondition for a failed
// conditional write and vfs.ErrUnreachable when the store cannot be
// reached; errors name neither the store's credentials nor its signatures.
type objStore interface {
	// head returns one object's size, ETag and modification time (robo's
	// mtime metadata when it has it, else the store's last-modified time).
	head(ctx context.Context, key string) (objInfo, error)
	// list returns the objects and common prefixes directly under prefix
	// (delimiter "/"), with full keys, following continuation until the
	// end or until at least max entries are in (0: no limit). Listed
	// objects carry robo's mtime only when the store lists metadata
	// (objInfo.timeKnown).
	list(ctx context.Context, prefix string, max int) (objs []objInfo, prefixes []string, err error)
	// get opens an object for reading.
	get(ctx context.Context, key string) (io.ReadCloser, objInfo, error)
	// put stores data at key in one request, with the modification time
	// as metadata and the condition.
	put(ctx context.Context, key string, data []byte, mtime time.Time, c cond) error
	// upload starts an upload in parts, invisible until complete.
	upload(ctx context.Context, key string, mtime time.Time) (objUpload, error)
	// copy copies the object at from (which must still have the ETag
	// etag) to to, server-side; a non-nil mtime replaces the copy's
	// modification-time metadata, otherwise it is kept.
	copy(ctx context.Context, from, to string, src objInfo, mtime *time.Time) error
	// remove deletes an object; a missing one is not an error.
	remove(ctx context.Context, key string) error
}

// pace returns a body that sends data at the Conn's bandwidth limit. It
// can seek, so that the client library can send it again on a new
// connection when a kept-alive one was closed by the server.
func (c *Conn) pace(data []byte) io.Reader {
	r := bytes.NewReader(data)
	return pacedSeeker{pacedReader{Reader: r, l: c.bw}, r}
}

type pacedSeeker struct {
	pacedReader
	s io.Seeker
}

func (p pacedSeeker) Seek(off int64, whence int) (int64, error) { return p.s.Seek(off, whence) }

// objUpload is an upload in parts: parts go in order; complete makes the
// object visible whole (under the condition), abort discards the parts.
type objUpload interface {
	part(ctx context.Context, data []byte) error
	complete(ctx context.Context, c cond) error
	abort(ctx context.Context) error
}

// cond is a conditional write: IfMatch stores only over the object with
// that ETag, IfNoneMatch only when no object has the key.
type cond struct {
	IfMatch     string
	IfNoneMatch bool
}

// errPrecondition: a conditional write found another object than the one
// it was made for.
var errPrecondition = errors.New("the object changed (conditional write refused)")

// objInfo is what robo reads of one object.
type objInfo struct {
	Key     string
	Size    int64
	ETag    string
	ModTime time.Time
	// TimeKnown is false for a listed object whose robo mtime the listing
	// does not carry (S3): ReadDir then asks for it.
	TimeKnown bool
}

// implicitDirTime is the time of a directory that has objects under it but
// no marker of its own.
var implicitDirTime = time.Unix(0, 0)

// objFS is a folder of an object store as a vfs.FS. Directories are key
// prefixes: one exists while an object has a key under it, and robo
// writes a zero-length marker object "DIR/" (holding the directory's time)
// for each directory it creates, so that empty directories and their times
// survive. A name that is both an object and a prefix is the object (the
// keys under the prefix are not listed). There is no rename: files are
// written through CreateFinal, which makes them visible only when complete
// (vfs.AtomicCreator), and Rename is a server-side copy and a delete.
type objFS struct {
	c    *Conn
	st   objStore
	root string // key prefix without a trailing slash; "" is the whole bucket
	name string
	// threshold is the size from which uploads go in parts of chunk bytes.
	threshold, chunk int64
	ctx              context.Context

	mu sync.Mutex
	// looks holds the latest Stat of each name (the engine's guard just
	// before it writes the file), for Commit to tie its conditional write
	// to (see reuseLook).
	looks map[string]look
	// dirs holds the directories this FS knows to be directories: true
	// for one it made itself (empty then, so a name in it is most likely
	// new), false for one it listed or found.
	dirs map[string]bool
	// marks holds the time of each folder marker this FS wrote: a folder
	// it made is looked at from here, not from the store (three requests,
	// one a listing, each time the engine checks it; see statNow).
	marks map[string]time.Time
	// flat holds folders' listings read ahead by a flat listing, flatN
	// their keys, wrote when this FS last wrote (objflat.go).
	flat  map[string]*flatDir
	flatN int
	wrote time.Time
}

// look is one Stat's answer: the entry and its object, or absent.
type look struct {
	e      vfs.Entry
	o      objInfo
	exists bool
	at     time.Time // when the request was sent
}

// reuseLook is how old the engine's guard (a Stat of the name just before
// the upload) may be for Commit to store a single-request upload on the
// condition of what that Stat saw, instead of reading the name once more.
// The condition (If-None-Match: * or If-Match: ETAG) is what makes the
// overwrite safe; the read only tells the engine what is there, and a
// second one a few milliseconds later adds two or three requests per file
// for nothing. An older look, a multipart upload, or anything robo did to
// the name since, and Commit reads again.
const reuseLook = time.Second

// maxLooks bounds the looks kept (only the newest matter).
const maxLooks = 4096

var (
	_ vfs.FS            = (*objFS)(nil)
	_ vfs.AtomicCreator = (*objFS)(nil)
	_ vfs.TimedMkdirer  = (*objFS)(nil)
)

func (f *objFS) String() string { return f.name }

func (f *objFS) key(name string) string {
	switch {
	case f.root == "":
		return name
	case name == "":
		return f.root
	}
	return f.root + "/" + name
}

func (f *objFS) pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: vfs.Join(f.name, name), Err: err}
}

func fileEntry(name string, o objInfo) vfs.Entry {
	return vfs.Entry{Name: name, Kind: vfs.File, Size: o.Size, ModTime: o.ModTime, Mode: 0o644}
}

// stat returns the entry at name and, for a file, its object.
func (f *objFS) stat(name string) (vfs.Entry, objInfo, error) {
	e, o, err := f.statNow(name)
	if err == nil && e.Kind == vfs.Dir {
		f.sawDir(name, false)
	}
	return e, o, err
}

func (f *objFS) statNow(name string) (vfs.Entry, objInfo, error) {
	if e, ok := f.madeDir(name); ok {
		if name == "" {
			e.Name = ""
		}
		return e, objInfo{}, nil
	}
	if name != "" {
		parent := path.Dir(name)
		if parent == "." {
			parent = ""
		}
		if _, made := f.knownDir(parent); made {
			// In a folder this FS made, nearly every name is new: its
			// look is one HEAD. A folder at the name is one robo made
			// or saw here (knownDir); one another tool makes there
			// during the run is not looked for, since the conditional
			// write then leaves a name that is a file and a folder,
			// which loses nothing (docs/offsite.md). A listing per name
			// would cost a LIST (priced like a PUT on AWS, and a walk
			// of the container on Azurite) where a HEAD does.
			if known, _ := f.knownDir(name); !known {
				o, err := f.st.head(f.ctx, f.key(name))
				if err != nil {
					return vfs.Entry{}, objInfo{}, f.pathErr("stat", name, err)
				}
				return fileEntry(path.Base(name), o), o, nil
			}
		}
	}
	base := path.Base(name)
	if name == "" {
		base = ""
		if f.root == "" {
			return vfs.Entry{Kind: vfs.Dir, ModTime: implicitDirTime, Mode: 0o755}, objInfo{}, nil
		}
	} else {
		o, err := f.st.head(f.ctx, f.key(name))
		if err == nil {
			return fileEntry(base, o), o, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return vfs.Entry{}, objInfo{}, f.pathErr("stat", name, err)
		}
	}
	// A directory: a marker, or any key under the prefix.
	prefix := f.key(name) + "/"
	objs, prefixes, err := f.st.list(f.ctx, prefix, 1)
	if err != nil {
		return vfs.Entry{}, objInfo{}, f.pathErr("stat", name, err)
	}
	if len(objs) == 0 && len(prefixes) == 0 {
		return vfs.Entry{}, objInfo{}, f.pathErr("stat", name, fs.ErrNotExist)
	}
	e := vfs.Entry{Name: base, Kind: vfs.Dir, ModTime: implicitDirTime, Mode: 0o755}
	if len(objs) > 0 && objs[0].Key == prefix {
		m, err := f.st.head(f.ctx, prefix)
		if err == nil {
			e.ModTime = m.ModTime
		} else if !errors.Is(err, fs.ErrNotExist) {
			return vfs.Entry{}, objInfo{}, f.pathErr("stat", name, err)
		}
	}
	return e, objInfo{}, nil
}

// Stat is the engine's way to look at a name (its guard before a change):
// the answer is kept for Commit (reuseLook).
func (f *objFS) Stat(name string) (vfs.Entry, error) {
	at := time.Now()
	e, o, err := f.stat(name)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		f.mu.Lock()
		if f.looks == nil {
			f.looks = map[string]look{}
		}
		if len(f.looks) >= maxLooks {
			for k, l := range f.looks {
				if time.Since(l.at) > reuseLook {
					delete(f.looks, k)
				}
			}
			if len(f.looks) >= maxLooks {
				clear(f.looks)
			}
		}
		f.looks[name] = look{e: e, o: o, exists: err == nil, at: at}
		f.mu.Unlock()
	}
	return e, err
}

// takeLook returns and forgets the look of name, if it is recent enough
// to commit on (reuseLook).
func (f *objFS) takeLook(name string) (look, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.looks[name]
	delete(f.looks, name)
	return l, ok && time.Since(l.at) <= reuseLook
}

// writing forgets the looks of the names this FS is about to change and
// every listing kept (objflat.go); the returned done forgets the listings
// once more when the write is over, since one made meanwhile may lack it.
func (f *objFS) writing(names ...string) (done func()) {
	f.mu.Lock()
	for _, n := range names {
		delete(f.looks, n)
	}
	f.dropFlatLocked()
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.dropFlatLocked()
		f.mu.Unlock()
	}
}

// sawDir records a directory: made here (made) or found.
func (f *objFS) sawDir(name string, made bool) {
	f.mu.Lock()
	f.sawDirLocked(name, made)
	f.mu.Unlock()
}

// sawDirLocked is sawDir with f.mu held: a folder once made stays made.
func (f *objFS) sawDirLocked(name string, made bool) {
	if f.dirs == nil {
		f.dirs = map[string]bool{}
	}
	f.dirs[name] = f.dirs[name] || made
}

// sawParents records the folders above name, a key this FS just wrote:
// they are folders now, whoever made them.
func (f *objFS) sawParents(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p := name; p != ""; {
		if p = path.Dir(p); p == "." {
			p = ""
		}
		f.sawDirLocked(p, false)
	}
}

// knownDir reports whether name is a directory this FS made or found,
// and whether it made it.
func (f *objFS) knownDir(name string) (known, made bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	made, known = f.dirs[name]
	return known, made
}

// validName reports whether a listed name can be a path element: not
// empty (a key with "//"), not "." or "..", no NUL.
func validName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsRune(n, 0)
}

// headers bounds the HEAD requests ReadDir makes at once for listed
// objects' times.
const headers = 16

func (f *objFS) ReadDir(name string) ([]vfs.Entry, error) {
	prefix := ""
	if k := f.key(name); k != "" {
		prefix = k + "/"
	}
	objs, prefixes, err := f.listDir(prefix)
	if err != nil {
		return nil, f.pathErr("readdir", name, err)
	}
	files := map[string]bool{}
	out := make([]vfs.Entry, 0, len(objs)+len(prefixes))
	var unknown []int
	for _, o := range objs {
		n := strings.TrimPrefix(o.Key, prefix)
		if o.Key == prefix || !validName(n) || strings.HasSuffix(n, "/") {
			continue // the directory's own marker, or a key robo cannot name
		}
		files[n] = true
		if !o.TimeKnown {
			unknown = append(unknown, len(out))
		}
		out = append(out, fileEntry(n, o))
	}
	for _, p := range prefixes {
		n := strings.TrimSuffix(strings.TrimPrefix(p, prefix), "/")
		if !validName(n) || strings.Contains(n, "/") || files[n] {
			continue
		}
		out = append(out, vfs.Entry{Name: n, Kind: vfs.Dir, ModTime: implicitDirTime, Mode: 0o755})
	}
	if len(out) == 0 && name != "" {
		if _, err := f.Stat(name); err != nil {
			return nil, err
		}
	}
	// The listing has the store's upload time, not robo's: ask each object
	// for its mtime metadata, a few at once.
	if len(unknown) > 0 {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		sem := make(chan struct{}, headers)
		for _, i := range unknown {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer func() { <-sem; wg.Done() }()
				o, err := f.st.head(f.ctx, prefix+out[i].Name)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					out[i].Size, out[i].ModTime = o.Size, o.ModTime
				case errors.Is(err, fs.ErrNotExist):
					out[i].Name = "" // deleted since the listing
				case firstErr == nil:
					firstErr = err
				}
			}(i)
		}
		wg.Wait()
		if firstErr != nil {
			return nil, f.pathErr("readdir", name, firstErr)
		}
		kept := out[:0]
		for _, e := range out {
			if e.Name != "" {
				kept = append(kept, e)
			}
		}
		out = kept
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(out) > 0 {
		f.mu.Lock()
		f.sawDirLocked(name, false)
		for _, e := range out {
			if e.Kind == vfs.Dir {
				f.sawDirLocked(vfs.Join(name, e.Name), false)
			}
		}
		f.mu.Unlock()
	}
	return out, nil
}

type objReader struct {
	io.Reader
	body io.ReadCloser
	f    *objFS
	name string
	info objInfo
	done bool
}

func (r *objReader) Read(b []byte) (int, error) {
	n, err := r.Reader.Read(b)
	if err != nil && err != io.EOF {
		err = r.f.pathErr("read", r.name, err)
	}
	return n, err
}

func (r *objReader) Stat() (fs.FileInfo, error) {
	return objFileInfo{name: path.Base(r.name), o: r.info}, nil
}

func (r *objReader) Close() error {
	if r.done {
		return nil
	}
	r.done = true
	defer r.f.c.release()
	return r.body.Close()
}

type objFileInfo struct {
	name string
	o    objInfo
}

func (i objFileInfo) Name() string       { return i.name }
func (i objFileInfo) Size() int64        { return i.o.Size }
func (i objFileInfo) Mode() fs.FileMode  { return 0o644 }
func (i objFileInfo) ModTime() time.Time { return i.o.ModTime }
func (i objFileInfo) IsDir() bool        { return false }
func (i objFileInfo) Sys() any           { return nil }

func (f *objFS) Open(name string) (vfs.Reader, error) {
	if name == "" {
		return nil, f.pathErr("open", name, errors.New("not a regular file"))
	}
	f.c.acquire()
	body, o, err := f.st.get(f.ctx, f.key(name))
	if err != nil {
		f.c.release()
		if errors.Is(err, fs.ErrNotExist) {
			if e, serr := f.Stat(name); serr == nil && e.Kind == vfs.Dir {
				err = errors.New("not a regular file")
			}
		}
		return nil, f.pathErr("open", name, err)
	}
	return &objReader{Reader: pacedReader{Reader: body, l: f.c.bw}, body: body, f: f, name: name, info: o}, nil
}

// CreateTemp creates a new object with a unique name, stored when the
// writer is closed (and only if no object has that name by then). The
// engine does not use it for files (CreateFinal writes them without a
// temporary copy); robo remote check does.
func (f *objFS) CreateTemp(dir, prefix string, perm fs.FileMode) (vfs.Writer, string, error) {
	var b [6]byte
	rand.Read(b[:])
	name := vfs.Join(dir, prefix+hex.EncodeToString(b[:])+".tmp")
	w, err := f.CreateFinal(name, perm, time.Now())
	if err != nil {
		return nil, "", err
	}
	return &tempWriter{w.(*objWriter)}, name, nil
}

type tempWriter struct{ *objWriter }

func (w *tempWriter) Sync() error { return nil }

func (w *tempWriter) Close() error {
	if w.done {
		return nil
	}
	skip, err := w.Commit(func(now *vfs.Entry) string {
		if now != nil {
			return "the name exists"
		}
		return ""
	})
	if skip != "" {
		return w.f.pathErr("create", w.name, fs.ErrExist)
	}
	return err
}

// objWriter is a file being uploaded: kept in memory up to the multipart
// threshold and stored with one PUT on Commit, or, once larger, sent in
// parts of the chunk size as it is written and completed on Commit.
type objWriter struct {
	f     *objFS
	name  string
	mtime time.Time
	buf   []byte
	up    objUpload
	// sending is the part being uploaded while the next one is read
	// (nil when none): it answers once with the part's error.
	sending chan error
	err     error
	done    bool
	// size is the file's size as the engine expects it (SizeHint), or
	// -1: a file past the threshold goes in parts from its first byte, a
	// smaller one gets a buffer of its size at once.
	size int64
	// pooled: buf is a part buffer of the Conn's pool (one chunk),
	// holding one of its budget (getPart); whoever takes buf from the
	// writer takes that too.
	pooled bool
	// unreserve gives back what the in-memory buffer added to robo's
	// soft memory limit (memlimit.Reserve), at Abort.
	unreserve []func()
}

// SizeHint implements vfs.SizeHinter. Without it a file was held in
// memory up to the multipart threshold (64 MiB, grown by doubling) before
// its first part went: four big files at once held over 600 MiB.
func (w *objWriter) SizeHint(size int64) {
	if w.up == nil && len(w.buf) == 0 && size >= 0 {
		w.size = size
	}
}

// send uploads one part in the background, after the part before it is
// through (parts go in order, one at a time): reading and hashing the next
// part overlaps with sending this one.
func (w *objWriter) send(data []byte, pooled bool) error {
	if err := w.wait(); err != nil {
		if pooled {
			w.f.c.putPart(data) // never handed to the client
		}
		return err
	}
	ch := make(chan error, 1)
	w.sending = ch
	go func() {
		err := w.up.part(w.f.ctx, data)
		switch {
		case pooled && err == nil:
			// Answered: the server has the whole part, and the client
			// reads the buffer no more.
			w.f.c.putPart(data)
		case pooled:
			w.f.c.dropPart() // after a failure it might still
		}
		ch <- err
	}()
	return nil
}

// wait waits for the part being sent.
func (w *objWriter) wait() error {
	if w.sending == nil {
		return nil
	}
	err := <-w.sending
	w.sending = nil
	return err
}

// CreateFinal implements vfs.AtomicCreator. perm is not kept (object
// stores have no permission bits).
func (f *objFS) CreateFinal(name string, perm fs.FileMode, mtime time.Time) (vfs.FinalWriter, error) {
	if name == "" {
		return nil, f.pathErr("create", name, syscall.EISDIR)
	}
	f.c.acquire()
	return &objWriter{f: f, name: name, mtime: mtime, size: -1}, nil
}

func (w *objWriter) Write(b []byte) (int, error) {
	if w.done {
		return 0, w.f.pathErr("write", w.name, fs.ErrClosed)
	}
	if w.err != nil {
		return 0, w.err
	}
	n := len(b)
	for len(b) > 0 {
		if w.up == nil && w.size > w.f.threshold {
			// Known to be large: in parts from the first byte.
			up, err := w.f.st.upload(w.f.ctx, w.f.key(w.name), w.mtime)
			if err != nil {
				w.err = w.f.pathErr("upload", w.name, err)
				return 0, w.err
			}
			w.up = up
		}
		if w.up == nil {
			// In memory up to the threshold: grown by doubling, but
			// never past what the threshold needs (append's doubling
			// held up to twice the threshold per file); a file of known
			// size gets its size at once.
			if need := len(w.buf) + len(b); need > cap(w.buf) {
				c := min(max(2*cap(w.buf), 64<<10, need), max(need, int(w.f.threshold)+len(b)))
				if cap(w.buf) == 0 && w.size >= 0 {
					c = max(need, int(w.size))
				}
				if c >= 1<<20 {
					// Held on purpose until the PUT: raise the limit so
					// the collector does not keep running for it.
					w.unreserve = append(w.unreserve, memlimit.Reserve(int64(c-cap(w.buf))))
				}
				nb := make([]byte, len(w.buf), c)
				copy(nb, w.buf)
				w.buf = nb
			}
			w.buf = append(w.buf, b...)
			b = nil
			if int64(len(w.buf)) > w.f.threshold {
				up, err := w.f.st.upload(w.f.ctx, w.f.key(w.name), w.mtime)
				if err != nil {
					w.err = w.f.pathErr("upload", w.name, err)
					return 0, w.err
				}
				w.up = up
			}
		} else {
			// In parts: the buffer is one chunk (from the Conn's pool),
			// filled to its end.
			if cap(w.buf) == 0 {
				w.buf, w.pooled = w.f.c.getPart(w.f.chunk), true
			}
			k := min(int(w.f.chunk)-len(w.buf), len(b))
			w.buf = append(w.buf, b[:k]...)
			b = b[k:]
		}
		sent := false
		for w.up != nil && int64(len(w.buf)) >= w.f.chunk {
			part := w.buf[:w.f.chunk:w.f.chunk]
			w.buf = w.buf[w.f.chunk:]
			sent = true
			// A pooled buffer is one part, handed to send with its
			// budget; the in-memory buffer that passed the threshold is
			// several and is not pooled.
			owned := w.pooled
			if owned {
				w.buf, w.pooled = nil, false
			}
			if err := w.send(part, owned); err != nil {
				w.err = w.f.pathErr("upload", w.name, err)
				return 0, w.err
			}
		}
		if sent {
			// The rest goes into a buffer of its own: the parts being
			// sent keep theirs.
			rest := w.buf
			w.buf, w.pooled = append(w.f.c.getPart(w.f.chunk), rest...), true
		}
	}
	return n, nil
}

// Commit implements vfs.FinalWriter: the entry at the name is read again
// (and its parent must not be a file), expect judges it, and the object is
// stored on the condition that the key still holds the object expect saw
// (If-Match on its ETag) or none (If-None-Match: *). For a single-request
// upload the engine's own Stat of the name, made just before the upload
// (at most reuseLook ago, and nothing robo did to the name since), is
// that read: the condition ties the store to it all the same.
func (w *objWriter) Commit(expect func(now *vfs.Entry) string) (skip string, err error) {
	if w.done {
		return "", w.f.pathErr("commit", w.name, fs.ErrClosed)
	}
	defer w.Abort()
	if w.err != nil {
		return "", w.err
	}
	f := w.f
	if w.up != nil {
		// The part in flight must be through before the commit's look.
		if err := w.wait(); err != nil {
			return "", f.pathErr("upload", w.name, err)
		}
	}
	var now vfs.Entry
	var o objInfo
	if l, ok := f.takeLook(w.name); ok && w.up == nil {
		now, o = l.e, l.o
		if !l.exists {
			err = fs.ErrNotExist
		}
	} else {
		now, o, err = f.stat(w.name)
	}
	defer f.writing(w.name)()
	var nowp *vfs.Entry
	switch {
	case err == nil:
		nowp = &now
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	// Absent is an answer, not an error: the store below must not see it
	// (a multipart upload whose last part was already sent, a file of a
	// whole number of chunks, would otherwise never complete).
	err = nil
	if why := expect(nowp); why != "" {
		return why, nil
	}
	if nowp != nil && nowp.Kind == vfs.Dir {
		return "", f.pathErr("commit", w.name, syscall.EISDIR)
	}
	// The parent must not be a file (the name would hide under it); a
	// directory this FS made or found needs no look.
	if p := path.Dir(w.name); p != "." {
		if known, _ := f.knownDir(p); known {
			// a directory: robo made it or saw it in this command
		} else if _, err := f.st.head(f.ctx, f.key(p)); err == nil {
			return "", f.pathErr("commit", w.name, syscall.ENOTDIR)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", f.pathErr("commit", w.name, err)
		}
	}
	c := cond{IfNoneMatch: nowp == nil, IfMatch: o.ETag}
	key := f.key(w.name)
	if w.up == nil {
		err = f.st.put(f.ctx, key, w.buf, w.mtime, c)
	} else {
		if last := w.buf; len(last) > 0 {
			owned := w.pooled
			w.buf, w.pooled = nil, false // the client has it now, not Abort
			err = w.up.part(f.ctx, last)
			switch {
			case owned && err == nil:
				f.c.putPart(last)
			case owned:
				f.c.dropPart()
			}
		}
		if err == nil {
			err = w.up.complete(f.ctx, c)
			if err == nil {
				w.up = nil // complete: nothing to abort
			}
		}
	}
	if errors.Is(err, errPrecondition) {
		return "destination changed while the file was uploaded", nil
	}
	if err != nil {
		return "", f.pathErr("upload", w.name, err)
	}
	f.sawParents(w.name)
	return "", nil
}

// Abort implements vfs.FinalWriter.
func (w *objWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	defer w.f.c.release()
	w.wait() // its error does not matter: the upload is discarded
	if w.pooled {
		w.f.c.putPart(w.buf) // never handed to the client
	}
	w.buf, w.pooled = nil, false
	for _, give := range w.unreserve {
		give()
	}
	w.unreserve = nil
	if w.up != nil {
		// A fresh context: the run's may be the one that ended.
		ctx, cancel := context.WithTimeout(context.Background(), w.f.c.cfg.Timeout)
		defer cancel()
		if err := w.up.abort(ctx); err != nil {
			return w.f.pathErr("abort upload", w.name, err)
		}
	}
	return nil
}

// Rename moves a file: a server-side copy (only of the object the source
// key holds now) and a delete. It is not atomic: a failure between the two
// leaves both names holding the file. Directories are not renamed.
func (f *objFS) Rename(oldname, newname string) error {
	e, o, err := f.stat(oldname)
	if err != nil {
		return err
	}
	if e.Kind != vfs.File {
		return f.pathErr("rename", oldname, fmt.Errorf("%w: only files are renamed on an object store", errors.ErrUnsupported))
	}
	defer f.writing(oldname, newname)()
	if err := f.st.copy(f.ctx, f.key(oldname), f.key(newname), o, nil); err != nil {
		return f.pathErr("rename", oldname, err)
	}
	f.sawParents(newname)
	if err := f.st.remove(f.ctx, f.key(oldname)); err != nil {
		return f.pathErr("rename", oldname, err)
	}
	return nil
}

// Chtimes sets a file's mtime metadata by a server-side copy onto itself,
// or a directory's by writing its marker.
func (f *objFS) Chtimes(name string, mtime time.Time) error {
	var e vfs.Entry
	var o objInfo
	var err error
	if l, ok := f.takeLook(name); ok && l.exists && l.e.Kind == vfs.Dir {
		// The engine looked at the folder just before (restoring folder
		// times): that look says it is a folder, and its time.
		e = l.e
	} else if e, o, err = f.stat(name); err != nil {
		return err
	}
	defer f.writing(name)()
	if e.Kind == vfs.Dir && e.ModTime.Equal(mtime) {
		return nil // its marker holds that time already
	}
	if e.Kind == vfs.Dir {
		if name == "" && f.root == "" {
			return nil // the bucket itself has no time
		}
		f.mu.Lock()
		t, ok := f.marks[name]
		f.mu.Unlock()
		if ok && t.Equal(mtime) {
			// Its marker, written by this FS, holds that time already
			// (MkdirTime); one deleted by another tool meanwhile is
			// not looked for (madeDir: the folder then shows the time
			// 1970-01-01, and nothing under it is lost).
			return nil
		}
		return f.putMarker(name, mtime)
	}
	if err := f.st.copy(f.ctx, o.Key, o.Key, o, &mtime); err != nil {
		return f.pathErr("chtimes", name, err)
	}
	return nil
}

func (f *objFS) putMarker(name string, mtime time.Time) error {
	defer f.writing(name)()
	if err := f.st.put(f.ctx, f.key(name)+"/", nil, mtime, cond{}); err != nil {
		return f.pathErr("mkdir", name, err)
	}
	f.mu.Lock()
	if f.marks == nil {
		f.marks = map[string]time.Time{}
	}
	f.marks[name] = mtime
	f.mu.Unlock()
	return nil
}

// madeDir returns the entry of a folder this FS made in this command, from
// the marker it wrote: another tool removing it meanwhile is not looked
// for, and loses nothing (a key written under it makes it again; its
// marker is written again when its time is set).
func (f *objFS) madeDir(name string) (vfs.Entry, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.marks[name]
	if !ok || !f.dirs[name] {
		return vfs.Entry{}, false
	}
	return vfs.Entry{Name: path.Base(name), Kind: vfs.Dir, ModTime: t, Mode: 0o755}, true
}

// Mkdir writes the directory's marker with the time now. An existing
// directory is not an error; a file at the name or at its parent is.
func (f *objFS) Mkdir(name string, perm fs.FileMode) error {
	return f.MkdirTime(name, perm, time.Now())
}

// MkdirTime implements vfs.TimedMkdirer: Mkdir with the marker holding
// mtime, so that a new folder costs one PUT, not a second one when its
// time is set (Chtimes to the same time then asks the store nothing).
func (f *objFS) MkdirTime(name string, perm fs.FileMode, mtime time.Time) error {
	var e vfs.Entry
	var err error
	if l, ok := f.takeLook(name); ok {
		// The engine's guard looked just before: that is the look.
		e = l.e
		if !l.exists {
			err = f.pathErr("stat", name, fs.ErrNotExist)
		}
	} else {
		e, _, err = f.stat(name)
	}
	if err == nil {
		if e.Kind == vfs.Dir {
			return nil
		}
		return f.pathErr("mkdir", name, fs.ErrExist)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if p := path.Dir(name); name != "" && p != "." {
		// A parent robo made or saw as a folder in this command needs no
		// look (MkdirAll has just made it).
		if known, _ := f.knownDir(p); !known {
			if pe, _, err := f.stat(p); err == nil && pe.Kind != vfs.Dir {
				return f.pathErr("mkdir", name, syscall.ENOTDIR)
			}
		}
	}
	if err := f.putMarker(name, mtime); err != nil {
		return err
	}
	f.sawDir(name, true)
	return nil
}

// MkdirAll writes the markers of name and its parents that are missing
// (the root's included).
func (f *objFS) MkdirAll(name string) error {
	if err := f.Mkdir("", 0); err != nil {
		return err
	}
	if name == "" {
		return nil
	}
	parts := strings.Split(name, "/")
	for i := range parts {
		if err := f.Mkdir(strings.Join(parts[:i+1], "/"), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes a file, or an empty directory's marker. A directory with
// keys under it fails with syscall.ENOTEMPTY.
func (f *objFS) Remove(name string) error {
	defer f.writing(name)()
	// Stat first, while a folder robo made or saw here is still known as
	// one (the look in a folder robo made does not search for folders).
	e, o, err := f.stat(name)
	f.mu.Lock()
	delete(f.dirs, name)
	delete(f.marks, name)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	if e.Kind == vfs.File {
		if err := f.st.remove(f.ctx, o.Key); err != nil {
			return f.pathErr("remove", name, err)
		}
		return nil
	}
	prefix := f.key(name) + "/"
	objs, prefixes, err := f.st.list(f.ctx, prefix, 2)
	if err != nil {
		return f.pathErr("remove", name, err)
	}
	if len(prefixes) > 0 || len(objs) > 1 || len(objs) == 1 && objs[0].Key != prefix {
		return f.pathErr("remove", name, syscall.ENOTEMPTY)
	}
	if err := f.st.remove(f.ctx, prefix); err != nil {
		return f.pathErr("remove", name, err)
	}
	return nil
}

var errNoLinks = fmt.Errorf("%w: an object store holds no symbolic links", errors.ErrUnsupported)

func (f *objFS) Symlink(target, name string) error { return f.pathErr("symlink", name, errNoLinks) }

func (f *objFS) Readlink(name string) (string, error) {
	return "", f.pathErr("readlink", name, errNoLinks)
}
