package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Session and login defaults (docs/api.md, "Authentication and safety").
const (
	// DefaultSessionIdle ends a browser session not used for this long.
	DefaultSessionIdle = 30 * time.Minute
	// DefaultSessionMax ends a browser session this long after sign-in,
	// used or not.
	DefaultSessionMax = 12 * time.Hour
	// maxSessions bounds the sessions kept; the oldest is dropped first.
	maxSessions = 256

	// DefaultLoginWindow is the period over which failed sign-ins are
	// counted (and summarised in the audit trail).
	DefaultLoginWindow = time.Minute
	// DefaultLoginFailuresPerAddr failed sign-ins from one client address
	// in a window make that address wait for the next window.
	DefaultLoginFailuresPerAddr = 5
	// DefaultLoginFailures failed sign-ins from all addresses together in
	// a window make every address wait for the next window.
	DefaultLoginFailures = 50
	// maxTrackedAddrs bounds the per-address counters.
	maxTrackedAddrs = 4096
	// maxAuditAddrs bounds the addresses one audit summary lists.
	maxAuditAddrs = 20
)

// tokenEqual compares a presented secret with the expected one in time
// that depends on neither (both are hashed first, so not even the length
// leaks).
func tokenEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1 && want != ""
}

// sessions are the browser sessions, in memory only: a restart ends them
// all. The map is keyed by a hash of the cookie value, so a lookup's
// timing says nothing about other sessions' values.
type sessions struct {
	idle, max time.Duration
	now       func() time.Time

	mu sync.Mutex
	m  map[[32]byte]*session
}

type session struct {
	created, used time.Time
}

func newSessions(idle, max time.Duration, now func() time.Time) *sessions {
	return &sessions{idle: idle, max: max, now: now, m: map[[32]byte]*session{}}
}

// create starts a session and returns its cookie value (32 random bytes).
func (ss *sessions) create() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	id := hex.EncodeToString(b)
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.expireLocked(now)
	for len(ss.m) >= maxSessions {
		var oldest [32]byte
		var at time.Time
		for k, s := range ss.m {
			if at.IsZero() || s.created.Before(at) {
				oldest, at = k, s.created
			}
		}
		delete(ss.m, oldest)
	}
	ss.m[sha256.Sum256([]byte(id))] = &session{created: now, used: now}
	return id, nil
}

// valid reports whether id is a live session, and marks it used.
func (ss *sessions) valid(id string) bool {
	if id == "" {
		return false
	}
	k := sha256.Sum256([]byte(id))
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[k]
	if s == nil {
		return false
	}
	if ss.expired(s, now) {
		delete(ss.m, k)
		return false
	}
	s.used = now
	return true
}

// end ends the session id, if it exists.
func (ss *sessions) end(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, sha256.Sum256([]byte(id)))
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.used) >= ss.idle || now.Sub(s.created) >= ss.max
}

func (ss *sessions) expireLocked(now time.Time) {
	for k, s := range ss.m {
		if ss.expired(s, now) {
			delete(ss.m, k)
		}
	}
}

// clientAddr is the address failed sign-ins are counted by: the peer's IP
// (a reverse proxy in front makes every client one address; the global
// limit still holds).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginGuard throttles failed sign-ins (the login form and wrong bearer
// tokens alike) per client address and globally, in fixed windows, and
// summarises them in the audit trail: one ui.login_failed entry per window
// that had failures, with the count and the addresses, instead of one
// entry per attempt.
type loginGuard struct {
	window           time.Duration
	perAddr, overall int
	now              func() time.Time
	audit            func(event string, fields map[string]string)

	mu        sync.Mutex
	start     time.Time      // the current window's start
	byAddr    map[string]int // failures per address in the window
	total     int            // failures in the window
	throttled int            // attempts refused unchecked in the window
	timer     *time.Timer    // flushes the window's summary
	gen       int            // the window's number, so a late timer flushes nothing
	closed    bool
}

func newLoginGuard(window time.Duration, perAddr, overall int, now func() time.Time, audit func(string, map[string]string)) *loginGuard {
	return &loginGuard{window: window, perAddr: perAddr, overall: overall, now: now, audit: audit, byAddr: map[string]int{}}
}

// roll starts a new window when the current one is over, flushing the old
// one's summary.
func (g *loginGuard) rollLocked(now time.Time) {
	if !g.start.IsZero() && now.Sub(g.start) < g.window {
		return
	}
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	g.flushLocked()
	g.start = now
	g.gen++
}

// allow reports whether addr may try a token now; when it may not, the
// attempt is counted as throttled and retry says when the window ends.
func (g *loginGuard) allow(addr string) (ok bool, retry time.Duration) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rollLocked(now)
	n, seen := g.byAddr[addr]
	// Past the global limit, an address that has not failed in this
	// window may still try (the administrator signing in while someone
	// else guesses is not locked out); one that has failed may not, nor
	// may any address once the table of addresses is full (an attacker
	// with many addresses then meets the global limit at once).
	if n >= g.perAddr || (g.total >= g.overall && (seen || len(g.byAddr) >= maxTrackedAddrs)) {
		g.throttled++
		g.armLocked()
		return false, g.window - now.Sub(g.start)
	}
	return true, 0
}

// failed counts a failed attempt from addr.
func (g *loginGuard) failed(addr string) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rollLocked(now)
	if _, ok := g.byAddr[addr]; ok || len(g.byAddr) < maxTrackedAddrs {
		g.byAddr[addr]++
	}
	g.total++
	g.armLocked()
}

// armLocked schedules the summary at the window's end.
func (g *loginGuard) armLocked() {
	if g.timer != nil || g.closed {
		return
	}
	gen := g.gen
	g.timer = time.AfterFunc(g.window, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.gen != gen {
			return
		}
		g.timer = nil
		g.flushLocked()
		g.start = time.Time{}
	})
}

// flushLocked writes the window's summary, if it had failures.
func (g *loginGuard) flushLocked() {
	if g.total == 0 && g.throttled == 0 {
		return
	}
	addrs := make([]string, 0, len(g.byAddr))
	for a := range g.byAddr {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool {
		if g.byAddr[addrs[i]] != g.byAddr[addrs[j]] {
			return g.byAddr[addrs[i]] > g.byAddr[addrs[j]]
		}
		return addrs[i] < addrs[j]
	})
	var list []string
	for i, a := range addrs {
		if i == maxAuditAddrs {
			list = append(list, fmt.Sprintf("and %d more", len(addrs)-i))
			break
		}
		list = append(list, fmt.Sprintf("%s (%d)", a, g.byAddr[a]))
	}
	g.audit("ui.login_failed", map[string]string{
		"count":     strconv.Itoa(g.total),
		"throttled": strconv.Itoa(g.throttled),
		"addresses": strings.Join(list, ", "),
		"since":     g.start.UTC().Format(time.RFC3339),
		"window":    g.window.String(),
	})
	g.byAddr, g.total, g.throttled = map[string]int{}, 0, 0
}

// close flushes the pending summary and stops the timer.
func (g *loginGuard) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	g.flushLocked()
}
