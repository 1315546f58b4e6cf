package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/robo-backup/robo/internal/vfs"
)

// SFTPTimePrecision is the modification-time step an SFTP server keeps:
// version 3 of the protocol (OpenSSH's) sets times in whole seconds.
const SFTPTimePrecision = time.Second

func (c *Conn) dialSFTP(ctx context.Context) error {
	s := c.cfg.SFTP
	server := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	fail := func(reason, err error) error {
		return &DialError{Remote: c.cfg.Name, Server: server, User: s.User, Reason: reason, Err: err}
	}
	hostKey, err := hostKeyCallback(s.KnownHosts)
	if err != nil {
		return fail(errors.New("known_hosts"), err)
	}
	var auths []ssh.AuthMethod
	if len(s.PrivateKey) > 0 {
		signer, err := ssh.ParsePrivateKey(s.PrivateKey)
		if err != nil {
			// The parser's message names the key's format, not its bytes.
			return fail(errors.New("the private_key secret is not an unencrypted OpenSSH or PEM private key"), nil)
		}
		auths = append(auths, ssh.PublicKeys(signer))
	}
	if len(s.Password) > 0 {
		pw := string(s.Password)
		auths = append(auths, ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			out := make([]string, len(qs))
			for i := range out {
				out[i] = pw
			}
			return out, nil
		}))
	}
	cc := &ssh.ClientConfig{User: s.User, Auth: auths, HostKeyCallback: hostKey, Timeout: c.cfg.Timeout}
	d := net.Dialer{Timeout: c.cfg.Timeout}
	raw, err := d.DialContext(ctx, "tcp", server)
	if err != nil {
		return fail(ErrUnreachable, err)
	}
	raw.SetDeadline(time.Now().Add(c.cfg.Timeout))
	sc, chans, reqs, err := ssh.NewClientConn(raw, server, cc)
	if err != nil {
		raw.Close()
		var ke *knownhosts.KeyError
		switch {
		case errors.As(err, &ke):
			return fail(ErrHostKey, nil)
		case strings.Contains(err.Error(), "unable to authenticate"):
			return fail(ErrAuth, nil)
		}
		return fail(ErrUnreachable, err)
	}
	raw.SetDeadline(time.Time{})
	client := ssh.NewClient(sc, chans, reqs)
	sc2, err := newSFTPClient(client)
	if err != nil {
		client.Close()
		return fail(errors.New("the server has no sftp subsystem"), err)
	}
	c.close = func() error {
		sc2.Close()
		return client.Close()
	}
	c.open = func(root string) (vfs.FS, error) {
		r := root
		if r == "" {
			r = "."
		}
		f := &sftpFS{c: c, cl: sc2, root: r, name: c.cfg.Name + ":" + root}
		return f, nil
	}
	return nil
}

// testOnlySFTPWire, when set by a test, wraps the stream of requests to
// the sftp subsystem (below packetWriter: one Write per request) to count
// them.
var testOnlySFTPWire func(io.WriteCloser) io.WriteCloser

// newSFTPClient starts the sftp subsystem on a session of client, as
// sftp.NewClient does, with every request handed to the SSH channel whole
// (packetWriter).
func newSFTPClient(client *ssh.Client) (*sftp.Client, error) {
	s, err := client.NewSession()
	if err != nil {
		return nil, err
	}
	pw, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return nil, err
	}
	pr, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, err
	}
	perr, err := s.StderrPipe()
	if err != nil {
		s.Close()
		return nil, err
	}
	// The server's messages on stderr are not read by anyone: drained,
	// so that they never hold up the channel.
	go io.Copy(io.Discard, perr)
	if err := s.RequestSubsystem("sftp"); err != nil {
		s.Close()
		return nil, err
	}
	w := io.WriteCloser(pw)
	if testOnlySFTPWire != nil {
		w = testOnlySFTPWire(w)
	}
	return sftp.NewClientPipe(pr, &packetWriter{w: w}, sftp.UseConcurrentWrites(true), sftp.UseConcurrentReads(true))
}

