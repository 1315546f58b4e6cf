package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/robo-backup/robo/internal/memlimit"
	"github.com/robo-backup/robo/internal/vfs"
)

// Config is one remote with its credentials resolved. Secrets are bytes the
// caller wipes after Dial (Conn keeps no copy once connected).
type Config struct {
	// Name is the remote block's label, used in messages and in String.
	Name string
	// Type is "sftp", "webdav", "s3" or "azureblob" (others: ErrTypeNotBuilt).
	Type   string
	SFTP   SFTP
	WebDAV WebDAV
	S3     S3
	// Azure reaches an azureblob remote.
	Azure Azure
	// MultipartThreshold is the size from which object-store uploads go
	// in parts of ChunkSize bytes (0: 64 MiB and 16 MiB).
	MultipartThreshold, ChunkSize int64
	// Transfers bounds how many files are open on the remote at once (0:
	// 4).
	Transfers int
	// BWLimit returns the bandwidth allowed at a time of day in bytes a
	// second (0: unlimited); nil is unlimited. It is shared by every file
	// of the Conn.
	BWLimit func(time.Time) int64
	// Timeout bounds connecting and each request (0: one minute).
	Timeout time.Duration
}

// SFTP is how to reach an SFTP server.
type SFTP struct {
	Host string
	Port int
	User string
	// Password and PrivateKey (PEM) are the credentials; either may be
	// empty.
	Password   []byte
	PrivateKey []byte
	// KnownHosts are known_hosts lines; the server's host key must match
	// one of them.
	KnownHosts []string
}

// Reasons a connection could not be made; a *DialError wraps one of them.
var (
	ErrAuth        = errors.New("the server refused the credentials")
	ErrHostKey     = errors.New("the server's host key is not in the remote's known_hosts")
	ErrUnreachable = fmt.Errorf("nothing answered: %w", vfs.ErrUnreachable)
	// ErrTypeNotBuilt: the remote's type is decoded but this build cannot
	// reach it yet.
	ErrTypeNotBuilt = errors.New("this build of robo cannot reach remotes of this type yet")
)

// DialError says why a remote could not be reached. Its text names the
// remote, the server and the user, never a secret.
type DialError struct {
	Remote string
	Server string
	User   string
	Reason error
	Err    error
}

