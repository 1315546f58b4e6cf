package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/views"
)

//go:embed assets
var assets embed.FS

// sessionCookie is the browser session, set by the login form.
const sessionCookie = "robo_session"

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "-"
			}
			return v.Local().Format("2006-01-02 15:04:05")
		case *time.Time:
			if v == nil || v.IsZero() {
				return "-"
			}
			return v.Local().Format("2006-01-02 15:04:05")
		}
		return "-"
	},
	"dur": func(d time.Duration) string {
		switch {
		case d <= 0:
			return "-"
		case d < time.Second:
			return d.Round(time.Millisecond).String()
		case d < time.Minute:
			return d.Round(100 * time.Millisecond).String()
		}
		return d.Round(time.Second).String()
	},
	"bytes": views.Bytes,
	// name and line show untrusted text (file names, set names, log
	// lines, messages) with control and format characters escaped
	// (internal/safetext): html/template escapes HTML, not terminal or
	// bidirectional controls. text does it for each line of a block.
	"name":          safetext.Name,
	"line":          safetext.Line,
	"text":          safeLines,
	"healthSummary": healthSummary,
	"windows":       historyWindows,
	"permille":      func(f float64) int { return int(f * 1000) },
	"seconds": func(d time.Duration) int {
		return int(d / time.Second)
	},
}

// safeLines applies safetext.Line to each line of s.
func safeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safetext.Line(l)
	}
	return strings.Join(lines, "\n")
}

var pages = map[string]*template.Template{}

func init() {
	for _, p := range []string{"dashboard", "history", "logs", "log", "plan", "review", "login", "error", "fleet"} {
		pages[p] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/live.html", "assets/"+p+".html"))
	}
}

// page is what every page template gets.
type page struct {
	// Section is the navigation entry of the page (sets, logs, plan),
	// marked aria-current.
	Section string
	Title   string
	CSRF    string
	Auth    bool // a token is required (a logout button is shown)
	Fleet   bool // the Fleet page is served (a navigation entry)
	Refresh time.Duration
	// LiveRefresh is the refresh period of a page that follows the event
	// stream (live.js) when scripts are off.
	LiveRefresh time.Duration
	// LiveSeq is the live runs' Seq before the page's data was read.
	LiveSeq uint64
	Notice  string
	Data    any
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	m.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	m.HandleFunc("GET /{$}", s.dashboard)
	m.HandleFunc("GET /sets/{name}", s.historyPage)
	m.HandleFunc("POST /sets/{name}/run", s.runNowForm)
	m.HandleFunc("GET /reviews/{id}", s.reviewPage)
	m.HandleFunc("POST /reviews/{id}/apply", s.applyReviewForm)
	m.HandleFunc("POST /reviews/{id}/discard", s.discardReviewForm)
	m.HandleFunc("GET /events", s.events)
	m.HandleFunc("GET /logs", s.logsPage)
	m.HandleFunc("GET /logs/raw", s.rawLog)
	m.HandleFunc("GET /plan", s.planPage)
	m.HandleFunc("GET /fleet", s.fleetPage)
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.logout)
	m.HandleFunc("GET /api/sets", s.apiSets)
	m.HandleFunc("GET /api/sets/{name}/history", s.apiHistory)
	m.HandleFunc("POST /api/sets/{name}/run", s.apiRunNow)
	m.HandleFunc("POST /api/sets/{name}/plan", s.apiPlanSet)
	m.HandleFunc("POST /api/reviews/{id}/apply", s.apiApplyReview)
	m.HandleFunc("GET /api/events", s.events)
	m.HandleFunc("GET /api/progress", s.apiProgress)
	m.HandleFunc("GET /api/logs", s.apiLogs)
	m.HandleFunc("GET /api/plan", s.apiPlan)
	m.HandleFunc("GET /api/fleet", s.apiFleet)
	m.HandleFunc("GET /api/csrf", s.apiCSRF)
	m.HandleFunc("GET /metrics", s.serveMetrics)
	m.HandleFunc("/api/", s.apiNotFound)
	s.mux = m
}

// ServeHTTP checks the Host, authentication and CSRF, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'")
	api := strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/metrics"
	if !s.hostOK(r) {
		s.fail(w, r, api, http.StatusMisdirectedRequest, "this server answers only to a loopback host name")
		return
	}
	public := r.URL.Path == "/login" || strings.HasPrefix(r.URL.Path, "/assets/")
	a, id := authOK, ""
	if !public {
		a, id = s.authenticate(r)
	}
	switch a {
	case authThrottled:
		s.throttled(w, r, true)
		return
	case authNone:
		if api || r.Method != http.MethodGet {
			w.Header().Set("WWW-Authenticate", `Bearer realm="robo"`)
			s.fail(w, r, true, http.StatusUnauthorized, "authentication required: Authorization: Bearer TOKEN")
			return
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !s.csrfOK(r) {
			s.fail(w, r, api, http.StatusForbidden, "missing or wrong CSRF token")
			return
		}
	}
	s.mux.ServeHTTP(w, withWho(r, id))
}

