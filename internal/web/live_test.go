package web

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
)

// runLog is a native run log copying files files of bytes bytes in total.
func runLog(files, bytes int) string {
	return "-------------------------------------------------------------------------------\n" +
		"   ROBOCOPY     ::     Robust File Copy for Windows\n" +
		"-------------------------------------------------------------------------------\n\n" +
		"  Started : Sunday, November 1, 2026 2:00:00 AM\n" +
		"   Source : C:\\src\\\n     Dest : D:\\dst\\\n\n    Files : *.*\n\n  Options : *.* /S /E /DCOPY:DA /COPY:DAT /R:1 /W:1\n\n" +
		"------------------------------------------------------------------------------\n\n" +
		"\t                   1\tC:\\src\\\n\t    New File  \t\t       5\treport.txt\n\n" +
		"------------------------------------------------------------------------------\n\n" +
		"               Total    Copied   Skipped  Mismatch    FAILED    Extras\n" +
		"    Dirs :         1         0         1         0         0         0\n" +
		fmt.Sprintf("   Files :   %7d   %7d         0         0         0         0\n", files, files) +
		fmt.Sprintf("   Bytes :   %7d   %7d         0         0         0         0\n", bytes, bytes) +
		"   Times :   0:00:03   0:00:00                       0:00:00   0:00:00\n\n" +
		"   Ended : Sunday, November 1, 2026 2:00:03 AM\n"
}

