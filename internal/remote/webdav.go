package remote

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/robo-backup/robo/internal/vfs"
)

// WebDAV is how to reach a WebDAV server.
type WebDAV struct {
	// URL is the collection robo works under (http:// or https://).
	URL  string
	User string
	// Password logs in with HTTP basic authentication (empty: none).
	Password []byte
}

// WebDAVTimePrecision is the modification-time step a WebDAV server
// reports: getlastmodified is an HTTP date, in whole seconds.
const WebDAVTimePrecision = time.Second

// TimesRecordName is the file, in each WebDAV folder robo writes into,
// that records the modification times robo gave the entries of that
// folder (docs/offsite.md#modification-times-on-webdav, webdav_times.go).
// The name is reserved: robo never lists it as part of the tree and
// refuses to write a file of that name.
const TimesRecordName = ".robo-webdav-times.json"

// davConn is the HTTP side of a WebDAV connection.
type davConn struct {
	c       *Conn
	base    *url.URL // ends in "/"
	auth    string   // the Authorization header ("" for none)
	client  *http.Client
	ctx     context.Context
	cancel  context.CancelFunc
	maxList int64

	mu    sync.Mutex
	fss   []*davFS
	times *davTimes
}

func (c *Conn) dialWebDAV(ctx context.Context) error {
	w := c.cfg.WebDAV
	u, err := url.Parse(w.URL)
	server := w.URL
	if err == nil {
		server = u.Scheme + "://" + u.Host
	}
	fail := func(reason, err error) error {
		return &DialError{Remote: c.cfg.Name, Server: server, User: w.User, Reason: reason, Err: err}
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fail(errors.New("the url is not an http:// or https:// URL without credentials"), nil)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	dialer := &net.Dialer{Timeout: c.cfg.Timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   c.cfg.Timeout,
		ResponseHeaderTimeout: c.cfg.Timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   c.cfg.Transfers + 4,
		ForceAttemptHTTP2:     true,
	}
	d := &davConn{c: c, base: u, maxList: 1 << 30, client: &http.Client{
		Transport: tr,
		// A redirect is an error: robo does not send a password to
		// wherever a server points it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if w.User != "" || len(w.Password) > 0 {
		// HTTP has no session: the header is kept for the connection's
		// life (in memory only) and sent with every request.
		d.auth = "Basic " + base64.StdEncoding.EncodeToString(append([]byte(w.User+":"), w.Password...))
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.times = newDavTimes(d)
	// One PROPFIND of the URL: the credentials, the server and the
	// collection are checked before any set uses them.
	pctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	e, err := d.propfind(pctx, "", "0")
	switch {
	case err == nil && len(e) > 0 && e[0].Kind == vfs.Dir:
	case err == nil:
		err = fail(errors.New("the url is a file, not a WebDAV collection"), nil)
	case isStatus(err, http.StatusUnauthorized):
		err = fail(ErrAuth, nil)
	case isStatus(err, http.StatusNotFound):
		err = fail(errors.New("the url names no collection on the server"), nil)
	case errors.Is(err, vfs.ErrUnreachable):
		err = fail(ErrUnreachable, errors.Unwrap(err))
	default:
		err = fail(errors.New("the server did not answer as a WebDAV server"), err)
	}
	if err != nil {
		d.cancel()
		tr.CloseIdleConnections()
		return err
	}
	c.close = func() error {
		err := d.saveAll()
		d.cancel()
		tr.CloseIdleConnections()
		return err
	}
	c.open = d.open
	return nil
}

// statusError is a response other than the one a request expected. Its
// text is the code and the standard reason phrase (never the server's own
// text, which is not trusted on a terminal).
type statusError struct{ code int }

func (e statusError) Error() string {
	return fmt.Sprintf("the server answered %d %s", e.code, http.StatusText(e.code))
}

func (e statusError) Unwrap() error {
	switch e.code {
	case http.StatusNotFound:
		return fs.ErrNotExist
	case http.StatusUnauthorized:
		return ErrAuth
	case http.StatusForbidden:
		return fs.ErrPermission
	case http.StatusPreconditionFailed:
		return fs.ErrExist
	}
	return nil
}

func isStatus(err error, code int) bool {
	var se statusError
	return errors.As(err, &se) && se.code == code
}

// url returns the URL of a slash-separated path under the base, each
// segment escaped; dir adds the trailing slash of a collection.
func (d *davConn) url(p string, dir bool) string {
	u := *d.base
	segs := []string{}
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	u.Path = d.base.Path + strings.Join(segs, "/")
	if dir && len(segs) > 0 {
		u.Path += "/"
	}
	return u.String()
}

// request sends one request; a failure to reach the server wraps
// vfs.ErrUnreachable.
func (d *davConn) request(ctx context.Context, method, p string, dir bool, body io.Reader, length int64, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, d.url(p, dir), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = length
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if d.auth != "" {
		req.Header.Set("Authorization", d.auth)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the path of every error already
		}
		if ctx.Err() == nil || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w (%v)", vfs.ErrUnreachable, err)
		}
		return nil, err
	}
	return resp, nil
}

// lockedRetries is how many times a request answered 423 Locked is sent
// again (after 50, 100, ... ms).
const lockedRetries = 5

// simple sends a request without a streamed body and accepts the listed
// status codes.
//
// 423 Locked is retried a few times: servers lock the paths a request
// touches while it runs (golang.org/x/net/webdav takes a lock on both ends
// of a MOVE), so two of robo's own transfers in one folder can collide for
// a moment.
func (d *davConn) simple(method, p string, dir bool, hdr map[string]string, ok ...int) (int, error) {
	var resp *http.Response
	for try := 0; ; try++ {
		var err error
		resp, err = d.request(d.ctx, method, p, dir, nil, 0, hdr)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode != http.StatusLocked || try == lockedRetries {
			break
		}
		select {
		case <-time.After(time.Duration(try+1) * 50 * time.Millisecond):
		case <-d.ctx.Done():
			return 0, d.ctx.Err()
		}
	}
	for _, c := range ok {
		if resp.StatusCode == c {
			return c, nil
		}
	}
	return resp.StatusCode, statusError{resp.StatusCode}
}

// davEntry is one PROPFIND response: an entry and the ETag that, with
// its size and server time, identifies its content.
type davEntry struct {
	vfs.Entry
	ETag string
}

type multistatus struct {
	Responses []struct {
		Href     string `xml:"DAV: href"`
		Propstat []struct {
			Prop struct {
				ResourceType struct {
					Collection *struct{} `xml:"DAV: collection"`
				} `xml:"DAV: resourcetype"`
				Length   string `xml:"DAV: getcontentlength"`
				Modified string `xml:"DAV: getlastmodified"`
				ETag     string `xml:"DAV: getetag"`
			} `xml:"DAV: prop"`
			Status string `xml:"DAV: status"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
}

const propfindBody = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getcontentlength/><d:getlastmodified/><d:getetag/></d:prop></d:propfind>`

// propfind lists p (depth "0": the entry itself; "1": it and its
// children). The first entry is p itself; children follow, each checked
// to be a direct child of p.
func (d *davConn) propfind(ctx context.Context, p, depth string) ([]davEntry, error) {
	resp, err := d.request(ctx, "PROPFIND", p, depth == "1", strings.NewReader(propfindBody), int64(len(propfindBody)),
		map[string]string{"Depth": depth, "Content-Type": `application/xml; charset="utf-8"`})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, statusError{resp.StatusCode}
	}
	lr := &io.LimitedReader{R: resp.Body, N: d.maxList + 1}
	var ms multistatus
	if err := xml.NewDecoder(lr).Decode(&ms); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("the server's listing is larger than %d bytes", d.maxList)
		}
		return nil, fmt.Errorf("the server's listing is not valid WebDAV XML: %w", err)
	}
	self := path.Clean("/" + d.base.Path + p)
	var out []davEntry
	sawSelf := false
	for _, r := range ms.Responses {
		h, err := url.Parse(r.Href)
		if err != nil {
			return nil, fmt.Errorf("the server listed an unreadable href %q", r.Href)
		}
		hp := path.Clean("/" + h.Path)
		var e davEntry
		ok := false
		for _, ps := range r.Propstat {
			if !strings.Contains(ps.Status, " 200") {
				continue
			}
			ok = true
			pr := ps.Prop
			if pr.ResourceType.Collection != nil {
				e.Kind, e.Mode = vfs.Dir, 0o755
			} else {
				e.Kind, e.Mode = vfs.File, 0o644
				if pr.Length != "" {
					if e.Size, err = strconv.ParseInt(strings.TrimSpace(pr.Length), 10, 64); err != nil || e.Size < 0 {
						return nil, fmt.Errorf("the server listed %q with a size that is not a number", hp)
					}
				}
			}
			if pr.Modified != "" {
				if t, err := http.ParseTime(strings.TrimSpace(pr.Modified)); err == nil {
					e.ModTime = t
				}
			}
			e.ETag = strings.TrimPrefix(strings.TrimSpace(pr.ETag), "W/")
		}
		if !ok {
			continue
		}
		if hp == self {
			e.Name = path.Base(p)
			out = append([]davEntry{e}, out...)
			sawSelf = true
			continue
		}
		if depth == "0" || path.Dir(hp) != self {
			return nil, fmt.Errorf("the server listed %q, which is not in %q", hp, self)
		}
		e.Name = path.Base(hp)
		out = append(out, e)
	}
	if !sawSelf {
		return nil, errors.New("the server's listing does not describe the folder asked for")
	}
	return out, nil
}

// davRecord is what robo recorded of one entry it wrote: the server's
// size, time and ETag right after the write, and the time robo gave it.
type davRecord struct {
	Dir    bool   `json:"dir,omitempty"`
	Size   int64  `json:"size"`
	Server int64  `json:"server"` // Unix seconds
	ETag   string `json:"etag,omitempty"`
	MTime  int64  `json:"mtime"` // Unix nanoseconds
}

// davFS is a folder on a WebDAV server.
type davFS struct {
	d    *davConn
	root string // under the base URL, no leading or trailing slash
	name string

	mu    sync.Mutex
	temps map[string]time.Time // temporary files this FS created, with the time given before their rename
	// absent holds when a Stat last found nothing at a name (the engine's
	// guard before it makes a folder): a folder made right after is new.
	absent map[string]time.Time
}

// maxAbsent bounds the absent looks kept (only the newest matter).
const maxAbsent = 4096

var _ vfs.FS = (*davFS)(nil)

func (d *davConn) open(root string) (vfs.FS, error) {
	root = strings.Trim(path.Clean("/"+root), "/")
	// One FS per folder, so that every scan and apply of one connection
	// shares its temporary files (the records of times are the
	// connection's, by folder).
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, f := range d.fss {
		if f.root == root {
			return f, nil
		}
	}
	f := &davFS{d: d, root: root, name: d.c.cfg.Name + ":" + root, temps: map[string]time.Time{}, absent: map[string]time.Time{}}
	// The root's record now: a version-1 record of the whole tree is
	// there, read for migration before any folder under it is looked at.
	if _, err := d.times.dir(root, false); err != nil {
		return nil, f.pathErr("read", TimesRecordName, err)
	}
	d.fss = append(d.fss, f)
	return f, nil
}

func (f *davFS) String() string { return f.name }

// TimePrecision implements vfs.Precisioner.
func (f *davFS) TimePrecision() time.Duration { return WebDAVTimePrecision }

func (f *davFS) full(name string) string {
	if name == "" {
		return f.root
	}
	if f.root == "" {
		return name
	}
	return f.root + "/" + name
}

func (f *davFS) pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: vfs.Join(f.name, name), Err: err}
}

