// Package web is robo's dashboard and HTTP API: server-rendered pages
// (html/template, assets embedded), JSON endpoints under /api/ and
// Prometheus metrics at /metrics. The caller (robo ui, robo watch -listen)
// provides the data through [Backend]; this package never loads a
// configuration or runs a set itself.
package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/robo-backup/robo/internal/fleet"
	"github.com/robo-backup/robo/internal/plan"
)

// SetView is one set as the dashboard shows it: the data robo status
// computes.
type SetView struct {
	Name     string `json:"name"`
	InConfig bool   `json:"in_config"`
	Enabled  bool   `json:"enabled"`
	// Health is ok, failing, stale, never or disabled (robo status).
	Health        string     `json:"health"`
	Running       bool       `json:"running,omitempty"`
	Schedule      string     `json:"schedule,omitempty"`
	ScheduleError string     `json:"schedule_error,omitempty"`
	NextRun       *time.Time `json:"next_run,omitempty"`
	LastRun       *RunView   `json:"last_run,omitempty"`
	LastSuccess   *time.Time `json:"last_success,omitempty"`
	// Progress is the run in progress, when this process runs the set
	// (filled in by the server, not the Backend).
	Progress *Progress `json:"progress,omitempty"`
}

// RunView is one run of a set.
type RunView struct {
	Set         string        `json:"set"`
	Started     time.Time     `json:"started"`
	Duration    time.Duration `json:"duration_ns"`
	Outcome     string        `json:"outcome"`
	Message     string        `json:"message,omitempty"`
	FilesCopied int64         `json:"files_copied"`
	BytesCopied int64         `json:"bytes_copied"`
	// Log is the run log's file name in the logs directory, when known.
	Log string `json:"log,omitempty"`
	// Source says where the run is known from: "state" (the state's last
	// run), "process" (a run this process saw) or "log" (a run log file).
	Source string `json:"source"`
	// CountsUnknown says files_copied and bytes_copied are not known (a
	// run log without robocopy's summary table: killed mid-run).
	CountsUnknown bool `json:"counts_unknown,omitempty"`
	// Snapshot names the snapshot the run read its source from, its kind
	// and id ("btrfs robo-..."); "" for a run of the live source
	// (docs/snapshots.md).
	Snapshot string `json:"snapshot,omitempty"`
}

// Counted reports whether the run's file and byte counts are known.
func (r RunView) Counted() bool { return !r.CountsUnknown }

// Backend is what the server shows and does; the caller implements it.
type Backend interface {
	// Sets returns every set's status, as robo status computes it.
	Sets() ([]SetView, error)
	// Plan returns a fresh plan of the whole configuration; the server
	// owns it and closes it (plan.Plan.Close) once it is neither cached
	// nor read by a request.
	Plan(ctx context.Context) (*plan.Plan, error)
	// RunNow starts a run of set and returns without waiting for it.
	RunNow(set string) error
	// PlanSet returns a fresh plan of the one set (robo plan -target
	// set), to be reviewed and then given to ApplyPlan; the server owns
	// it and closes it.
	PlanSet(ctx context.Context, set string) (*plan.Plan, error)
	// ApplyPlan applies exactly p, a plan PlanSet made, and returns once
	// it has started. Before anything runs it checks p against the
	// configuration, the state and the trees as they are now, and
	// refuses it with an error wrapping ErrStale when anything differs.
	// The server owns p and closes it: when ApplyPlan returns nil, the
	// run reads p until it calls done (once, when it no longer reads it);
	// when it returns an error it must not read p afterwards (calling
	// done then is allowed, and does nothing more).
	ApplyPlan(ctx context.Context, p *plan.Plan, done func()) error
}

// ErrUnknownSet is returned by RunNow for a set that is not configured.
var ErrUnknownSet = errors.New("no such set in the configuration")

// ErrStale wraps ApplyPlan's refusal of a plan that no longer matches the
// configuration, the state or the trees.
var ErrStale = errors.New("the reviewed plan is stale")

// ErrBusy wraps a refusal to start a run of a set that is running.
var ErrBusy = errors.New("the set is running")

