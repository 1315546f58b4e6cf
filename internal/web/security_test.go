package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/plan"
)

// browserResolve resolves a Location header as a WHATWG URL parser
// (Chromium, Firefox) does for an http: base: leading and trailing C0
// controls and spaces are dropped, tabs and newlines removed anywhere, and
// a backslash is a slash.
func browserResolve(t *testing.T, base, loc string) *url.URL {
	t.Helper()
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(loc)
	b, _ := url.Parse(base)
	u, err := b.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q does not parse: %v", loc, err)
	}
	return u
}

// redirectTargets are post-login targets that must never leave the
// server (issue 13: next=/%09/evil.com was followed off-site).
var redirectTargets = []string{
	"//evil.com", "///evil.com", `/\evil.com`, `\\evil.com`, `\evil.com`, `/\/evil.com`,
	"/\t/evil.com", "/\n/evil.com", "/\r/evil.com", "\t//evil.com", " //evil.com", "/ /evil.com",
	"/\x00/evil.com", "/\x0b/evil.com", "/\x7f/evil.com", "//\tevil.com", "/\t\\evil.com",
	"%2F%2Fevil.com", "/%2F%2Fevil.com", "/%5Cevil.com", "%09//evil.com",
	"https://evil.com", "http:evil.com", "http:/evil.com", "HTTPS://evil.com/x", "javascript:alert(1)",
	"//user@evil.com", "/@evil.com", "evil.com", "", "/sets/docs#//evil.com",
	"/\u3002/evil.com", "/\uff0f/evil.com", "/..//evil.com", "/.//evil.com", "/%2e%2e//evil.com",
}