func reserved(name string) bool { return path.Base(name) == TimesRecordName }

// where returns the folder (a path under the base URL) whose record
// holds name's entry, and the name in it ("" for the FS's root, kept as
// its own record's Self).
func (f *davFS) where(name string) (folder, base string) {
	if name == "" {
		return f.root, ""
	}
	return splitDav(f.full(name))
}

// withTime replaces the server's time of e at name by the recorded one
// when the entry is still what robo wrote. absent: the folder is known
// to hold no record.
func (f *davFS) withTime(name string, e davEntry, absent bool) vfs.Entry {
	folder, base := f.where(name)
	r, ok := f.d.times.lookup(folder, base, absent)
	if ok && r.Dir == (e.Kind == vfs.Dir) && (r.Dir || r.Size == e.Size && r.Server == e.ModTime.Unix() && (r.ETag == "" || e.ETag == "" || r.ETag == e.ETag)) {
		e.ModTime = time.Unix(0, r.MTime)
	}
	return e.Entry
}

func (f *davFS) stat(name string) (davEntry, error) {
	l, err := f.d.propfind(f.d.ctx, f.full(name), "0")
	if err != nil {
		return davEntry{}, err
	}
	return l[0], nil
}

func (f *davFS) Stat(name string) (vfs.Entry, error) {
	if reserved(name) {
		return vfs.Entry{}, f.pathErr("stat", name, fs.ErrNotExist)
	}
	at := time.Now()
	e, err := f.stat(name)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			f.mu.Lock()
			if len(f.absent) >= maxAbsent {
				clear(f.absent)
			}
			f.absent[name] = at
			f.mu.Unlock()
		}
		return vfs.Entry{}, f.pathErr("stat", name, err)
	}
	e.Name = path.Base(name)
	return f.withTime(name, e, false), nil
}