// Options configure a Server.
type Options struct {
	Backend Backend
	// LogDir is the run logs directory (logs/ beside the state); "" when
	// no run logs are kept.
	LogDir string
	// Token, when set, is required: an Authorization: Bearer header, or
	// the session cookie the login form sets (a random session id kept in
	// memory, never derived from the token).
	Token string
	// Loopback restricts the accepted Host headers to loopback names
	// (against DNS rebinding when no token is required).
	Loopback bool
	// Audit records ui.login, ui.logout, ui.login_failed (one summary
	// per LoginWindow) and ui.run_now; may be nil.
	Audit func(event string, fields map[string]string)
	// SessionIdle and SessionMax end a browser session after that long
	// unused, and that long after sign-in (defaults DefaultSessionIdle,
	// DefaultSessionMax).
	SessionIdle, SessionMax time.Duration
	// LoginWindow, LoginFailuresPerAddr and LoginFailures throttle failed
	// sign-ins and wrong bearer tokens (defaults DefaultLoginWindow,
	// DefaultLoginFailuresPerAddr, DefaultLoginFailures).
	LoginWindow                         time.Duration
	LoginFailuresPerAddr, LoginFailures int
	// PlanTTL is how long a plan is reused (default 30s).
	PlanTTL time.Duration
	// ReviewTTL is how long a reviewed plan can be applied (default
	// DefaultReviewTTL).
	ReviewTTL time.Duration
	// Refresh is the dashboard's refresh period (default 10s).
	Refresh time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Fleet, when set, reads the fleet's report folder (FleetPath) for
	// the /fleet page and GET /api/fleet, on each request; without it
	// both are 404 and the navigation has no Fleet entry.
	Fleet     func(ctx context.Context) (*fleet.Status, error)
	FleetPath string
}

// ringSize is how many runs seen by this process are remembered.
const ringSize = 200

// Server is the dashboard and API; it is an http.Handler.
type Server struct {
	o        Options
	csrf     string
	sessions *sessions
	guard    *loginGuard
	mux      *http.ServeMux
	metrics  *metrics
	hub      *hub
	reviews  *reviews

	closeOnce sync.Once

	mu   sync.Mutex
	runs []RunView // runs seen by this process, oldest first

	planMu     sync.Mutex
	planAt     time.Time
	planDoc    *sharedPlan // the cache's reference (sharedPlan)
	planErr    error
	planBusy   chan struct{}
	planClosed bool // Close ran: nothing more is cached
}

// New returns a server.
func New(o Options) (*Server, error) {
	if o.Backend == nil {
		return nil, errors.New("web: no backend")
	}
	if o.PlanTTL <= 0 {
		o.PlanTTL = 30 * time.Second
	}
	if o.ReviewTTL <= 0 {
		o.ReviewTTL = DefaultReviewTTL
	}
	if o.Refresh <= 0 {
		o.Refresh = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Audit == nil {
		o.Audit = func(string, map[string]string) {}
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = DefaultSessionIdle
	}
	if o.SessionMax <= 0 {
		o.SessionMax = DefaultSessionMax
	}
	if o.LoginWindow <= 0 {
		o.LoginWindow = DefaultLoginWindow
	}
	if o.LoginFailuresPerAddr <= 0 {
		o.LoginFailuresPerAddr = DefaultLoginFailuresPerAddr
	}
	if o.LoginFailures <= 0 {
		o.LoginFailures = DefaultLoginFailures
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	s := &Server{o: o, csrf: hex.EncodeToString(b), metrics: newMetrics(), hub: newHub(), reviews: newReviews(o.ReviewTTL, o.Now), planBusy: make(chan struct{}, 1),
		sessions: newSessions(o.SessionIdle, o.SessionMax, o.Now),
		guard:    newLoginGuard(o.LoginWindow, o.LoginFailuresPerAddr, o.LoginFailures, o.Now, o.Audit)}
	s.routes()
	return s, nil
}

// Close writes the pending summary of failed sign-ins to the audit trail.
// The caller calls it after the HTTP server has stopped.
// It also ends the event streams, and releases the cached plan and the
// plans kept for review (each closes once no request or run reads it).
func (s *Server) Close() {
	s.CloseStreams()
	s.guard.close()
	s.planMu.Lock()
	old := s.planDoc
	s.planDoc, s.planAt, s.planErr, s.planClosed = nil, time.Time{}, nil, true
	s.planMu.Unlock()
	old.release()
	s.reviews.close()
}

// RecordRun remembers a finished run (shown in the history) and counts it
// in the metrics, and ends its live progress. robo watch calls it after
// each run.
func (s *Server) RecordRun(r RunView) {
	if r.Source == "" {
		r.Source = "process"
	}
	s.mu.Lock()
	s.runs = append(s.runs, r)
	if len(s.runs) > ringSize {
		s.runs = append([]RunView(nil), s.runs[len(s.runs)-ringSize:]...)
	}
	s.mu.Unlock()
	s.metrics.record(r)
	s.hub.end(r)
}

// processRuns returns the runs of set seen by this process.
func (s *Server) processRuns(set string) []RunView {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RunView
	for _, r := range s.runs {
		if r.Set == set {
			out = append(out, r)
		}
	}
	return out
}

// History returns the known runs of set, newest first: this process's
// runs, the state's last run and the run log files, merged.
func (s *Server) History(set string, last *RunView) []RunView {
	runs := s.processRuns(set)
	if last != nil {
		dup := false
		for _, r := range runs {
			if r.Started.Sub(last.Started).Abs() < time.Second {
				dup = true
			}
		}
		if !dup {
			l := *last
			l.Source = "state"
			runs = append(runs, l)
		}
	}
	// Each run log goes to the newest run without a log whose time span
	// holds the log's start (a log's name has the second it was created,
	// and a second run in the same second a higher number): logs newest
	// first, runs newest first, so that two runs in one second get their
	// own logs, not each other's.
	files, _ := listLogs(s.o.LogDir)
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Started.After(runs[j].Started) })
	taken := map[string]bool{}
	for _, r := range runs {
		if r.Log != "" {
			taken[r.Log] = true
		}
	}
	for _, f := range files {
		if f.Set != set || f.Kind == "hook" || taken[f.Name] {
			continue
		}
		matched := false
		for i := range runs {
			r := &runs[i]
			from, to := r.Started.Truncate(time.Second).Add(-2*time.Second), r.Started.Add(r.Duration+2*time.Second)
			if r.Log == "" && !f.Time.Before(from) && !f.Time.After(to) {
				r.Log, matched = f.Name, true
				break
			}
		}
		if !matched {
			runs = append(runs, logRun(s.o.LogDir, f))
		}
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Started.After(runs[j].Started) })
	return runs
}