// TestLoginRedirectStaysOnServer posts the login form with each target
// (correct token) and checks the Location header: no control character,
// no backslash, and resolved as a browser does it is on this server.
func TestLoginRedirectStaysOnServer(t *testing.T) {
	s, _ := New(Options{Backend: &fakeBackend{}, Token: token, Loopback: true, LoginFailuresPerAddr: 1000})
	base := serve(t, s)
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rt := &http.Transport{}
	defer rt.CloseIdleConnections()
	bu, _ := url.Parse(base)
	for _, next := range redirectTargets {
		form := url.Values{"csrf": {s.csrf}, "token": {token}, "next": {next}}.Encode()
		req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := rt.RoundTrip(req) // no redirect handling: the raw Location
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("next=%q: status %d", next, resp.StatusCode)
			continue
		}
		if strings.ContainsFunc(loc, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
			t.Errorf("next=%q: Location %q holds a control character, a space or a backslash", next, loc)
		}
		if u := browserResolve(t, base, loc); u.Host != bu.Host || u.Scheme != "http" {
			t.Errorf("next=%q: Location %q leads to %s", next, loc, u)
		}
		// The login page carries the same target in its form.
		resp, err = cl.Get(base + "/login?next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`name="next" value="([^"]*)"`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("GET /login?next=%q: no next field", next)
		}
		if u := browserResolve(t, base, html.UnescapeString(string(m[1]))); u.Host != bu.Host {
			t.Errorf("GET /login?next=%q: the form's target %q leads to %s", next, m[1], u)
		}
	}
	// Same-server targets are kept, query included.
	for next, want := range map[string]string{"/plan": "/plan", "/logs?file=a.log&level=error": "/logs?file=a.log&level=error", "/sets/my%20set": "/sets/my%20set"} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// login signs in and returns the session cookie's value.
func login(t *testing.T, s *Server, base string) *http.Cookie {
	t.Helper()
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Post(base+"/login", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"csrf": {s.csrf}, "token": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return c
		}
	}
	t.Fatalf("login: %d, no session cookie", resp.StatusCode)
	return nil
}

// withCookie GETs path with the session cookie and returns the status.
func withCookie(t *testing.T, base, path, value string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestSessions (issue 13): a session is random, server-side, ends at
// logout, after SessionIdle unused and SessionMax after sign-in, and does
// not survive a restart.
func TestSessions(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	opts := Options{Backend: &fakeBackend{}, Token: token, Loopback: true, Now: clk.now, SessionIdle: 30 * time.Minute, SessionMax: 2 * time.Hour}
	s, _ := New(opts)
	base := serve(t, s)

	c1, c2 := login(t, s, base), login(t, s, base)
	if c1.Value == c2.Value || strings.Contains(c1.Value, token) {
		t.Fatalf("session cookies are not random: %q %q", c1.Value, c2.Value)
	}
	if !c1.HttpOnly || c1.SameSite != http.SameSiteStrictMode || c1.Path != "/" || c1.Secure {
		t.Errorf("cookie flags: %+v (Secure only over TLS)", c1)
	}
	if code := withCookie(t, base, "/", c1.Value); code != 200 {
		t.Fatalf("live session: %d", code)
	}
	if code := withCookie(t, base, "/api/sets", "0123"+c1.Value[4:]); code != http.StatusUnauthorized {
		t.Errorf("forged session: %d", code)
	}

	// Logout ends c1 on the server: the cookie replayed no longer works;
	// c2 is unaffected.
	req, _ := http.NewRequest("POST", base+"/logout", strings.NewReader(url.Values{"csrf": {s.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(c1)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %v %v", resp, err)
	}
	resp.Body.Close()
	if code := withCookie(t, base, "/", c1.Value); code != http.StatusSeeOther {
		t.Errorf("session after logout: %d, want a redirect to the login", code)
	}
	if code := withCookie(t, base, "/api/sets", c1.Value); code != http.StatusUnauthorized {
		t.Errorf("API with a session after logout: %d", code)
	}
	if code := withCookie(t, base, "/", c2.Value); code != 200 {
		t.Errorf("the other session: %d", code)
	}

	// Idle: used within SessionIdle it lives; unused for SessionIdle it ends.
	clk.add(29 * time.Minute)
	if code := withCookie(t, base, "/", c2.Value); code != 200 {
		t.Errorf("session used after 29 min: %d", code)
	}
	clk.add(30 * time.Minute)
	if code := withCookie(t, base, "/", c2.Value); code != http.StatusSeeOther {
		t.Errorf("session idle for 30 min: %d, want it ended", code)
	}

	// Absolute: used every 20 minutes, it still ends SessionMax after sign-in.
	c3 := login(t, s, base)
	for i := 0; i < 5; i++ {
		clk.add(20 * time.Minute)
		if code := withCookie(t, base, "/", c3.Value); code != 200 {
			t.Fatalf("session at %d min: %d", 20*(i+1), code)
		}
	}
	clk.add(20 * time.Minute) // 120 min
	if code := withCookie(t, base, "/", c3.Value); code != http.StatusSeeOther {
		t.Errorf("session 2 h after sign-in: %d, want it ended", code)
	}

	// Restart: a new server with the same token knows no session.
	c4 := login(t, s, base)
	s2, _ := New(opts)
	base2 := serve(t, s2)
	if code := withCookie(t, base2, "/", c4.Value); code != http.StatusSeeOther {
		t.Errorf("session after a restart: %d, want it ended", code)
	}
}

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (127.0.0.0/8 is all loopback on Linux).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func postLogin(t *testing.T, cl *http.Client, s *Server, base, tok string) *http.Response {
	t.Helper()
	resp, err := cl.Post(base+"/login", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"csrf": {s.csrf}, "token": {tok}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestLoginThrottle (issue 13): failed sign-ins and wrong bearer tokens
// are limited per client address and globally, the token is not even
// checked while limited, and the audit trail gets one ui.login_failed
// summary per window with the count and the addresses.
func TestLoginThrottle(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	var entries []map[string]string
	s, _ := New(Options{Backend: &fakeBackend{}, Token: token, Now: clk.now, LoginWindow: time.Minute, LoginFailuresPerAddr: 5, LoginFailures: 12,
		Audit: func(ev string, f map[string]string) {
			mu.Lock()
			defer mu.Unlock()
			if ev == "ui.login_failed" {
				entries = append(entries, f)
			}
		}})
	base := serve(t, s)
	a := clientFrom("127.0.0.1")
	if _, err := a.Get(base + "/login"); err != nil {
		t.Skipf("cannot connect from 127.0.0.1: %v", err)
	}
	if _, err := clientFrom("127.0.0.2").Get(base + "/login"); err != nil {
		t.Skipf("cannot connect from 127.0.0.2: %v", err)
	}

	for i := 0; i < 4; i++ {
		if r := postLogin(t, a, s, base, fmt.Sprintf("guess-%d", i)); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d", i, r.StatusCode)
		}
	}
	// A wrong bearer token counts too: the fifth failure.
	req, _ := http.NewRequest("GET", base+"/api/sets", nil)
	req.Header.Set("Authorization", "Bearer guess-bearer")
	if resp, err := a.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong bearer: %v %v", resp, err)
	}
	// Limited: even the right token is refused unchecked, form and bearer.
	r := postLogin(t, a, s, base, token)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth attempt: %d (Retry-After %q), want 429", r.StatusCode, r.Header.Get("Retry-After"))
	}
	req, _ = http.NewRequest("GET", base+"/api/sets", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := a.Do(req); err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right bearer while limited: %v %v", resp, err)
	}
	// Another address is not limited by the first one's failures.
	if r := postLogin(t, clientFrom("127.0.0.2"), s, base, token); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("another address: %d", r.StatusCode)
	}
	// The next window lets the first address in again.
	clk.add(time.Minute)
	if r := postLogin(t, a, s, base, token); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d", r.StatusCode)
	}

	// Globally: after 12 failures from many addresses, every address that
	// failed is limited, even below its own limit, and so is a fresh
	// address once it fails; but a fresh address with the right token is
	// not locked out by someone else's guessing.
	for i := 0; i < 12; i++ {
		ip := fmt.Sprintf("127.0.1.%d", 1+i/3)
		if r := postLogin(t, clientFrom(ip), s, base, "guess"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d from %s: %d", i, ip, r.StatusCode)
		}
	}
	if r := postLogin(t, clientFrom("127.0.1.1"), s, base, token); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("an address that failed 3 times, after 12 failures overall: %d, want 429", r.StatusCode)
	}
	if r := postLogin(t, clientFrom("127.0.2.1"), s, base, token); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("a fresh address with the right token after 12 failures overall: %d, want 303", r.StatusCode)
	}
	if r := postLogin(t, clientFrom("127.0.2.2"), s, base, "guess"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a fresh address's first guess after 12 failures overall: %d, want 401", r.StatusCode)
	}
	if r := postLogin(t, clientFrom("127.0.2.2"), s, base, token); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("its second attempt: %d, want 429", r.StatusCode)
	}
	s.Close()

	mu.Lock()
	defer mu.Unlock()
	if len(entries) != 2 {
		t.Fatalf("%d ui.login_failed entries, want one per window (2): %v", len(entries), entries)
	}
	if e := entries[0]; e["count"] != "5" || e["throttled"] != "2" || e["addresses"] != "127.0.0.1 (5)" {
		t.Errorf("first window: %v", e)
	}
	if e := entries[1]; e["count"] != "13" || e["throttled"] != "2" ||
		e["addresses"] != "127.0.1.1 (3), 127.0.1.2 (3), 127.0.1.3 (3), 127.0.1.4 (3), 127.0.2.2 (1)" {
		t.Errorf("second window: %v", e)
	}
}

// TestConnectionLimits (issue 13) opens real TCP connections: at most
// MaxConns are served at once, silent and idle keep-alive connections are
// closed by the server, and the dashboard still answers afterwards.
func TestConnectionLimits(t *testing.T) {
	s, _ := New(Options{Backend: &fakeBackend{}, Loopback: true})
	o := HTTPOptions{MaxConns: 3, ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: time.Second,
		WriteTimeout: time.Second, IdleTimeout: 300 * time.Millisecond}
	ln, err := Listen("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(s, o)
	// Counted between the capped listener's Accept and the connection's
	// Close, which frees the listener's slot: http.Server's ConnState
	// reports StateClosed only after that Close, so counting there would
	// see a new connection before the old one's end.
	cl := &countingListener{Listener: ln}
	ln = cl
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()

	// Silent clients: each is closed by the server (EOF), never held.
	var conns []net.Conn
	for i := 0; i < 12; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
			t.Errorf("silent connection %d: %v, want the server to close it", i, err)
		}
		c.Close()
	}
	// A keep-alive connection left idle after a request is closed.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /api/sets HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("request on a raw connection: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Errorf("idle keep-alive connection: %v, want the server to close it", err)
	}
	m := int(cl.most.Load())
	if m > o.MaxConns {
		t.Errorf("%d connections served at once, cap %d", m, o.MaxConns)
	}
	if m < 2 {
		t.Errorf("only %d connection at once: the test did not exercise the cap", m)
	}
	if resp, err := http.Get("http://" + addr + "/api/sets"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the flood: %v %v", resp, err)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

type slowPlan struct {
	fakeBackend
	d time.Duration
}

func (b *slowPlan) Plan(ctx context.Context) (*plan.Plan, error) {
	time.Sleep(b.d)
	return &plan.Plan{}, nil
}

// TestPlanOutlivesWriteTimeout: the plan handlers extend the write
// deadline, so a plan slower than WriteTimeout still arrives whole.
func TestPlanOutlivesWriteTimeout(t *testing.T) {
	s, _ := New(Options{Backend: &slowPlan{d: 600 * time.Millisecond}, Loopback: true})
	o := HTTPOptions{WriteTimeout: 200 * time.Millisecond}
	ln, err := Listen("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(s, o)
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	resp, err := http.Get("http://" + ln.Addr().String() + "/api/plan")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !json.Valid(b) {
		t.Fatalf("slow plan: %d %v %q", resp.StatusCode, err, b)
	}
}

// TestPagesEscapeControls (issue 13): a log file whose name and lines
// hold terminal and bidirectional controls is shown escaped in every page,
// while the JSON API keeps the text byte for byte. Windows refuses ESC in
// a name; there the name holds CSI as one C1 character (U+009B).
func TestPagesEscapeControls(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows refuses control characters in names, so no log file there holds them")
	}
	dir := t.TempDir()
	csi, shownCSI := "\x1b[2J", `\x1b[2J`
	if runtime.GOOS == "windows" {
		csi, shownCSI = "\u009b2J", `\u009b2J`
	}
	name := "hook-do" + csi + "cs-before-20261101T020000Z-1.log"
	line := "copied \u202eevil.exe\r\x1b[1A fake OK"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ := New(Options{Backend: &fakeBackend{}, LogDir: dir, Loopback: true})
	c := &client{t: t, base: serve(t, s)}
	for _, p := range []string{"/logs", "/logs?file=" + url.QueryEscape(name)} {
		code, body := c.do("GET", p, "", nil, nil)
		if code != 200 {
			t.Fatalf("%s: %d", p, code)
		}
		// The filter form's hidden field must carry the real name to ask
		// for the file again; it is never displayed.
		shown := regexp.MustCompile(`<input type="hidden" name="file" value="[^"]*">`).ReplaceAllString(body, "")
		if strings.ContainsAny(shown, "\x1b\r\u202e\u009b") {
			t.Errorf("%s holds a raw control character:\n%q", p, body)
		}
		if !strings.Contains(body, shownCSI) {
			t.Errorf("%s does not show the escaped name", p)
		}
	}
	_, body := c.do("GET", "/logs?file="+url.QueryEscape(name), "", nil, nil)
	if !strings.Contains(body, `\u202eevil.exe\r\x1b[1A fake OK`) {
		t.Errorf("the log line is not shown escaped:\n%s", body)
	}
	// JSON: exact.
	_, body = c.do("GET", "/api/logs?file="+url.QueryEscape(name), "", nil, nil)
	var doc struct {
		File  LogFile   `json:"file"`
		Lines []LogLine `json:"lines"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.File.Name != name || len(doc.Lines) != 1 || doc.Lines[0].Text != line {
		t.Errorf("JSON changed the text: %q %+v", doc.File.Name, doc.Lines)
	}
}

// countingListener counts the connections it has accepted and not yet
// closed, and the most there were at once.
type countingListener struct {
	net.Listener
	open, most atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := l.open.Add(1)
	for m := l.most.Load(); n > m && !l.most.CompareAndSwap(m, n); m = l.most.Load() {
	}
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