func (e *DialError) Error() string {
	s := fmt.Sprintf("remote %s", e.Remote)
	if e.Server != "" {
		s += fmt.Sprintf(" (%s", e.Server)
		if e.User != "" {
			s += ", user " + e.User
		}
		s += ")"
	}
	if e.Reason != nil {
		s += ": " + e.Reason.Error()
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the reason and the underlying error.
func (e *DialError) Unwrap() []error {
	var out []error
	for _, err := range []error{e.Reason, e.Err} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// ListAhead is how many directories a scan of a remote reads at once
// (vfs.Networked): a listing waits on a round trip, so more of them in
// flight keep the server busy where the CPUs' count (3 readers on two
// cores) left it waiting. 8 is rclone's --checkers default.
const ListAhead = 8

func (f *objFS) ListAhead() int  { return ListAhead }
func (f *sftpFS) ListAhead() int { return ListAhead }
func (f *davFS) ListAhead() int  { return ListAhead }

// Conn is a connection to one remote. It is safe for concurrent use; every
// FS it opens shares its transfer slots and bandwidth.
type Conn struct {
	cfg   Config
	slots chan struct{}
	bw    *limiter
	open  func(root string) (vfs.FS, error)
	close func() error
	once  sync.Once
	// partBudget bounds how many object-store part buffers (ChunkSize
	// each) are out at once across every transfer: Transfers+1, one
	// being filled by each transfer and one more being sent (a transfer
	// sends its part while it reads the next one, when a buffer is
	// free). partFree keeps those given back for the next part, so that
	// parts make no garbage: a sync.Pool drops its buffers at each
	// collection, and the buffers made again grew the heap to twice
	// what was live (S3: 227 MiB for 4 × 256 MiB).
	partBudget chan struct{}
	partFree   chan []byte
	// partMem is what the part buffers add to robo's soft memory limit
	// (memlimit.Reserve): the whole budget, from the first part buffer
	// to Close, since the free list keeps them.
	partMem     sync.Mutex
	unreserve   func()
	partsClosed bool
}

// getPart returns an empty part buffer of capacity n, waiting for the
// budget. Every buffer it returns goes back through putPart, or dropPart
// when the client may still read it.
func (c *Conn) getPart(n int64) []byte {
	c.partBudget <- struct{}{}
	c.partMem.Lock()
	if c.unreserve == nil && !c.partsClosed {
		c.unreserve = memlimit.Reserve(int64(cap(c.partBudget)) * n)
	}
	c.partMem.Unlock()
	select {
	case b := <-c.partFree:
		if int64(cap(b)) == n {
			return b[:0]
		}
	default:
	}
	return make([]byte, 0, n)
}

// putPart gives back a part buffer no one reads any more.
func (c *Conn) putPart(b []byte) {
	select {
	case c.partFree <- b[:0]:
	default:
	}
	<-c.partBudget
}

// dropPart gives back the budget of a part buffer the client may still
// read (an upload that failed: net/http can read a request body after
// the response): it is not reused, the collector takes it.
func (c *Conn) dropPart() { <-c.partBudget }

// Dial connects to a remote.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.Transfers < 1 {
		cfg.Transfers = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.MultipartThreshold <= 0 {
		cfg.MultipartThreshold = 64 << 20
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 16 << 20
	}
	c := &Conn{cfg: cfg, slots: make(chan struct{}, cfg.Transfers), bw: &limiter{rate: cfg.BWLimit},
		partBudget: make(chan struct{}, cfg.Transfers+1), partFree: make(chan []byte, cfg.Transfers+1)}
	var err error
	switch cfg.Type {
	case "sftp":
		err = c.dialSFTP(ctx)
	case "webdav":
		err = c.dialWebDAV(ctx)
	case "s3":
		err = c.dialS3(ctx)
	case "azureblob":
		err = c.dialAzure(ctx)
	default:
		return nil, &DialError{Remote: cfg.Name, Reason: fmt.Errorf("%w: type %q (see docs/offsite.md)", ErrTypeNotBuilt, cfg.Type)}
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Open returns the folder root of the remote as a vfs.FS: a slash-separated
// path inside it ("" is the remote's root; for sftp a leading slash starts
// from the server's root, otherwise from the login folder).
func (c *Conn) Open(root string) (vfs.FS, error) { return c.open(root) }

// Close ends the connection. FSes opened from it fail afterwards.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() {
		err = c.close()
		c.partMem.Lock()
		if c.unreserve != nil {
			c.unreserve()
		}
		c.partsClosed = true
		c.partMem.Unlock()
	})
	return err
}

// acquire takes a transfer slot; release gives it back.
func (c *Conn) acquire() { c.slots <- struct{}{} }
func (c *Conn) release() { <-c.slots }

// limiter paces bytes to the rate in force: a token bucket whose tokens
// are time (next is when the bytes granted so far have been paid for),
// with a burst of a quarter second. A link idle for an hour earns no more
// than the burst.
type limiter struct {
	rate func(time.Time) int64
	// now and sleep are the clock (nil: the real one); tests inject their
	// own to check the accounting without measuring time.
	now   func() time.Time
	sleep func(time.Duration)
	mu    sync.Mutex
	next  time.Time
}

const burst = 250 * time.Millisecond

func (l *limiter) wait(n int) {
	if l == nil || l.rate == nil || n <= 0 {
		return
	}
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	r := l.rate(now)
	if r <= 0 {
		return
	}
	l.mu.Lock()
	if l.next.Before(now.Add(-burst)) {
		l.next = now.Add(-burst)
	}
	l.next = l.next.Add(time.Duration(float64(n) / float64(r) * float64(time.Second)))
	d := l.next.Sub(now)
	l.mu.Unlock()
	if d > 0 {
		if l.sleep != nil {
			l.sleep(d)
		} else {
			time.Sleep(d)
		}
	}
}

// paced chunks: a Read or Write larger than this is split so the limiter
// can pace it.
const pacedChunk = 32 << 10

type pacedReader struct {
	io.Reader
	l *limiter
}

func (p pacedReader) Read(b []byte) (int, error) {
	if p.l.rate != nil && len(b) > pacedChunk {
		b = b[:pacedChunk]
	}
	n, err := p.Reader.Read(b)
	p.l.wait(n)
	return n, err
}

type pacedWriter struct {
	io.Writer
	l *limiter
}

func (p pacedWriter) Write(b []byte) (int, error) {
	total := 0
	for len(b) > 0 {
		k := len(b)
		if p.l.rate != nil && k > pacedChunk {
			k = pacedChunk
		}
		p.l.wait(k)
		n, err := p.Writer.Write(b[:k])
		total += n
		if err != nil {
			return total, err
		}
		b = b[k:]
	}
	return total, nil
}