func (f *davFS) ReadDir(name string) ([]vfs.Entry, error) {
	l, err := f.d.propfind(f.d.ctx, f.full(name), "1")
	if err != nil {
		return nil, f.pathErr("readdir", name, err)
	}
	if l[0].Kind != vfs.Dir {
		return nil, f.pathErr("readdir", name, syscall.ENOTDIR)
	}
	out := make([]vfs.Entry, 0, len(l)-1)
	absent := true // the folder's record, if the listing shows one
	for _, e := range l[1:] {
		if e.Name == TimesRecordName {
			absent = false
		}
	}
	for _, e := range l[1:] {
		if e.Name == TimesRecordName {
			continue
		}
		out = append(out, f.withTime(vfs.Join(name, e.Name), e, absent))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

type davReader struct {
	io.Reader
	body  io.ReadCloser
	f     *davFS
	name  string
	entry vfs.Entry
	done  bool
}

func (r *davReader) Read(b []byte) (int, error) {
	n, err := r.Reader.Read(b)
	if err != nil && err != io.EOF {
		err = r.f.pathErr("read", r.name, err)
	}
	return n, err
}

func (r *davReader) Stat() (fs.FileInfo, error) { return entryInfo{r.entry}, nil }

func (r *davReader) Close() error {
	if r.done {
		return nil
	}
	r.done = true
	defer r.f.d.c.release()
	return r.body.Close()
}

// entryInfo is an Entry as an fs.FileInfo.
type entryInfo struct{ e vfs.Entry }

func (i entryInfo) Name() string       { return i.e.Name }
func (i entryInfo) Size() int64        { return i.e.Size }
func (i entryInfo) Mode() fs.FileMode  { return i.e.Mode }
func (i entryInfo) ModTime() time.Time { return i.e.ModTime }
func (i entryInfo) IsDir() bool        { return i.e.Kind == vfs.Dir }
func (i entryInfo) Sys() any           { return nil }

func (f *davFS) Open(name string) (vfs.Reader, error) {
	e, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if e.Kind != vfs.File {
		return nil, f.pathErr("open", name, errors.New("not a regular file"))
	}
	f.d.c.acquire()
	resp, err := f.d.request(f.d.ctx, "GET", f.full(name), false, nil, 0, nil)
	if err == nil && resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err = statusError{resp.StatusCode}
	}
	if err != nil {
		f.d.c.release()
		return nil, f.pathErr("open", name, err)
	}
	return &davReader{Reader: pacedReader{Reader: resp.Body, l: f.d.c.bw}, body: resp.Body, f: f, name: name, entry: e}, nil
}

// davWriter streams a PUT: what is written goes into the request body
// as it is written (chunked), and Close ends the body and waits for the
// server's answer.
type davWriter struct {
	pw   *io.PipeWriter
	w    io.Writer
	f    *davFS
	name string
	res  chan error
	done bool
	err  error
}

func (w *davWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	if err != nil {
		err = w.f.pathErr("write", w.name, err)
	}
	return n, err
}

// Sync is a no-op: a WebDAV server answers a PUT once it has stored the
// body, and says nothing more about durability.
func (w *davWriter) Sync() error { return nil }

func (w *davWriter) Close() error {
	if w.done {
		return w.err
	}
	w.done = true
	defer w.f.d.c.release()
	w.pw.Close()
	if err := <-w.res; err != nil {
		w.err = w.f.pathErr("put", w.name, err)
	}
	return w.err
}

func (f *davFS) CreateTemp(dir, prefix string, perm fs.FileMode) (vfs.Writer, string, error) {
	var b [6]byte
	rand.Read(b[:])
	name := vfs.Join(dir, prefix+hex.EncodeToString(b[:])+".tmp")
	f.mu.Lock()
	f.temps[name] = time.Time{}
	f.mu.Unlock()
	f.d.c.acquire()
	pr, pw := io.Pipe()
	w := &davWriter{pw: pw, f: f, name: name, res: make(chan error, 1)}
	w.w = pacedWriter{Writer: pw, l: f.d.c.bw}
	go func() {
		// If-None-Match: * asks a server that honours it not to replace
		// an existing file (the name is random: a collision is not
		// expected).
		resp, err := f.d.request(f.d.ctx, "PUT", f.full(name), false, pr, -1, map[string]string{"If-None-Match": "*"})
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
				err = statusError{resp.StatusCode}
				if resp.StatusCode == http.StatusConflict {
					err = fmt.Errorf("%w (the folder does not exist)", fs.ErrNotExist)
				}
			}
		}
		// A writer still writing learns the server's answer.
		pr.CloseWithError(errOr(err, errors.New("the server ended the upload early")))
		w.res <- err
	}()
	return w, name, nil
}

