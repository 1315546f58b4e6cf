package shares

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	smb2 "github.com/cloudsoda/go-smb2"
)

// DefaultPort is the SMB port.
const DefaultPort = 445

// maxCredits is the most SMB credits a connection holds (go-smb2's default
// is 128, eight 1 MiB writes, shared by every thread).
const maxCredits = 1024

// Target is one share on one server.
type Target struct {
	// Server is a host name or IP address.
	Server string
	// Port is the TCP port; 0 means 445.
	Port int
	// Share is the share name.
	Share string
	// Name, when set, is the configuration's name for the share (its
	// share block), which messages of a lost connection start with.
	Name string
}

// TargetOf returns the target of a UNC path (its Path is not part of it).
func TargetOf(u UNC, port int) Target { return Target{Server: u.Server, Port: port, Share: u.Share} }

func (t Target) port() int {
	if t.Port == 0 {
		return DefaultPort
	}
	return t.Port
}

func (t Target) addr() string { return net.JoinHostPort(t.Server, strconv.Itoa(t.port())) }

// String returns `\\server\share`, followed by the port when it is not 445.
func (t Target) String() string {
	s := `\\` + t.Server + `\` + t.Share
	if t.port() != DefaultPort {
		s += " (port " + strconv.Itoa(t.port()) + ")"
	}
	return s
}

// Options tune a connection. The zero value is usable.
type Options struct {
	// DialTimeout bounds one connection attempt (TCP, negotiation, logon
	// and tree connect). Zero means 30s.
	DialTimeout time.Duration
	// Redials is how many times a lost connection is re-dialled before the
	// operation that noticed the loss fails. Zero means 4; negative means
	// never.
	Redials int
	// RedialWait is the pause before the second attempt; it doubles for
	// each further attempt, up to 10s. Zero means 500ms. After reconnecting
	// failed, operations fail at once (without dialling) for this long, so
	// a dead server does not cost every file the whole backoff.
	RedialWait time.Duration
	// Logf, when set, reports connection losses and reconnections (never
	// passwords).
	Logf func(format string, args ...any)
	// DialContext, when set, opens the TCP connection instead of a
	// net.Dialer (for tests and proxies).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Sessions is how many sessions (TCP connections) a Pool opens to each
	// share. Zero means 2; Dial always makes one.
	Sessions int
	// AnswerTimeout bounds how long the server may leave a request
	// unanswered (no frame at all while one is outstanding): past it the
	// connection is dropped and the operation fails with ErrStalled. A
	// stalled connection is re-dialled once, within AnswerTimeout; when
	// that fails too, the connection stays failed (every later operation
	// fails at once) until Close. Zero means DefaultAnswerTimeout;
	// negative means no bound.
	AnswerTimeout time.Duration
}

// DefaultAnswerTimeout is the default Options.AnswerTimeout.
const DefaultAnswerTimeout = 60 * time.Second

func (o Options) answerTimeout() time.Duration {
	switch {
	case o.AnswerTimeout < 0:
		return 0
	case o.AnswerTimeout == 0:
		return DefaultAnswerTimeout
	}
	return o.AnswerTimeout
}

func (o Options) sessions() int {
	if o.Sessions <= 0 {
		return 2
	}
	return o.Sessions
}

func (o Options) dialTimeout() time.Duration {
	if o.DialTimeout <= 0 {
		return 30 * time.Second
	}
	return o.DialTimeout
}

func (o Options) redials() int {
	switch {
	case o.Redials < 0:
		return 0
	case o.Redials == 0:
		return 4
	}
	return o.Redials
}

func (o Options) redialWait() time.Duration {
	if o.RedialWait <= 0 {
		return 500 * time.Millisecond
	}
	return o.RedialWait
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// Conn is a logged-on SMB session with one share mounted. It re-dials by
// itself when the connection breaks (see Options). It is safe for
// concurrent use.
type Conn struct {
	target Target
	// creds holds the account without its password, which only the
	// password closure returns: fmt prints a func as an address, so even a
	// reflective dump of a Conn cannot show it.
	creds    *Credentials
	password func() []byte
	opts     Options

	redialMu sync.Mutex // serialises reconnects

	// dirs is the identity of every directory of the share robo has
	// listed or checked through this connection (see confine.go).
	dirs dirTable

	mu       sync.Mutex
	sess     *smb2.Session
	share    *smb2.Share
	gen      uint64 // incremented by every reconnect attempt
	lastErr  error  // why the last reconnect failed
	failedAt time.Time
	stalled  error // set when the server stopped answering (ErrStalled)
	dead     error // a stalled server that could not be re-dialled: final
	closed   bool
}

// Dial connects to t.Server, logs on with creds (NTLM) and mounts t.Share.
// Errors are *DialError values whose text names the server, share and user
// but never the password; test them with errors.Is against ErrLogonFailure,
// ErrNoSuchShare, ErrAccessDenied (also fs.ErrPermission), ErrUnreachable
// and ErrTimeout.
func Dial(ctx context.Context, t Target, creds Credentials, opts Options) (*Conn, error) {
	if t.Server == "" || t.Share == "" {
		return nil, fmt.Errorf("SMB target %s: server and share are required", t)
	}
	pw := append([]byte(nil), creds.Password...)
	c := &Conn{target: t, opts: opts, creds: &Credentials{User: creds.User, Domain: creds.Domain}, password: func() []byte { return pw }}
	sess, share, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.sess, c.share = sess, share
	return c, nil
}

// Target returns what the connection is to.
func (c *Conn) Target() Target { return c.target }

// User returns the account (`DOMAIN\user`).
func (c *Conn) User() string { return c.creds.Name() }

// String returns `\\server\share as DOMAIN\user`.
func (c *Conn) String() string { return c.target.String() + " as " + c.creds.Name() }

// dial makes one connection: TCP, negotiate, NTLM logon, tree connect.
func (c *Conn) dial(ctx context.Context) (*smb2.Session, *smb2.Share, error) {
	return c.dialWithin(ctx, c.opts.dialTimeout())
}

func (c *Conn) dialWithin(ctx context.Context, timeout time.Duration) (*smb2.Session, *smb2.Share, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	full := &Credentials{User: c.creds.User, Domain: c.creds.Domain, Password: c.password()}
	d := &smb2.Dialer{
		Initiator: &smb2.NTLMInitiator{User: full.User, Domain: full.Domain, Password: string(full.Password)},
		// Room for several large writes in flight from each of the
		// engine's threads (a 1 MiB write costs 16 credits). The server
		// grants what it wants (Samba: up to 8192).
		MaxCreditBalance: maxCredits,
	}
	var (
		sess *smb2.Session
		nc   net.Conn
		err  error
	)
	if c.opts.DialContext != nil {
		nc, err = c.opts.DialContext(ctx, "tcp", c.target.addr())
	} else {
		var nd net.Dialer
		nc, err = nd.DialContext(ctx, "tcp", c.target.addr())
		if err != nil {
			err = fmt.Errorf("establishing TCP connection: %w", err)
		}
	}
	if err == nil {
		sess, err = d.DialConn(ctx, newFrameConn(nc, c.opts.answerTimeout()), c.target.addr())
		if err != nil {
			nc.Close()
		}
	}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, nil, classifyDial(c.target, full, "logon", err)
	}
	share, err := sess.WithContext(ctx).Mount(`\\` + c.target.Server + `\` + c.target.Share)
	if err != nil {
		logoff(sess)
		return nil, nil, classifyDial(c.target, full, "mount", err)
	}
	return sess, share, nil
}

// logoff ends a session without waiting long for a server that may be gone;
// it always releases the TCP connection.
func logoff(sess *smb2.Session) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sess.WithContext(ctx).Logoff()
}

// current returns the mounted share, reconnecting first when an earlier
// reconnect failed (unless that was less than RedialWait ago).
func (c *Conn) current(ctx context.Context) (*smb2.Share, uint64, error) {
	for i := 0; ; i++ {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, 0, ErrClosed
		}
		if c.dead != nil {
			err := c.dead
			c.mu.Unlock()
			return nil, 0, err
		}
		if c.share != nil {
			sh, gen := c.share, c.gen
			c.mu.Unlock()
			return sh, gen, nil
		}
		gen, lastErr, recent := c.gen, c.lastErr, time.Since(c.failedAt) < c.opts.redialWait()
		c.mu.Unlock()
		if i > 0 || (recent && lastErr != nil) {
			if lastErr == nil {
				lastErr = ErrClosed
			}
			return nil, 0, &LostError{Target: c.target, Err: errors.New("not connected"), Redial: lastErr}
		}
		if err := c.reconnect(ctx, gen); err != nil {
			return nil, 0, &LostError{Target: c.target, Err: errors.New("not connected"), Redial: err}
		}
	}
}

// broken marks the session of generation gen as unusable, so that the next
// operation reconnects first.
func (c *Conn) broken(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen && c.share != nil {
		old := c.sess
		c.sess, c.share = nil, nil
		c.gen++
		c.lastErr, c.failedAt = nil, time.Time{}
		go logoff(old)
	}
}

// reconnect replaces the session of generation gen with a new one, trying
// up to Redials times with a doubling pause. When another goroutine already
// replaced it, it returns that attempt's outcome.
func (c *Conn) reconnect(ctx context.Context, gen uint64) error {
	c.redialMu.Lock()
	defer c.redialMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.gen != gen && (c.share != nil || c.lastErr != nil) {
		err := c.lastErr
		c.mu.Unlock()
		return err
	}
	old := c.sess
	c.sess, c.share = nil, nil
	c.mu.Unlock()
	if old != nil {
		logoff(old)
	}
	attempts := c.opts.redials()
	if attempts == 0 {
		attempts = 1 // a session that was never replaced may still dial once
	}
	c.mu.Lock()
	stalled := c.stalled
	c.mu.Unlock()
	dialTimeout := c.opts.dialTimeout()
	if stalled != nil {
		// A server that stopped answering is given one more chance, as
		// long as one answer: a stopped (not crashed) server still
		// accepts TCP connections, so every dial would wait its whole
		// timeout.
		attempts = 1
		dialTimeout = min(dialTimeout, max(c.opts.answerTimeout(), time.Second))
	}
	c.opts.logf("shares: connection to %s lost; reconnecting", c.target)
	var (
		sess  *smb2.Session
		share *smb2.Share
		err   error
	)
	wait := c.opts.redialWait()
	for a := 0; a < attempts; a++ {
		if a > 0 {
			select {
			case <-ctx.Done():
				err = fmt.Errorf("%w (last attempt: %v)", ctx.Err(), err)
				a = attempts
				continue
			case <-time.After(wait):
			}
			wait = min(2*wait, 10*time.Second)
		}
		sess, share, err = c.dialWithin(ctx, dialTimeout)
		if err == nil || permanent(err) || ctx.Err() != nil {
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if err != nil {
		c.lastErr, c.failedAt = err, time.Now()
		c.opts.logf("shares: reconnecting to %s failed: %v", c.target, err)
		if stalled != nil && ctx.Err() == nil {
			c.dead = &LostError{Target: c.target, Err: stalled, Redial: err}
			c.opts.logf("shares: %s stopped answering and could not be reached again: failing its operations until the run ends", c.target)
		}
		return err
	}
	c.stalled = nil
	if c.closed {
		share.Umount()
		go logoff(sess)
		return ErrClosed
	}
	c.sess, c.share, c.lastErr, c.failedAt = sess, share, nil, time.Time{}
	c.opts.logf("shares: reconnected to %s", c.target)
	return nil
}

// do runs fn on the current share. When fn fails because the connection
// broke, it reconnects and runs fn once more on the new session; retried
// reports that second run to fn's caller.
func (c *Conn) do(ctx context.Context, fn func(sh *smb2.Share, retried bool) error) error {
	sh, gen, err := c.current(ctx)
	if err != nil {
		return err
	}
	err = fn(sh.WithContext(ctx), false)
	if err == nil || !needsRedial(err) || ctx.Err() != nil {
		return err
	}
	c.noteStall(err)
	if rerr := c.reconnect(ctx, gen); rerr != nil {
		return &LostError{Target: c.target, Err: lostCause(err), Redial: rerr}
	}
	sh, gen, rerr := c.current(ctx)
	if rerr != nil {
		return rerr
	}
	err = fn(sh.WithContext(ctx), true)
	if err != nil && needsRedial(err) {
		c.noteStall(err)
		c.broken(gen)
		return &LostError{Target: c.target, Err: lostCause(err)}
	}
	return err
}

// noteStall remembers that the server stopped answering, so that the
// reconnect that follows is bounded (see Options.AnswerTimeout).
func (c *Conn) noteStall(err error) {
	if st := stallOf(err); st != nil {
		c.mu.Lock()
		if c.stalled == nil {
			c.stalled = st
		}
		c.mu.Unlock()
	}
}

// lostCause is what a LostError reports of err: the stall itself when the
// server stopped answering (so errors.Is(err, ErrStalled) holds).
func lostCause(err error) error {
	if st := stallOf(err); st != nil {
		return st
	}
	return inner(err)
}

// stallOf returns the ErrStalled inside err (go-smb2's TransportError does
// not unwrap), or nil.
func stallOf(err error) error {
	var te *smb2.TransportError
	if errors.As(err, &te) {
		err = te.Err
	}
	var se *stallError
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// Close unmounts the share and logs off. It is idempotent; operations after
// Close fail with ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	sess, share := c.sess, c.share
	c.sess, c.share = nil, nil
	c.mu.Unlock()
	var err error
	if share != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = share.WithContext(ctx).Umount()
		cancel()
		if needsRedial(err) {
			err = nil // the server is gone: nothing left to undo
		}
	}
	if sess != nil {
		logoff(sess)
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %w", c.target, inner(err))
	}
	return nil
}