// apiNotFound answers an /api/ path that no route takes, as JSON: 405
// with Allow when the path exists for another method, else 404.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := s.mux.Handler(probe); pat != "" && pat != "/api/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": r.Method + " is not allowed on " + r.URL.Path})
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such API endpoint: " + r.URL.Path})
}

// throttled answers 429 to a client that failed to sign in too often.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, api bool) {
	w.Header().Set("Retry-After", strconv.Itoa(int((s.o.LoginWindow+time.Second-1)/time.Second)))
	s.fail(w, r, api, http.StatusTooManyRequests, "too many failed sign-ins: try again later")
}

// fail answers an error as JSON (API) or as a page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, api bool, code int, msg string) {
	if api {
		writeJSON(w, code, map[string]string{"error": msg})
		return
	}
	w.WriteHeader(code)
	s.render(w, r, "error", page{Title: http.StatusText(code), Data: safetext.Line(msg)})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error": "cannot encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	p.CSRF, p.Auth, p.Section, p.Fleet = s.csrf, s.o.Token != "", section(r.URL.Path), s.o.Fleet != nil
	if p.Refresh > 0 {
		p.LiveRefresh = 0
	}
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, p); err != nil {
		http.Error(w, "cannot render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	seq := s.Seq()
	sets, err := s.sets()
	if err != nil {
		s.fail(w, r, false, http.StatusInternalServerError, err.Error())
		return
	}
	// The page follows the event stream (live.js); it refreshes itself
	// only when scripts are off.
	s.render(w, r, "dashboard", page{Title: "Backup sets", LiveRefresh: s.o.Refresh, LiveSeq: seq, Data: sets})
}

type historyData struct {
	Set  SetView
	Runs []RunView
	// Charts and Days are the history page's charts and their window
	// (charts.go).
	Charts []chart
	Days   int
}

func (s *Server) history(name string) (*historyData, error) {
	set, _, err := s.setByName(name)
	if err != nil {
		return nil, err
	}
	if set == nil {
		return nil, ErrUnknownSet
	}
	return &historyData{Set: *set, Runs: s.History(name, set.LastRun)}, nil
}

func (s *Server) historyPage(w http.ResponseWriter, r *http.Request) {
	seq := s.Seq()
	d, err := s.history(r.PathValue("name"))
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, ErrUnknownSet) {
			code = http.StatusNotFound
		}
		s.fail(w, r, false, code, err.Error())
		return
	}
	d.Days = historyDays(r.URL.Query().Get("days"))
	now := s.o.Now()
	d.Charts = runCharts(d.Runs, now.Add(-time.Duration(d.Days)*24*time.Hour), now)
	// The notice is chosen here, never taken from the URL (a link could
	// otherwise put any text on the page).
	p := page{Title: "Runs of " + safetext.Name(d.Set.Name), LiveRefresh: s.o.Refresh, LiveSeq: seq, Data: d}
	switch {
	case r.URL.Query().Get("requested") != "":
		p.Notice = "Run of " + safetext.Name(d.Set.Name) + " requested."
	case r.URL.Query().Get("applying") != "":
		p.Notice = "Applying the reviewed plan of " + safetext.Name(d.Set.Name) + "."
	}
	if d.Set.Running || p.Notice != "" {
		p.LiveRefresh = 2 * time.Second
	}
	s.render(w, r, "history", p)
}

func (s *Server) runNow(r *http.Request, name string) error {
	err := s.o.Backend.RunNow(name)
	fields := map[string]string{"set": name, "who": who(r), "remote": r.RemoteAddr, "outcome": "started"}
	if err != nil {
		fields["outcome"], fields["error"] = "refused", err.Error()
	}
	s.o.Audit("ui.run_now", fields)
	return err
}

type logsData struct {
	Files  []LogFile
	File   *LogFile
	Filter LogFilter
	Lines  []LogLine
	Total  int
	// Errors are the log's error lines (shown first on its page); Search
	// is a search across logs (q or level without file).
	Errors []LogLine
	Search *LogSearch
}

func (s *Server) logsData(r *http.Request) (*logsData, int, error) {
	q := r.URL.Query()
	filter, err := parseLogFilter(q)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	d := &logsData{Filter: filter}
	name := q.Get("file")
	if name == "" && (filter.Query != "" || filter.Level != "") {
		d.Search, err = searchLogs(s.o.LogDir, filter)
		if err != nil {
			return nil, http.StatusInternalServerError, err
		}
		return d, 0, nil
	}
	if name == "" {
		files, err := listLogs(s.o.LogDir)
		if err != nil {
			return nil, http.StatusInternalServerError, err
		}
		for _, f := range files {
			if d.Filter.Set == "" || f.Set == d.Filter.Set {
				d.Files = append(d.Files, f)
			}
		}
		if d.Files == nil {
			d.Files = []LogFile{}
		}
		return d, 0, nil
	}
	f, b, err := readLogFile(s.o.LogDir, name)
	if err != nil {
		return nil, http.StatusNotFound, err
	}
	all := logLines(f, b)
	d.File, d.Total, d.Lines, d.Errors = &f, len(all), filterLines(all, d.Filter), errorLines(all)
	return d, 0, nil
}