func errOr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// Rename moves oldname over newname (MOVE). A file at newname is replaced
// (Overwrite: T, which servers perform as DELETE then MOVE: never a
// partial file at newname, but for a moment none); a directory there is
// not replaced.
func (f *davFS) Rename(oldname, newname string) error {
	if reserved(newname) || reserved(oldname) {
		return f.pathErr("rename", newname, fmt.Errorf("%s is reserved for robo's record of times on WebDAV", TimesRecordName))
	}
	dst := map[string]string{"Destination": f.d.url(f.full(newname), false), "Overwrite": "F"}
	code, err := f.d.simple("MOVE", f.full(oldname), false, dst, http.StatusCreated, http.StatusNoContent)
	if code == http.StatusPreconditionFailed {
		// Something is at newname: replace it only if it is not a
		// directory (Overwrite: T deletes a directory's whole tree).
		now, serr := f.stat(newname)
		if serr != nil {
			return f.pathErr("rename", oldname, serr)
		}
		if now.Kind == vfs.Dir {
			return f.pathErr("rename", oldname, fmt.Errorf("%w: a directory is at %s", fs.ErrExist, newname))
		}
		dst["Overwrite"] = "T"
		_, err = f.d.simple("MOVE", f.full(oldname), false, dst, http.StatusCreated, http.StatusNoContent)
	}
	if err != nil {
		return f.pathErr("rename", oldname, err)
	}
	f.mu.Lock()
	t, temp := f.temps[oldname]
	pending := temp && !t.IsZero()
	delete(f.temps, oldname)
	f.mu.Unlock()
	times := f.d.times
	ofolder, oname := f.where(oldname)
	nfolder, nname := f.where(newname)
	var err2 error
	if temp {
		// A new file: whatever robo recorded at newname was replaced.
		err2 = times.set(nfolder, nname, davRecord{}, true)
	} else {
		// An entry robo may have recorded moves with its record, and a
		// folder with the records in it (the server moved those).
		r, ok := times.lookup(ofolder, oname, false)
		err2 = errors.Join(times.set(ofolder, oname, davRecord{}, true), times.set(nfolder, nname, r, !ok))
		times.moved(f.full(oldname), f.full(newname))
	}
	if err2 != nil {
		return f.pathErr("rename", newname, err2)
	}
	if pending {
		if err := f.record(newname, t); err != nil {
			return err
		}
	}
	times.maybeSave()
	return nil
}

