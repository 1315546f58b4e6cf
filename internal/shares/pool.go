package shares

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

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

func (m Mount) target() Target {
	t := TargetOf(m.UNC, m.Port)
	t.Name = m.Name
	return t
}

// Pool opens vfs.FS roots on the shares of its mounts, dialling each share
// on first use and keeping the connections until Close. Its Open method
// fits native.Engine.Open for UNC roots. It is safe for concurrent use.
//
// A share gets Options.Sessions sessions (default 2), each its own TCP
// connection: the first is dialled by the first Open, which fails when it
// fails; the others are dialled in the background once it succeeded, and
// the file systems spread their operations over those that are up. A
// server serves each connection in order (Samba: one smbd process per
// connection), so several let it work on several of the engine's threads'
// requests at once.
type Pool struct {
	ctx    context.Context
	opts   Options
	mounts []Mount

	dialCtx    context.Context // for the background dials; ends at Close
	stopDials  context.CancelFunc
	dials      sync.WaitGroup
	mu         sync.Mutex
	conns      map[int]*Conn
	extra      map[*Conn]*lanes // the further sessions of a connection
	extraConns []*Conn
	failed     map[int]error // permanent dial failures (bad password...): never retried
	closed     bool
}

// NewPool returns a pool for the mounts. Operations of the file systems it
// opens end when ctx does.
func NewPool(ctx context.Context, opts Options, mounts ...Mount) *Pool {
	dctx, cancel := context.WithCancel(ctx)
	return &Pool{ctx: ctx, opts: opts, mounts: mounts, conns: map[int]*Conn{}, extra: map[*Conn]*lanes{}, failed: map[int]error{},
		dialCtx: dctx, stopDials: cancel}
}

// lanes holds the further sessions of one share connection, as they come
// up; the list is replaced, never changed, so readers need no lock.
type lanes struct {
	mu sync.Mutex
	v  atomic.Pointer[[]*Conn]
}

func (l *lanes) get() []*Conn {
	if p := l.v.Load(); p != nil {
		return *p
	}
	return nil
}

func (l *lanes) add(c *Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := append(append([]*Conn(nil), l.get()...), c)
	l.v.Store(&cs)
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
	p.mu.Lock()
	l := p.extra[c]
	p.mu.Unlock()
	return c.fsContext(p.ctx, u.Path, l), nil
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
	c, err := Dial(p.ctx, m.target(), m.Credentials, p.opts)
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
	l := &lanes{}
	p.extra[c] = l
	for range p.opts.sessions() - 1 {
		p.dials.Add(1)
		go p.dialLane(m, l)
	}
	return c, nil
}

// dialLane adds one more session to l. A failure only costs speed: the
// share stays usable through the sessions that are up.
func (p *Pool) dialLane(m Mount, l *lanes) {
	defer p.dials.Done()
	c, err := Dial(p.dialCtx, m.target(), m.Credentials, p.opts)
	if err != nil {
		if p.dialCtx.Err() == nil {
			p.opts.logf("shares: another session to %s failed, going on with fewer: %v", TargetOf(m.UNC, m.Port), err)
		}
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.extraConns = append(p.extraConns, c)
	l.add(c)
	p.mu.Unlock()
}

// Close closes every connection. It is idempotent.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	p.stopDials()
	p.mu.Unlock()
	p.dials.Wait() // a dial that finishes now closes its own session
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	done := map[*Conn]bool{}
	for _, c := range append(mapValues(p.conns), p.extraConns...) {
		if !done[c] {
			done[c] = true
			errs = append(errs, c.Close())
		}
	}
	p.conns, p.extra, p.extraConns = map[int]*Conn{}, map[*Conn]*lanes{}, nil
	return errors.Join(errs...)
}

func mapValues(m map[int]*Conn) []*Conn {
	out := make([]*Conn, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	return out
}