// packetWriter hands the SSH channel one whole SFTP request per Write.
// pkg/sftp writes a request's header and its payload (the data of a
// WRITE, the attributes of a SETSTAT or FSETSTAT) in two Writes, and the
// channel sends each Write as an SSH packet of its own: encrypted,
// MACed and written to the socket, and read and decrypted by the server,
// separately. For a small file that was 10 packets for 7 requests.
// pkg/sftp writes a request's parts under its connection's lock, so they
// arrive in order, never mixed with another request's.
type packetWriter struct {
	w   io.WriteCloser
	buf []byte
}

func (p *packetWriter) Write(b []byte) (int, error) {
	if len(p.buf) == 0 && len(b) >= 4 && 4+int(binary.BigEndian.Uint32(b)) == len(b) {
		return p.w.Write(b) // a whole request
	}
	p.buf = append(p.buf, b...)
	for len(p.buf) >= 4 {
		n := 4 + int(binary.BigEndian.Uint32(p.buf))
		if len(p.buf) < n {
			break
		}
		if _, err := p.w.Write(p.buf[:n]); err != nil {
			p.buf = p.buf[:0]
			return 0, err
		}
		p.buf = p.buf[:copy(p.buf, p.buf[n:])]
	}
	return len(b), nil
}

func (p *packetWriter) Close() error { return p.w.Close() }

// hostKeyCallback checks a server's key against known_hosts lines.
// knownhosts reads files: the lines are written to a private temporary
// file, read, and removed.
func hostKeyCallback(lines []string) (ssh.HostKeyCallback, error) {
	if len(lines) == 0 {
		return nil, errors.New("no host key is listed: robo never connects to a server whose key it cannot check")
	}
	f, err := os.CreateTemp("", "robo-known-hosts-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString(strings.Join(lines, "\n") + "\n")
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return nil, err
	}
	return knownhosts.New(f.Name())
}

// sftpFS is a folder on an SFTP server. Names are relative to root. The
// server's account bounds what it can reach: robo does not confine
// operations beneath root against links planted on the server by someone
// who can already write there as that account (docs/offsite.md).
type sftpFS struct {
	c    *Conn
	cl   *sftp.Client
	root string
	name string
}

var _ vfs.FS = (*sftpFS)(nil)

func (f *sftpFS) String() string { return f.name }

// TimePrecision implements vfs.Precisioner.
func (f *sftpFS) TimePrecision() time.Duration { return SFTPTimePrecision }

func (f *sftpFS) full(name string) string {
	if name == "" {
		return f.root
	}
	return path.Join(f.root, name)
}

// pathErr names the path as remote:root/name and maps a lost connection
// to vfs.ErrUnreachable.
func (f *sftpFS) pathErr(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, io.EOF) && op != "read" || errors.Is(err, net.ErrClosed) {
		err = fmt.Errorf("%w (%v)", vfs.ErrUnreachable, err)
	}
	return &fs.PathError{Op: op, Path: vfs.Join(f.name, name), Err: err}
}

func entryOf(name string, fi fs.FileInfo) vfs.Entry {
	e := vfs.Entry{Name: name, Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode().Perm()}
	switch {
	case fi.Mode().IsRegular():
		e.Kind = vfs.File
	case fi.IsDir():
		e.Kind, e.Size = vfs.Dir, 0
	case fi.Mode()&fs.ModeSymlink != 0:
		e.Kind = vfs.Symlink
	default:
		e.Kind = vfs.Other
	}
	return e
}

func (f *sftpFS) Stat(name string) (vfs.Entry, error) {
	fi, err := f.cl.Lstat(f.full(name))
	if err != nil {
		return vfs.Entry{}, f.pathErr("lstat", name, err)
	}
	return entryOf(path.Base(name), fi), nil
}