// record reads back what the server now holds at name and records t as
// its time.
func (f *davFS) record(name string, t time.Time) error {
	e, err := f.stat(name)
	if err != nil {
		return f.pathErr("chtimes", name, err)
	}
	folder, base := f.where(name)
	r := davRecord{Size: e.Size, Server: e.ModTime.Unix(), ETag: e.ETag, MTime: t.UnixNano()}
	if e.Kind == vfs.Dir {
		// A folder's time stands whatever the server says of it (its
		// server time moves with every file written in it).
		r = davRecord{Dir: true, MTime: t.UnixNano()}
	}
	if err := f.d.times.set(folder, base, r, false); err != nil {
		return f.pathErr("chtimes", name, err)
	}
	return nil
}

// Chtimes records the time robo gives name: WebDAV has no standard way
// to set one (docs/offsite.md). A temporary file's time is recorded once
// it has its final name.
func (f *davFS) Chtimes(name string, mtime time.Time) error {
	f.mu.Lock()
	_, temp := f.temps[name]
	if temp {
		f.temps[name] = mtime
	}
	f.mu.Unlock()
	if temp {
		return nil
	}
	return f.record(name, mtime)
}

func (f *davFS) Mkdir(name string, perm fs.FileMode) error {
	if reserved(name) {
		return f.pathErr("mkdir", name, fmt.Errorf("%s is reserved for robo's record of times on WebDAV", TimesRecordName))
	}
	code, err := f.d.simple("MKCOL", f.full(name), true, nil, http.StatusCreated)
	f.mu.Lock()
	at, looked := f.absent[name]
	delete(f.absent, name)
	f.mu.Unlock()
	switch {
	case err == nil:
		if looked && time.Since(at) < time.Second {
			// New (nothing was there a moment ago): no record to read.
			f.d.times.known(f.full(name))
		}
		return nil
	case code == http.StatusMethodNotAllowed:
		// Something is there already.
		if e, serr := f.stat(name); serr == nil {
			if e.Kind == vfs.Dir {
				return nil
			}
			return f.pathErr("mkdir", name, fs.ErrExist)
		}
	case code == http.StatusConflict:
		err = fmt.Errorf("%w (the parent folder does not exist)", fs.ErrNotExist)
	}
	return f.pathErr("mkdir", name, err)
}