// TestHistorySameSecond: two runs of a set in one second each link to
// their own log, the newest to the newest (-1) log, and history rows read
// from logs carry the files and bytes the logs hold (issue 19).
func TestHistorySameSecond(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	for name, body := range map[string]string{
		"native-run-docs-20261101T020000Z.log":   runLog(1, 5),
		"native-run-docs-20261101T020000Z-1.log": runLog(2, 9),
		"native-run-docs-20261031T020000Z.log":   runLog(7, 700), // known only from its log
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := New(Options{Backend: &fakeBackend{sets: []SetView{{Name: "docs", InConfig: true, Enabled: true, Health: "ok"}}}, LogDir: dir})
	s.RecordRun(RunView{Set: "docs", Started: at.Add(100 * time.Millisecond), Duration: 200 * time.Millisecond, Outcome: "success", FilesCopied: 1})
	s.RecordRun(RunView{Set: "docs", Started: at.Add(500 * time.Millisecond), Duration: 200 * time.Millisecond, Outcome: "success", FilesCopied: 2})
	runs := s.History("docs", nil)
	if len(runs) != 3 {
		t.Fatalf("%d runs: %+v", len(runs), runs)
	}
	if runs[0].FilesCopied != 2 || runs[0].Log != "native-run-docs-20261101T020000Z-1.log" {
		t.Errorf("the newest run links to %q, want the -1 log", runs[0].Log)
	}
	if runs[1].FilesCopied != 1 || runs[1].Log != "native-run-docs-20261101T020000Z.log" {
		t.Errorf("the older run links to %q", runs[1].Log)
	}
	old := runs[2]
	if old.Source != "log" || old.FilesCopied != 7 || old.BytesCopied != 700 || old.Outcome != "success" || old.Duration != 3*time.Second || !old.Counted() {
		t.Errorf("the run from its log: %+v", old)
	}
	c := &client{t: t, base: serve(t, s)}
	_, body := c.do("GET", "/sets/docs", "", nil, nil)
	row := regexp.MustCompile(`(?s)<tr class="run log">.*?</tr>`).FindString(body)
	if !regexp.MustCompile(`<td[^>]*>7</td>`).MatchString(row) || !strings.Contains(row, "700 B") {
		t.Errorf("the log's row shows no counts: %s", row)
	}
}

// TestAPIFixes: /api/logs?file= has the file's size; an unknown /api/
// path, or a known one with another method, answers JSON (issue 19).
func TestAPIFixes(t *testing.T) {
	dir := logDir(t)
	s, _ := New(Options{Backend: &fakeBackend{}, LogDir: dir, Loopback: true})
	c := &client{t: t, base: serve(t, s)}
	info, _ := os.Stat(filepath.Join(dir, "native-run-docs-20261101T020000Z.log"))
	_, body := c.do("GET", "/api/logs?file=native-run-docs-20261101T020000Z.log", "", nil, nil)
	var doc struct {
		File LogFile `json:"file"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || doc.File.Size != info.Size() || doc.File.Size == 0 {
		t.Errorf("file size %d, want %d (%v)", doc.File.Size, info.Size(), err)
	}
	for _, tc := range []struct {
		method, path string
		code         int
		allow        string
	}{{"GET", "/api/nope", 404, ""}, {"GET", "/api/sets/docs/nope", 404, ""}, {"POST", "/api/sets", 405, "GET"},
		{"GET", "/api/sets/docs/run", 405, "POST"}} {
		req, _ := http.NewRequest(tc.method, c.base+tc.path, nil)
		req.Header.Set("X-CSRF-Token", s.csrf)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e map[string]string
		jerr := json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tc.code || jerr != nil || e["error"] == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			resp.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d %s Allow %q (%v), want %d JSON", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Allow"), jerr, tc.code)
		}
	}
}

// TestMetricsHealth: health and last-outcome gauges, and a last-success
// series of 0 for a set that never succeeded (so that the documented
// staleness alert fires for it; issue 19).
func TestMetricsHealth(t *testing.T) {
	at := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	fb := &fakeBackend{sets: []SetView{
		{Name: "docs", InConfig: true, Enabled: true, Health: "ok", LastSuccess: &at,
			LastRun: &RunView{Set: "docs", Started: at.Add(-time.Second), Duration: time.Second, Outcome: "success"}},
		{Name: "photos", InConfig: true, Enabled: true, Health: "failing",
			LastRun: &RunView{Set: "photos", Started: at, Duration: time.Second, Outcome: "failed"}},
		{Name: "new", InConfig: true, Enabled: true, Health: "never"},
	}}
	s, _ := New(Options{Backend: fb, Loopback: true})
	c := &client{t: t, base: serve(t, s)}
	_, body := c.do("GET", "/metrics", "", nil, nil)
	for _, want := range []string{
		`robo_last_success_timestamp_seconds{set="docs"} 1.7934984e+09`,
		`robo_last_success_timestamp_seconds{set="new"} 0`,
		`robo_last_success_timestamp_seconds{set="photos"} 0`,
		`robo_set_health{health="ok",set="docs"} 1`, `robo_set_health{health="failing",set="docs"} 0`,
		`robo_set_health{health="failing",set="photos"} 1`, `robo_set_health{health="never",set="new"} 1`,
		`robo_last_run_outcome{outcome="success",set="docs"} 1`, `robo_last_run_outcome{outcome="failed",set="photos"} 1`,
		`robo_last_run_outcome{outcome="success",set="photos"} 0`, `robo_last_run_timestamp_seconds{set="new"} 0`,
		`robo_set_running{set="docs"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, `robo_last_run_outcome{outcome="success",set="new"}`) {
		t.Error("a set that never ran has a last outcome")
	}
	// A run in progress, then a later success recorded by this process.
	s.ReportProgress(Progress{Set: "photos", Phase: "copying"})
	_, body = c.do("GET", "/metrics", "", nil, nil)
	if !strings.Contains(body, `robo_set_running{set="photos"} 1`+"\n") {
		t.Error("the running set is not running in the metrics")
	}
	s.RecordRun(RunView{Set: "photos", Started: at.Add(time.Hour), Duration: time.Second, Outcome: "success"})
	_, body = c.do("GET", "/metrics", "", nil, nil)
	for _, want := range []string{`robo_last_success_timestamp_seconds{set="photos"} 1.793502001e+09`,
		`robo_last_run_outcome{outcome="success",set="photos"} 1`, `robo_set_running{set="photos"} 0`} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("after the run, metrics lack %s", want)
		}
	}
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// readEvents reads events from a stream into a channel.
func readEvents(t *testing.T, resp *http.Response) <-chan sseEvent {
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			l := sc.Text()
			switch {
			case l == "":
				if ev.name != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(l, "event: "):
				ev.name = l[7:]
			case strings.HasPrefix(l, "data: "):
				ev.data = l[6:]
			}
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan sseEvent, name string) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended before a %s event", name)
			}
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", name)
		}
	}
}

