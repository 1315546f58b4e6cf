package shares

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/robo-backup/robo/internal/vfs"
)

// ErrNoMount: a UNC root lies in no share the Pool knows.
var ErrNoMount = errors.New("no share block covers this UNC path")

// Mount is one share robo may use, as a config share block declares it.
type Mount struct {
	// Name is the share block's name, for messages.
	Name string
	// UNC is `\\server\share` or a directory in it: roots must lie within.
	UNC UNC
	// Port is the TCP port (0: 445).
	Port int
	// Credentials log on to the server.
	Credentials Credentials
}

// Pool opens vfs.FS roots on the shares of its mounts, dialling each share
// once, on first use, and keeping the connection until Close. Its Open
// method fits native.Engine.Open for UNC roots. It is safe for concurrent
// use.
type Pool struct {
	ctx    context.Context
	opts   Options
	mounts []Mount

	mu     sync.Mutex
	conns  map[int]*Conn
	failed map[int]error // permanent dial failures (bad password...): never retried
	closed bool
}

// NewPool returns a pool for the mounts. Operations of the file systems it
// opens end when ctx does.
func NewPool(ctx context.Context, opts Options, mounts ...Mount) *Pool {
	return &Pool{ctx: ctx, opts: opts, mounts: mounts, conns: map[int]*Conn{}, failed: map[int]error{}}
}

// Lookup returns the mount that covers root (the most specific one when
// several do) and root parsed.
func (p *Pool) Lookup(root string) (m Mount, u UNC, ok bool) {
	i, u, err := p.find(root)
	if err != nil {
		return Mount{}, u, false
	}
	return p.mounts[i], u, true
}

func (p *Pool) find(root string) (int, UNC, error) {
	u, err := ParseUNC(root)
	if err != nil {
		return -1, u, err
	}
	best, depth := -1, -1
	for i, m := range p.mounts {
		if _, ok := u.Within(m.UNC); ok {
			d := 0
			if m.UNC.Path != "" {
				d = strings.Count(m.UNC.Path, "/") + 1
			}
			if d > depth {
				best, depth = i, d
			}
		}
	}
	if best < 0 {
		return -1, u, fmt.Errorf("%s: %w", u, ErrNoMount)
	}
	return best, u, nil
}

// Open returns the file system at a UNC root, connecting to its share if
// needed. The root directory need not exist.
func (p *Pool) Open(root string) (vfs.FS, error) {
	i, u, err := p.find(root)
	if err != nil {
		return nil, err
	}
	c, err := p.conn(i)
	if err != nil {
		return nil, err
	}
	return c.FSContext(p.ctx, u.Path), nil
}

func (p *Pool) conn(i int) (*Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if c := p.conns[i]; c != nil {
		return c, nil
	}
	if err := p.failed[i]; err != nil {
		return nil, err
	}
	m := p.mounts[i]
	// Mounts of one share with the same account share a connection.
	for j, c := range p.conns {
		o := p.mounts[j]
		if strings.EqualFold(o.UNC.Server, m.UNC.Server) && strings.EqualFold(o.UNC.Share, m.UNC.Share) && o.Port == m.Port &&
			o.Credentials.Name() == m.Credentials.Name() && string(o.Credentials.Password) == string(m.Credentials.Password) {
			p.conns[i] = c
			return c, nil
		}
	}
	c, err := Dial(p.ctx, TargetOf(m.UNC, m.Port), m.Credentials, p.opts)
	if err != nil {
		if m.Name != "" {
			err = fmt.Errorf("share %q: %w", m.Name, err)
		}
		if permanent(err) {
			// Repeating a refused logon can lock the account out.
			p.failed[i] = err
		}
		return nil, err
	}
	p.conns[i] = c
	return c, nil
}

// Close closes every connection. It is idempotent.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	done := map[*Conn]bool{}
	for _, c := range p.conns {
		if !done[c] {
			done[c] = true
			errs = append(errs, c.Close())
		}
	}
	p.conns = map[int]*Conn{}
	return errors.Join(errs...)
}