func (f *davFS) MkdirAll(name string) error {
	full := f.full(name)
	if full == "" {
		return nil
	}
	// The whole path first; on a missing parent, one level at a time.
	code, err := f.d.simple("MKCOL", full, true, nil, http.StatusCreated, http.StatusMethodNotAllowed)
	if err == nil {
		return nil
	}
	if code != http.StatusConflict {
		return f.pathErr("mkdir", name, err)
	}
	parts := strings.Split(full, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		if _, err := f.d.simple("MKCOL", p, true, nil, http.StatusCreated, http.StatusMethodNotAllowed); err != nil {
			return f.pathErr("mkdir", name, err)
		}
	}
	return nil
}

// Remove deletes a file or an empty directory. WebDAV's DELETE removes a
// collection with everything in it, so a directory is listed first and
// one that is not empty fails with syscall.ENOTEMPTY.
func (f *davFS) Remove(name string) error {
	if reserved(name) {
		return f.pathErr("remove", name, fs.ErrNotExist)
	}
	l, err := f.d.propfind(f.d.ctx, f.full(name), "1")
	if err != nil {
		return f.pathErr("remove", name, err)
	}
	dir := l[0].Kind == vfs.Dir
	if dir {
		// Empty for robo: nothing in it but its record of times.
		for _, e := range l[1:] {
			if e.Name != TimesRecordName {
				return f.pathErr("remove", name, syscall.ENOTEMPTY)
			}
		}
	}
	if _, err := f.d.simple("DELETE", f.full(name), dir, nil, http.StatusNoContent, http.StatusOK); err != nil {
		return f.pathErr("remove", name, err)
	}
	f.mu.Lock()
	_, temp := f.temps[name]
	delete(f.temps, name)
	f.mu.Unlock()
	if dir {
		f.d.times.forget(f.full(name))
	}
	if !temp {
		folder, base := f.where(name)
		if err := f.d.times.set(folder, base, davRecord{}, true); err != nil {
			return f.pathErr("remove", name, err)
		}
		f.d.times.maybeSave()
	}
	return nil
}

// ErrNoLinks: a WebDAV server holds no symbolic links.
var ErrNoLinks = fmt.Errorf("WebDAV has no symbolic links: %w", errors.ErrUnsupported)

func (f *davFS) Symlink(target, name string) error { return f.pathErr("symlink", name, ErrNoLinks) }

func (f *davFS) Readlink(name string) (string, error) {
	return "", f.pathErr("readlink", name, ErrNoLinks)
}