func (s *Server) logsPage(w http.ResponseWriter, r *http.Request) {
	d, code, err := s.logsData(r)
	if err != nil {
		s.fail(w, r, false, code, err.Error())
		return
	}
	if d.File != nil {
		s.render(w, r, "log", page{Title: "Log " + safetext.Name(d.File.Name), Data: d})
		return
	}
	if d.Search != nil {
		s.render(w, r, "logs", page{Title: "Search in run logs", Data: d})
		return
	}
	s.render(w, r, "logs", page{Title: "Run logs", Data: d})
}

type planData struct {
	Text  string
	At    time.Time
	Error string
}

func (s *Server) planPage(w http.ResponseWriter, r *http.Request) {
	extendWrite(w, planWriteTimeout)
	sp, at, err := s.plan(r.Context())
	d := planData{At: at}
	if err != nil {
		d.Error = err.Error()
	} else {
		var b strings.Builder
		err := (&views.PlanHuman{W: &b, MaxChanges: views.DefaultMaxChanges}).Plan(sp.p)
		sp.release()
		if err != nil {
			d.Error = err.Error()
		}
		d.Text = b.String()
	}
	s.render(w, r, "plan", page{Title: "Plan", Data: d})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.o.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, "login", page{Title: "Sign in", Data: safeNext(r.URL.Query().Get("next"))})
}

// safeNext returns n when it is a path of this server to go to after
// signing in, else "/". Browsers strip tabs and newlines from a URL,
// treat a backslash as a slash and "//host" or "/\\host" as another
// server, so the rule is strict: n must be a path-absolute URL (one "/",
// then not "/" or "\\") with no scheme, host or user, and no control
// character, space or backslash anywhere; the result is n re-encoded from
// its parsed path and query, so what the browser reads is what was
// checked.
func safeNext(n string) string {
	if len(n) < 1 || len(n) > 2048 || n[0] != '/' || (len(n) > 1 && (n[1] == '/' || n[1] == '\\')) {
		return "/"
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c <= ' ' || c == 0x7f || c == '\\' || c >= 0x80 {
			return "/"
		}
	}
	u, err := url.Parse(n)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	if len(out) < 1 || out[0] != '/' || (len(out) > 1 && (out[1] == '/' || out[1] == '\\')) {
		return "/"
	}
	return out
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.o.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	addr := clientAddr(r)
	next := safeNext(r.PostFormValue("next"))
	if ok, _ := s.guard.allow(addr); !ok {
		s.throttled(w, r, false)
		return
	}
	if !tokenEqual(r.PostFormValue("token"), s.o.Token) {
		// Counted, and summarised in the audit trail once per window
		// (ui.login_failed), not one entry each.
		s.guard.failed(addr)
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, r, "login", page{Title: "Sign in", Notice: "Wrong token.", Data: next})
		return
	}
	id, err := s.sessions.create()
	if err != nil {
		s.fail(w, r, false, http.StatusInternalServerError, "cannot start a session")
		return
	}
	s.o.Audit("ui.login", map[string]string{"remote": r.RemoteAddr, "outcome": "ok"})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session on the server (the cookie, if kept or copied,
// no longer works) and clears the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.end(c.Value)
		s.o.Audit("ui.logout", map[string]string{"remote": r.RemoteAddr})
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, MaxAge: -1,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) apiSets(w http.ResponseWriter, r *http.Request) {
	sets, err := s.sets()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	if sets == nil {
		sets = []SetView{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sets": sets})
}

func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	d, err := s.history(r.PathValue("name"))
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, ErrUnknownSet) {
			code = http.StatusNotFound
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	if d.Runs == nil {
		d.Runs = []RunView{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"set": d.Set.Name, "runs": d.Runs})
}

func (s *Server) apiRunNow(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.runNow(r, name); err != nil {
		code := http.StatusConflict
		if errors.Is(err, ErrUnknownSet) {
			code = http.StatusNotFound
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"set": name, "started": true})
}

func (s *Server) apiLogs(w http.ResponseWriter, r *http.Request) {
	d, code, err := s.logsData(r)
	if err != nil {
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	if d.Search != nil {
		writeJSON(w, http.StatusOK, d.Search)
		return
	}
	if d.File == nil {
		writeJSON(w, http.StatusOK, map[string]any{"logs": d.Files})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"file": d.File, "total_lines": d.Total, "lines": d.Lines})
}

func (s *Server) apiPlan(w http.ResponseWriter, r *http.Request) {
	extendWrite(w, planWriteTimeout)
	sp, _, err := s.plan(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	defer sp.release()
	writeJSON(w, http.StatusOK, sp.p)
}

func (s *Server) apiCSRF(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"csrf_token": s.csrf})
}
