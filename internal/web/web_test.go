package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
)

const (
	canary = "CANARY-web-7d1f0c93"
	token  = "test-token-0123456789abcdef"
)

type fakeBackend struct {
	mu      sync.Mutex
	runs    []string
	applied []*plan.Plan
	// appliedChanges is the number of changes of each applied plan's
	// set, counted while ApplyPlan held it.
	appliedChanges []int
	// made are the plans PlanSet returned (the server closes them).
	made []*plan.Plan
	// plan is the model of what PlanSet returns, copied each time (nil:
	// a plan with no changes); staleErr is what ApplyPlan returns.
	plan     *plan.Plan
	staleErr error
	// sets, when set, is what Sets returns.
	sets []SetView
}

// copyPlan returns a copy of p with its own change lists (the server
// closes each plan it is given).
func copyPlan(p *plan.Plan) *plan.Plan {
	c := *p
	c.Sets = nil
	for _, s := range p.Sets {
		cs := *s
		cs.Changes = engine.ChangeListOf(s.Changes.Slice())
		c.Sets = append(c.Sets, &cs)
	}
	return &c
}

func (f *fakeBackend) PlanSet(_ context.Context, set string) (*plan.Plan, error) {
	if set != "docs" {
		return nil, ErrUnknownSet
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &plan.Plan{Targets: []string{set}, Sets: []*plan.Set{{Name: set, Action: plan.Noop}}}
	if f.plan != nil {
		p = copyPlan(f.plan)
	}
	f.made = append(f.made, p)
	return p, nil
}

// ApplyPlan counts p's changes and ends its "run" at once (done).
func (f *fakeBackend) ApplyPlan(_ context.Context, p *plan.Plan, done func()) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.staleErr != nil {
		return f.staleErr
	}
	f.applied = append(f.applied, p)
	f.appliedChanges = append(f.appliedChanges, changesOf(p, "docs"))
	done()
	return nil
}

func (f *fakeBackend) Sets() ([]SetView, error) {
	if f.sets != nil {
		return append([]SetView(nil), f.sets...), nil
	}
	t := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	return []SetView{{Name: "docs", InConfig: true, Enabled: true, Health: "ok", LastSuccess: &t,
		LastRun: &RunView{Set: "docs", Started: t, Duration: time.Second, Outcome: "success", FilesCopied: 2, BytesCopied: 10}}}, nil
}

func (f *fakeBackend) Plan(context.Context) (*plan.Plan, error) {
	return &plan.Plan{}, nil
}

func (f *fakeBackend) RunNow(set string) error {
	if set != "docs" {
		return ErrUnknownSet
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, set)
	return nil
}

func (f *fakeBackend) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.runs)
}

// serve starts s on a real loopback listener.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: s}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