// TestEvents: the event stream carries progress and ends, outlives the
// server's WriteTimeout, replays the ends since a page's seq, is capped,
// and ends when the server shuts down.
func TestEvents(t *testing.T) {
	s, _ := New(Options{Backend: &fakeBackend{}, Token: token, Loopback: true})
	ln, err := Listen("127.0.0.1:0", HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(s, HTTPOptions{WriteTimeout: 300 * time.Millisecond})
	hs.RegisterOnShutdown(s.CloseStreams)
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	open := func(q string) *http.Response {
		req, _ := http.NewRequest("GET", base+"/api/events"+q, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp, _ := http.Get(base + "/api/events"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a stream without the token: %d", resp.StatusCode)
	}
	s.ReportProgress(Progress{Set: "docs", Phase: "copying", FilesTotal: 4, BytesTotal: 400})
	resp := open("")
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, ct)
	}
	ch := readEvents(t, resp)
	var p Progress
	if err := json.Unmarshal([]byte(next(t, ch, "progress").data), &p); err != nil || p.Set != "docs" || p.FilesTotal != 4 {
		t.Fatalf("the first event: %+v %v", p, err)
	}
	time.Sleep(600 * time.Millisecond) // past the WriteTimeout
	start := time.Now()
	s.ReportProgress(Progress{Set: "docs", Phase: "copying", Started: start.Add(-2 * time.Second), CopyingSince: start.Add(-2 * time.Second),
		Updated: start, FilesDone: 2, FilesTotal: 4, BytesDone: 200, BytesTotal: 400})
	if err := json.Unmarshal([]byte(next(t, ch, "progress").data), &p); err != nil || p.FilesDone != 2 || p.Fraction != 0.5 ||
		p.BytesPerSecond != 100 || p.ETASeconds != 2 || p.Text != "copying: 2/4 files, 200 B/400 B, 100 B/s, ETA 2s" {
		t.Fatalf("progress after the WriteTimeout: %+v %v", p, err)
	}
	seq := s.Seq()
	s.RecordRun(RunView{Set: "docs", Started: start, Outcome: "success"})
	if d := next(t, ch, "done"); !strings.Contains(d.data, `"outcome":"success"`) || !strings.Contains(d.data, `"set":"docs"`) {
		t.Errorf("done: %s", d.data)
	}
	// A page rendered before the end gets it when its stream opens after.
	late := readEvents(t, open(fmt.Sprintf("?since=%d", seq)))
	if d := next(t, late, "done"); !strings.Contains(d.data, `"set":"docs"`) {
		t.Errorf("replayed done: %s", d.data)
	}
	// The cap: MaxStreams open at once (two are), then 503.
	var extra []*http.Response
	for s.streamCount() < MaxStreams {
		extra = append(extra, open(""))
	}
	over := open("")
	if over.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("stream %d: %d, want 503", MaxStreams+1, over.StatusCode)
	}
	over.Body.Close()
	for _, r := range extra {
		r.Body.Close()
	}
	// Shutdown ends the streams rather than waiting for them.
	done := make(chan error)
	go func() { done <- hs.Shutdown(t.Context()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown waits for the event streams")
	}
	for range ch {
	}
}

// changesPlan is a plan of docs that copies one file.
func changesPlan() *plan.Plan {
	return &plan.Plan{Targets: []string{"docs"}, Refresh: true, Sets: []*plan.Set{{Name: "docs", Action: plan.Sync, Source: "/src", Destination: "/dst",
		Changes: engine.ChangeListOf([]engine.Change{{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: "new.txt", Size: 3, Phase: engine.PhaseCopy}})}}}
}

// TestReviewThenApply: Run now with changes keeps the plan for review;
// only its owner can apply it, once, before it expires; a stale plan is
// refused; a plan without changes runs at once; every step is audited
// with who (issue 19).
func TestReviewThenApply(t *testing.T) {
	fb := &fakeBackend{plan: changesPlan()}
	var mu sync.Mutex
	var audit []map[string]string
	now := time.Now()
	var clock sync.Mutex
	s, _ := New(Options{Backend: fb, Token: token, Loopback: true, Now: func() time.Time { clock.Lock(); defer clock.Unlock(); return now },
		Audit: func(ev string, f map[string]string) {
			mu.Lock()
			defer mu.Unlock()
			f["event"] = ev
			audit = append(audit, f)
		}})
	c := &client{t: t, base: serve(t, s)}
	csrf := map[string]string{"X-CSRF-Token": s.csrf}
	code, body := c.do("POST", "/api/sets/docs/plan", token, nil, csrf)
	var rv struct {
		Review  string `json:"review"`
		Started bool   `json:"started"`
		Text    string `json:"text"`
	}
	json.Unmarshal([]byte(body), &rv)
	if code != http.StatusCreated || rv.Review == "" || rv.Started || !strings.Contains(rv.Text, "new.txt") {
		t.Fatalf("plan for review: %d %s", code, body)
	}
	// Another client (a browser session) cannot see or apply it.
	session := signIn(t, c.base, s.csrf)
	if code, _ := c.do("GET", "/reviews/"+rv.Review, "", nil, map[string]string{"Cookie": session}); code != http.StatusNotFound {
		t.Errorf("another session sees the review: %d", code)
	}
	if code, _ := c.do("POST", "/reviews/"+rv.Review+"/apply", "", url.Values{"csrf": {s.csrf}}, map[string]string{"Cookie": session}); code != http.StatusNotFound {
		t.Errorf("another session applies the review: %d", code)
	}
	// Without CSRF nothing is applied.
	if code, _ := c.do("POST", "/api/reviews/"+rv.Review+"/apply", token, nil, nil); code != http.StatusForbidden {
		t.Errorf("apply without CSRF: %d", code)
	}
	if code, body := c.do("POST", "/api/reviews/"+rv.Review+"/apply", token, nil, csrf); code != http.StatusAccepted {
		t.Fatalf("apply: %d %s", code, body)
	}
	if len(fb.applied) != 1 || fb.applied[0] != fb.made[len(fb.made)-1] || fb.appliedChanges[0] != 1 {
		t.Fatalf("applied %v, want exactly the reviewed plan", fb.applied)
	}
	if code, _ := c.do("POST", "/api/reviews/"+rv.Review+"/apply", token, nil, csrf); code != http.StatusNotFound {
		t.Errorf("a second apply of one review: %d", code)
	}
	// Stale: refused with 409 and stale: true.
	fb.staleErr = fmt.Errorf("%w: set \"docs\": the source changed", ErrStale)
	_, body = c.do("POST", "/api/sets/docs/plan", token, nil, csrf)
	json.Unmarshal([]byte(body), &rv)
	code, body = c.do("POST", "/api/reviews/"+rv.Review+"/apply", token, nil, csrf)
	if code != http.StatusConflict || !strings.Contains(body, `"stale": true`) || !strings.Contains(body, "the source changed") {
		t.Errorf("stale apply: %d %s", code, body)
	}
	fb.staleErr = nil
	// Expiry.
	_, body = c.do("POST", "/api/sets/docs/plan", token, nil, csrf)
	json.Unmarshal([]byte(body), &rv)
	clock.Lock()
	now = now.Add(DefaultReviewTTL + time.Second)
	clock.Unlock()
	if code, _ := c.do("POST", "/api/reviews/"+rv.Review+"/apply", token, nil, csrf); code != http.StatusNotFound {
		t.Errorf("an expired review: %d", code)
	}
	// The browser: Run now shows the plan page, Apply this plan applies.
	code, _ = c.do("POST", "/sets/docs/run", "", url.Values{"csrf": {s.csrf}}, map[string]string{"Cookie": session})
	if code != http.StatusSeeOther {
		t.Fatalf("run now form: %d", code)
	}
	loc := c.lastLocation
	if !strings.HasPrefix(loc, "/reviews/") {
		t.Fatalf("run now went to %q, want the review", loc)
	}
	_, page := c.do("GET", loc, "", nil, map[string]string{"Cookie": session})
	if !strings.Contains(page, `id="apply-plan"`) || !strings.Contains(page, "new.txt") {
		t.Errorf("review page: %s", page)
	}
	if code, _ := c.do("POST", loc+"/apply", "", url.Values{"csrf": {s.csrf}}, map[string]string{"Cookie": session}); code != http.StatusSeeOther || c.lastLocation != "/sets/docs?applying=1" {
		t.Errorf("apply form: %d %q", code, c.lastLocation)
	}
	// No changes: runs at once, unreviewed.
	fb.mu.Lock()
	fb.plan = nil
	fb.mu.Unlock()
	if code, body := c.do("POST", "/api/sets/docs/plan", token, nil, csrf); code != http.StatusAccepted || fb.count() != 1 {
		t.Errorf("a plan without changes: %d %s, %d runs", code, body, fb.count())
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	tok := "token:" + idPrefix(token)
	for _, a := range audit {
		if a["event"] == "ui.plan" || a["event"] == "ui.apply" || a["event"] == "ui.run_now" {
			got = append(got, a["event"]+" "+a["outcome"]+" "+strings.SplitN(a["who"], ":", 2)[0])
			if a["who"] != tok && !strings.HasPrefix(a["who"], "session:") {
				t.Errorf("audit %v: who is %q", a, a["who"])
			}
			if strings.Contains(a["who"], token) {
				t.Error("the audit trail holds the token")
			}
		}
	}
	want := "ui.plan review token,ui.apply refused session,ui.apply started token,ui.apply refused token,ui.plan review token,ui.apply stale token," +
		"ui.plan review token,ui.apply refused token,ui.plan review session,ui.apply started session,ui.run_now started token"
	if strings.Join(got, ",") != want {
		t.Errorf("audit\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
}

// signIn signs in with the token and returns the session cookie header.
func signIn(t *testing.T, base, csrf string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"csrf": {csrf}, "token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			return sessionCookie + "=" + ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestPagesShowProgress: the set list and the set's page render a run in
// progress (live.js then follows the stream), and the API's sets carry it.
func TestPagesShowProgress(t *testing.T) {
	s, _ := New(Options{Backend: &fakeBackend{}, Loopback: true})
	c := &client{t: t, base: serve(t, s)}
	_, body := c.do("GET", "/", "", nil, nil)
	if !strings.Contains(body, `data-live-set="docs" aria-live="polite" aria-label="Progress of docs" hidden>`) {
		t.Errorf("an idle set's progress line is not hidden: %s", body)
	}
	s.ReportProgress(Progress{Set: "docs", Phase: "copying", FilesDone: 1, FilesTotal: 4, BytesDone: 10, BytesTotal: 40})
	for _, p := range []string{"/", "/sets/docs"} {
		_, body := c.do("GET", p, "", nil, nil)
		if !strings.Contains(body, `<progress max="1000" value="250"></progress>`) || !strings.Contains(body, "copying: 1/4 files, 10 B/40 B") ||
			strings.Contains(body, `aria-label="Progress of docs" hidden`) || !strings.Contains(body, `src="/assets/live.js"`) {
			t.Errorf("%s does not show the run in progress: %s", p, body)
		}
	}
	if _, body := c.do("GET", "/api/sets", "", nil, nil); !strings.Contains(body, `"phase": "copying"`) || !strings.Contains(body, `"running": true`) {
		t.Errorf("/api/sets: %s", body)
	}
	if _, body := c.do("GET", "/api/progress", "", nil, nil); !strings.Contains(body, `"files_total": 4`) {
		t.Errorf("/api/progress: %s", body)
	}
}