func (f *sftpFS) ReadDir(name string) ([]vfs.Entry, error) {
	list, err := f.cl.ReadDir(f.full(name))
	if err != nil {
		return nil, f.pathErr("readdir", name, err)
	}
	out := make([]vfs.Entry, 0, len(list))
	for _, fi := range list {
		if fi.Name() == "." || fi.Name() == ".." {
			continue
		}
		out = append(out, entryOf(fi.Name(), fi))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

type sftpReader struct {
	io.Reader
	file *sftp.File
	f    *sftpFS
	name string
	done bool
}

func (r *sftpReader) Read(b []byte) (int, error) {
	n, err := r.Reader.Read(b)
	if err != nil && err != io.EOF {
		err = r.f.pathErr("read", r.name, err)
	}
	return n, err
}

func (r *sftpReader) Stat() (fs.FileInfo, error) { return r.file.Stat() }

func (r *sftpReader) Close() error {
	if r.done {
		return nil
	}
	r.done = true
	defer r.f.c.release()
	return r.file.Close()
}

func (f *sftpFS) Open(name string) (vfs.Reader, error) {
	f.c.acquire()
	file, err := f.cl.Open(f.full(name))
	if err != nil {
		f.c.release()
		return nil, f.pathErr("open", name, err)
	}
	fi, err := file.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		file.Close()
		f.c.release()
		return nil, f.pathErr("open", name, err)
	}
	return &sftpReader{Reader: pacedReader{Reader: file, l: f.c.bw}, file: file, f: f, name: name}, nil
}

type sftpWriter struct {
	io.Writer
	file *sftp.File
	f    *sftpFS
	name string
	done bool
}

func (w *sftpWriter) Write(b []byte) (int, error) {
	n, err := w.Writer.Write(b)
	if err != nil {
		err = w.f.pathErr("write", w.name, err)
	}
	return n, err
}

// sftpCopyBuf is how much ReadFrom hands pkg/sftp in one Write: it sends
// the 32 KiB packets of one Write concurrently (UseConcurrentWrites), so
// a large Write keeps the link busy where io.Copy's 32 KiB Writes wait
// for each packet's answer (a 256 MiB file took 1.4x rclone's time).
const sftpCopyBuf = 1 << 20

// sftpBufs holds ReadFrom's buffers. One made per call cost more than the
// copy of a small file: 1 MiB allocated and cleared for each of 20,000
// files of 8 KiB was a quarter of robo's CPU, and the garbage collection
// it caused another (docs/performance.md, session 7). At most one is in
// use per transfer slot.
var sftpBufs = sync.Pool{New: func() any { b := make([]byte, sftpCopyBuf); return &b }}

// ReadFrom implements io.ReaderFrom for the engine's io.Copy. A file that
// fits one buffer (every small file) goes in one Write, its packets sent
// at once. A larger one goes through pkg/sftp's pipelined copy, as rclone's
// does: the source is read a packet at a time while up to 64 WRITEs are
// in flight. Writes of one buffer at a time waited for the whole buffer's
// answers before reading the next, and a 4 × 256 MiB copy took 1.13×
// rclone's time (docs/performance.md, "Offsite destinations").
func (w *sftpWriter) ReadFrom(r io.Reader) (int64, error) {
	bp := sftpBufs.Get().(*[]byte)
	defer sftpBufs.Put(bp)
	buf := *bp
	k, rerr := io.ReadFull(r, buf)
	switch {
	case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
		m, err := w.Write(buf[:k])
		return int64(m), err
	case rerr != nil:
		m, err := w.Write(buf[:k])
		if err != nil {
			return int64(m), err
		}
		return int64(m), rerr
	}
	// Nothing is written yet: the file's offset is 0, where the pipeline
	// starts. On an error the temporary file is removed, never renamed,
	// so what pkg/sftp wrote past the error does not matter.
	src := pacedReader{Reader: io.MultiReader(bytes.NewReader(buf[:k]), r), l: w.f.c.bw}
	n, err := w.file.ReadFromWithConcurrency(src, 0)
	if err != nil {
		err = w.f.pathErr("write", w.name, err)
	}
	return n, err
}

// Sync asks the server to flush the file (OpenSSH's fsync extension); a
// server without it is not an error.
func (w *sftpWriter) Sync() error {
	err := w.file.Sync()
	var se *sftp.StatusError
	if errors.As(err, &se) {
		return nil
	}
	if err != nil {
		return w.f.pathErr("sync", w.name, err)
	}
	return nil
}

func (w *sftpWriter) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	defer w.f.c.release()
	if err := w.file.Close(); err != nil {
		return w.f.pathErr("close", w.name, err)
	}
	return nil
}