func logDir(t *testing.T) string {
	dir := t.TempDir()
	log := "-------------------------------------------------------------------------------\n" +
		"   ROBOCOPY     ::     Robust File Copy for Windows\n" +
		"-------------------------------------------------------------------------------\n\n" +
		"  Started : Sunday, November 1, 2026 2:00:00 AM\n" +
		"   Source : C:\\src\\\n     Dest : D:\\dst\\\n\n    Files : *.*\n\n  Options : *.* /S /E /DCOPY:DA /COPY:DAT /R:1 /W:1\n\n" +
		"------------------------------------------------------------------------------\n\n" +
		"\t                   2\tC:\\src\\\n\t    New File  \t\t       5\treport.txt\n" +
		"2026/11/01 02:00:01 ERROR 5 (0x00000005) Copying File C:\\src\\locked.db\nAccess is denied.\n\n" +
		"------------------------------------------------------------------------------\n\n" +
		"               Total    Copied   Skipped  Mismatch    FAILED    Extras\n" +
		"    Dirs :         1         0         1         0         0         0\n" +
		"   Files :         2         1         0         0         1         0\n" +
		"   Bytes :        10         5         0         0         5         0\n" +
		"   Times :   0:00:01   0:00:00                       0:00:00   0:00:00\n\n" +
		"   Ended : Sunday, November 1, 2026 2:00:01 AM\n"
	if err := os.WriteFile(filepath.Join(dir, "native-run-docs-20261101T020000Z.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type client struct {
	t    *testing.T
	base string
	// lastLocation is the last response's Location header.
	lastLocation string
	body         strings.Builder // every response body, for the canary check
}

func (c *client) do(method, path, bearer string, form url.Values, hdr map[string]string) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if h := hdr["Host"]; h != "" {
		req.Host = h
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	c.lastLocation = resp.Header.Get("Location")
	b, _ := io.ReadAll(resp.Body)
	c.body.Write(b)
	for _, vs := range resp.Header {
		c.body.WriteString(strings.Join(vs, " "))
	}
	return resp.StatusCode, string(b)
}

func TestAPI(t *testing.T) {
	fb := &fakeBackend{}
	var audit []string
	var amu sync.Mutex
	s, err := New(Options{Backend: fb, LogDir: logDir(t), Token: token, Loopback: true, LoginFailuresPerAddr: 20,
		Audit: func(ev string, f map[string]string) {
			amu.Lock()
			audit = append(audit, ev+" "+f["outcome"]+f["count"])
			amu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, base: serve(t, s)}

	// Authentication.
	for _, p := range []string{"/api/sets", "/api/plan", "/metrics", "/api/csrf"} {
		if code, _ := c.do("GET", p, "", nil, nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", p, code)
		}
		if code, _ := c.do("GET", p, "wrong-token", nil, nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d, want 401", p, code)
		}
	}
	if code, _ := c.do("GET", "/", "", nil, nil); code != http.StatusSeeOther {
		t.Errorf("dashboard without a session: %d, want a redirect to the login", code)
	}
	code, body := c.do("GET", "/api/sets", token, nil, nil)
	if code != 200 || !strings.Contains(body, `"name": "docs"`) {
		t.Fatalf("GET /api/sets: %d %s", code, body)
	}
	// A foreign Host (DNS rebinding) is refused on a loopback bind.
	if code, _ := c.do("GET", "/api/sets", token, nil, map[string]string{"Host": "evil.example"}); code != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host: %d", code)
	}

	// CSRF: missing or wrong, nothing runs.
	if code, _ := c.do("POST", "/api/sets/docs/run", token, url.Values{}, nil); code != http.StatusForbidden {
		t.Errorf("run without CSRF: %d, want 403", code)
	}
	if code, _ := c.do("POST", "/api/sets/docs/run", token, url.Values{"csrf": {"nope"}}, nil); code != http.StatusForbidden {
		t.Errorf("run with a wrong CSRF token: %d, want 403", code)
	}
	if code, _ := c.do("POST", "/api/sets/docs/run", token, url.Values{"csrf": {s.csrf}}, map[string]string{"Origin": "http://evil.example"}); code != http.StatusForbidden {
		t.Errorf("run from a foreign origin: %d, want 403", code)
	}
	if code, _ := c.do("POST", "/api/sets/docs/run", "", url.Values{"csrf": {s.csrf}}, nil); code != http.StatusUnauthorized {
		t.Errorf("run without a token: %d, want 401", code)
	}
	if n := fb.count(); n != 0 {
		t.Fatalf("%d runs started by refused requests", n)
	}
	_, body = c.do("GET", "/api/csrf", token, nil, nil)
	if !strings.Contains(body, s.csrf) {
		t.Fatalf("csrf: %s", body)
	}
	if code, body := c.do("POST", "/api/sets/docs/run", token, nil, map[string]string{"X-CSRF-Token": s.csrf}); code != http.StatusAccepted {
		t.Fatalf("run now: %d %s", code, body)
	}
	if code, _ := c.do("POST", "/api/sets/nope/run", token, nil, map[string]string{"X-CSRF-Token": s.csrf}); code != http.StatusNotFound {
		t.Errorf("run of an unknown set: %d", code)
	}
	if n := fb.count(); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}

	// Login form: a session cookie, never the token.
	code, _ = c.do("POST", "/login", "", url.Values{"csrf": {s.csrf}, "token": {"wrong"}}, nil)
	if code != http.StatusUnauthorized {
		t.Errorf("login with a wrong token: %d", code)
	}
	req, _ := http.NewRequest("POST", c.base+"/login", strings.NewReader(url.Values{"csrf": {s.csrf}, "token": {token}, "next": {"/plan"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || strings.Contains(session.Value, token) || resp.Header.Get("Location") != "/plan" {
		t.Fatalf("login: cookie %v, location %q", session, resp.Header.Get("Location"))
	}
	code, body = c.do("GET", "/", "", nil, map[string]string{"Cookie": sessionCookie + "=" + session.Value})
	if code != 200 || !strings.Contains(body, "Run now") || !strings.Contains(body, s.csrf) {
		t.Fatalf("dashboard with a session: %d %s", code, body)
	}

	// Logs: list, filter by level, set, text.
	_, body = c.do("GET", "/api/logs", token, nil, nil)
	if !strings.Contains(body, "native-run-docs-20261101T020000Z.log") {
		t.Fatalf("log list: %s", body)
	}
	f := "/api/logs?file=native-run-docs-20261101T020000Z.log"
	_, all := c.do("GET", f, token, nil, nil)
	_, errs := c.do("GET", f+"&level=error", token, nil, nil)
	_, txt := c.do("GET", f+"&q=REPORT", token, nil, nil)
	_, other := c.do("GET", f+"&set=other", token, nil, nil)
	if !strings.Contains(all, "report.txt") || !strings.Contains(all, "locked.db") {
		t.Errorf("all lines: %s", all)
	}
	if strings.Contains(errs, "report.txt") || !strings.Contains(errs, "Access is denied") {
		t.Errorf("level=error: %s", errs)
	}
	if !strings.Contains(txt, "report.txt") || strings.Contains(txt, "locked.db") {
		t.Errorf("q=REPORT: %s", txt)
	}
	if !strings.Contains(other, `"lines": []`) {
		t.Errorf("set=other: %s", other)
	}
	for _, bad := range []string{"../x.log", "/etc/passwd", "native-run-..%2F..%2Fx-20261101T020000Z.log"} {
		if code, _ := c.do("GET", "/api/logs?file="+bad, token, nil, nil); code != http.StatusNotFound {
			t.Errorf("file=%s: %d, want 404", bad, code)
		}
	}
	if code, body := c.do("GET", "/logs?file=native-run-docs-20261101T020000Z.log&level=error", token, nil, nil); code != 200 || strings.Contains(body, "report.txt") {
		t.Errorf("log page: %d", code)
	}

	// History: the state's run, the log file and this process's runs.
	s.RecordRun(RunView{Set: "docs", Started: time.Now().UTC(), Duration: 2 * time.Second, Outcome: "success", FilesCopied: 3, BytesCopied: 300})
	_, body = c.do("GET", "/api/sets/docs/history", token, nil, nil)
	if strings.Count(body, `"outcome"`) != 2 || !strings.Contains(body, `"source": "process"`) || !strings.Contains(body, `"log": "native-run-docs-20261101T020000Z.log"`) {
		t.Errorf("history: %s", body)
	}
	if code, _ := c.do("GET", "/sets/docs", token, nil, nil); code != 200 {
		t.Errorf("history page: %d", code)
	}

	// Plan.
	if code, body := c.do("GET", "/api/plan", token, nil, nil); code != 200 || !strings.HasPrefix(body, "{") {
		t.Errorf("plan: %d %s", code, body)
	}
	if code, _ := c.do("GET", "/plan", token, nil, nil); code != 200 {
		t.Errorf("plan page: %d", code)
	}

	// Metrics after a recorded run.
	_, body = c.do("GET", "/metrics", token, nil, nil)
	for _, want := range []string{`robo_runs_total{outcome="success",set="docs"} 1`, `robo_bytes_copied_total{set="docs"} 300`,
		`robo_files_copied_total{set="docs"} 3`, `robo_run_duration_seconds_count{set="docs"} 1`, `robo_last_success_timestamp_seconds{set="docs"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	s.Close()
	amu.Lock()
	got := strings.Join(audit, ",")
	amu.Unlock()
	for _, want := range []string{"ui.run_now started", "ui.login_failed 5", "ui.login ok"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit %q lacks %q", got, want)
		}
	}
	if strings.Contains(c.body.String(), token) {
		t.Error("a response holds the token")
	}
}

func TestNoTokenOnLoopback(t *testing.T) {
	fb := &fakeBackend{}
	s, _ := New(Options{Backend: fb, Loopback: true})
	c := &client{t: t, base: serve(t, s)}
	if code, _ := c.do("GET", "/api/sets", "", nil, nil); code != 200 {
		t.Errorf("no token configured: %d", code)
	}
	// CSRF still applies without a token.
	if code, _ := c.do("POST", "/sets/docs/run", "", url.Values{}, nil); code != http.StatusForbidden || fb.count() != 0 {
		t.Errorf("run without CSRF: %d", code)
	}
	if code, _ := c.do("POST", "/sets/docs/run", "", url.Values{"csrf": {s.csrf}}, nil); code != http.StatusSeeOther || fb.count() != 1 {
		t.Errorf("form run now: %d", code)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8765": true, "localhost:1": true, "[::1]:80": true, ":8765": false, "0.0.0.0:80": false, "192.168.1.2:80": false} {
		if IsLoopback(addr) != want {
			t.Errorf("IsLoopback(%q) = %v", addr, !want)
		}
	}
}