// sets returns the Backend's sets with their runs in progress.
func (s *Server) sets() ([]SetView, error) {
	sets, err := s.o.Backend.Sets()
	for i := range sets {
		if p := s.hub.progressOf(sets[i].Name); p != nil {
			sets[i].Progress, sets[i].Running = p, true
		}
	}
	return sets, err
}

func (s *Server) setByName(name string) (*SetView, []SetView, error) {
	sets, err := s.sets()
	if err != nil {
		return nil, nil, err
	}
	for i := range sets {
		if sets[i].Name == name {
			return &sets[i], sets, nil
		}
	}
	return nil, sets, nil
}

// plan returns the cached plan, or builds one; one build at a time. The
// plan comes with a reference for the caller, who releases it when done
// reading (nil with an error). A plan that a newer one replaces is closed
// once the last request reading it releases it.
func (s *Server) plan(ctx context.Context) (*sharedPlan, time.Time, error) {
	select {
	case s.planBusy <- struct{}{}:
	case <-ctx.Done():
		return nil, time.Time{}, ctx.Err()
	}
	defer func() { <-s.planBusy }()
	s.planMu.Lock()
	if at := s.planAt; !at.IsZero() && s.o.Now().Sub(at) < s.o.PlanTTL {
		sp, err := s.planDoc.acquire(), s.planErr
		s.planMu.Unlock()
		return sp, at, err
	}
	s.planMu.Unlock()
	p, err := s.o.Backend.Plan(ctx)
	var sp *sharedPlan
	if err != nil {
		p.Close()
	} else {
		sp = share(p) // the caller's reference
	}
	at := s.o.Now()
	s.planMu.Lock()
	if s.planClosed {
		s.planMu.Unlock()
		return sp, at, err
	}
	old := s.planDoc
	s.planDoc, s.planAt, s.planErr = sp.acquire(), at, err // the cache's
	s.planMu.Unlock()
	old.release()
	return sp, at, err
}

// IsLoopback reports whether the listen address addr (host:port) binds
// only loopback interfaces.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// auth is the outcome of authenticating a request.
type auth int

const (
	authNone      auth = iota // no or wrong credentials
	authOK                    // the token, a live session, or no token configured
	authThrottled             // too many failures: the credentials were not checked
)

// authenticate checks the bearer token or the session cookie, and says
// who the client is (for the audit trail and to bind reviewed plans):
// "token:" or "session:" and the first 8 hex digits of a SHA-256 of the
// secret (never the secret itself), or "local" when no token is
// configured. A wrong bearer token counts as a failed sign-in of the
// client's address, and while that address (or everyone) is throttled no
// token is checked.
func (s *Server) authenticate(r *http.Request) (auth, string) {
	if s.o.Token == "" {
		return authOK, "local"
	}
	if h := r.Header.Get("Authorization"); h != "" {
		addr := clientAddr(r)
		if ok, _ := s.guard.allow(addr); !ok {
			return authThrottled, ""
		}
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if ok && tokenEqual(strings.TrimSpace(tok), s.o.Token) {
			return authOK, "token:" + idPrefix(s.o.Token)
		}
		s.guard.failed(addr)
		return authNone, ""
	}
	if c, err := r.Cookie(sessionCookie); err == nil && s.sessions.valid(c.Value) {
		return authOK, "session:" + idPrefix(c.Value)
	}
	return authNone, ""
}

// idPrefix names a secret in the audit trail: 8 hex digits of its SHA-256.
func idPrefix(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:4])
}

// csrfOK reports whether a state-changing request carries the CSRF token
// (form field csrf or header X-CSRF-Token) and no foreign Origin.
func (s *Server) csrfOK(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if !sameOrigin(o, r.Host) {
			return false
		}
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

func sameOrigin(origin, host string) bool {
	_, rest, ok := strings.Cut(origin, "://")
	return ok && strings.EqualFold(rest, host)
}

// hostOK rejects, on a loopback bind, Host headers that are not loopback
// names (DNS rebinding).
func (s *Server) hostOK(r *http.Request) bool {
	if !s.o.Loopback {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