func (f *sftpFS) CreateTemp(dir, prefix string, perm fs.FileMode) (vfs.Writer, string, error) {
	f.c.acquire()
	for range 10 {
		var b [6]byte
		rand.Read(b[:])
		name := vfs.Join(dir, prefix+hex.EncodeToString(b[:])+".tmp")
		file, err := f.cl.OpenFile(f.full(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err != nil {
			if _, serr := f.cl.Lstat(f.full(name)); serr == nil {
				continue // the name exists (SFTP v3 says only "failure")
			}
			f.c.release()
			return nil, "", f.pathErr("create", name, err)
		}
		if err := file.Chmod(perm); err != nil {
			file.Close()
			f.cl.Remove(f.full(name))
			f.c.release()
			return nil, "", f.pathErr("chmod", name, err)
		}
		return &sftpWriter{Writer: pacedWriter{Writer: file, l: f.c.bw}, file: file, f: f, name: name}, name, nil
	}
	f.c.release()
	return nil, "", f.pathErr("create", dir, errors.New("no unique temporary name after 10 attempts"))
}

// Rename replaces newname atomically (OpenSSH's posix-rename extension;
// plain SFTP rename refuses an existing target).
func (f *sftpFS) Rename(oldname, newname string) error {
	var err error
	if _, ok := f.cl.HasExtension("posix-rename@openssh.com"); ok {
		err = f.cl.PosixRename(f.full(oldname), f.full(newname))
	} else {
		err = f.cl.Rename(f.full(oldname), f.full(newname))
	}
	if err != nil {
		return f.pathErr("rename", oldname, err)
	}
	return nil
}

func (f *sftpFS) Chtimes(name string, mtime time.Time) error {
	if err := f.cl.Chtimes(f.full(name), time.Now(), mtime); err != nil {
		return f.pathErr("chtimes", name, err)
	}
	return nil
}

func (f *sftpFS) Mkdir(name string, perm fs.FileMode) error {
	err := f.cl.Mkdir(f.full(name))
	if err == nil {
		f.cl.Chmod(f.full(name), perm.Perm())
		return nil
	}
	if fi, serr := f.cl.Lstat(f.full(name)); serr == nil {
		if fi.IsDir() {
			return nil
		}
		return f.pathErr("mkdir", name, fs.ErrExist)
	}
	return f.pathErr("mkdir", name, err)
}

func (f *sftpFS) MkdirAll(name string) error {
	if err := f.cl.MkdirAll(f.full(name)); err != nil {
		return f.pathErr("mkdir", name, err)
	}
	return nil
}

// Remove deletes a file, a link or an empty directory. A directory that
// is not empty fails with syscall.ENOTEMPTY (SFTP v3 says only "failure").
func (f *sftpFS) Remove(name string) error {
	p := f.full(name)
	fi, err := f.cl.Lstat(p)
	if err != nil {
		return f.pathErr("remove", name, err)
	}
	if fi.IsDir() {
		err = f.cl.RemoveDirectory(p)
		if err != nil {
			if list, lerr := f.cl.ReadDir(p); lerr == nil && len(list) > 0 {
				err = syscall.ENOTEMPTY
			}
		}
	} else {
		err = f.cl.Remove(p)
	}
	if err != nil {
		return f.pathErr("remove", name, err)
	}
	return nil
}

func (f *sftpFS) Symlink(target, name string) error {
	if err := f.cl.Symlink(target, f.full(name)); err != nil {
		return f.pathErr("symlink", name, err)
	}
	return nil
}

func (f *sftpFS) Readlink(name string) (string, error) {
	t, err := f.cl.ReadLink(f.full(name))
	if err != nil {
		return "", f.pathErr("readlink", name, err)
	}
	return t, nil
}
