package notify_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/hooks"
	"github.com/robo-backup/robo/internal/notify"
	"github.com/robo-backup/robo/internal/notify/smtptest"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// token stands for the secret part of a webhook URL (a healthchecks.io
// UUID, a Slack path): it must never appear in a Target or an error.
const token = "0b7e5a4e-TOKEN-944445555666"

type hit struct {
	Path string
	Body notify.Body
	Raw  string
	CT   string
}

// hookServer records every request and answers with status.
func hookServer(t *testing.T, status int, delay time.Duration) (*httptest.Server, func() []hit) {
	var mu sync.Mutex
	var hits []hit
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body notify.Body
		json.Unmarshal(b, &body)
		mu.Lock()
		hits = append(hits, hit{Path: r.URL.RequestURI(), Body: body, Raw: string(b), CT: r.Header.Get("Content-Type")})
		mu.Unlock()
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		time.Sleep(delay)
		w.WriteHeader(status)
		io.WriteString(w, "answer mentioning "+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []hit {
		mu.Lock()
		defer mu.Unlock()
		return append([]hit(nil), hits...)
	}
}

var fixed = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func event(kind, outcome string) notify.Event {
	return notify.Event{Kind: kind, Set: "db", Outcome: outcome, Message: "2 operations failed", Host: "host01", Time: fixed,
		Counts: &notify.Counts{FilesCopied: 3, BytesCopied: 42, Errors: 2}, RoboVersion: "1.0"}
}

func TestWebhookJSON(t *testing.T) {
	srv, hits := hookServer(t, 200, 0)
	w := &notify.Webhook{URL: srv.URL + "/hooks/" + token + "?k=v"}
	if got := w.Target(); got != srv.URL+"/…" || strings.Contains(got, token) {
		t.Fatalf("target %q", got)
	}
	if err := w.Send(context.Background(), event(notify.KindFailure, state.Partial)); err != nil {
		t.Fatal(err)
	}
	h := hits()
	if len(h) != 1 || h[0].Path != "/hooks/"+token+"?k=v" || h[0].CT != "application/json" {
		t.Fatalf("%+v", h)
	}
	b := h[0].Body
	if b.FormatVersion != "1" || b.Kind != "failure" || b.Set != "db" || b.Outcome != "partial" || b.Host != "host01" || !b.Time.Equal(fixed) ||
		b.Counts == nil || b.Counts.FilesCopied != 3 || b.Counts.Errors != 2 || b.Message != "2 operations failed" || b.Title != "robo: db partial on host01" || b.Text != b.Title {
		t.Fatalf("body %s", h[0].Raw)
	}
	for _, k := range []string{`"event":"failure"`, `"set":"db"`, `"outcome":"partial"`, `"host":"host01"`, `"time":"2026-03-01T12:00:00Z"`, `"files_copied":3`, `"robo_version":"1.0"`} {
		if !strings.Contains(h[0].Raw, k) {
			t.Errorf("body lacks %s: %s", k, h[0].Raw)
		}
	}
}

func TestWebhookHealthchecks(t *testing.T) {
	srv, hits := hookServer(t, 200, 0)
	w := &notify.Webhook{URL: srv.URL + "/" + token, Healthchecks: true}
	for _, k := range []string{notify.KindSuccess, notify.KindFailure, notify.KindStale, notify.KindTest} {
		if err := w.Send(context.Background(), event(k, k)); err != nil {
			t.Fatal(err)
		}
	}
	var paths []string
	for _, h := range hits() {
		paths = append(paths, h.Path)
	}
	want := "/" + token + " /" + token + "/fail /" + token + "/fail /" + token + "/log"
	if strings.Join(paths, " ") != want {
		t.Fatalf("paths %v, want %s", paths, want)
	}
}

// A 500 answer is an error naming the status, never the URL's token (not
// even where the server echoes it).
func TestWebhookErrorHidesToken(t *testing.T) {
	srv, _ := hookServer(t, 500, 0)
	w := &notify.Webhook{URL: srv.URL + "/" + token}
	err := w.Send(context.Background(), event(notify.KindFailure, state.Failed))
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || strings.Contains(err.Error(), token) {
		t.Fatalf("%v", err)
	}
	// A connection error (the server is gone) hides it too.
	srv.Close()
	err = w.Send(context.Background(), event(notify.KindFailure, state.Failed))
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "POST http://127.0.0.1") {
		t.Fatalf("%v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hc-ping.com/" + token:             "https://hc-ping.com/…",
		"https://user:pw@example.com:8443/x?y=1":   "https://example.com:8443/…",
		"https://example.com":                      "https://example.com",
		"https://example.com/":                     "https://example.com",
		"https://example.com/?token=" + token:      "https://example.com/…",
		"not a url " + token:                       "(url hidden)",
		"https://hooks.slack.com/services/T/B/XXX": "https://hooks.slack.com/…",
	} {
		if got := notify.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A slow endpoint is cut off at the notifier's timeout; the dispatcher
// reports it and returns.
func TestDispatcherTimeoutAndFailureNotFatal(t *testing.T) {
	slow, _ := hookServer(t, 200, 3*time.Second)
	bad, _ := hookServer(t, 500, 0)
	good, goodHits := hookServer(t, 200, 0)
	cfg := &schema.Config{Notifiers: map[string]*schema.Notifier{
		"slow": {Name: "slow", URL: slow.URL + "/" + token, Format: "json", On: []string{"failure"}, Timeout: 300 * time.Millisecond},
		"bad":  {Name: "bad", URL: bad.URL + "/x", Format: "json", On: []string{"failure"}, Timeout: time.Second},
		"good": {Name: "good", URL: good.URL + "/y", Format: "json", On: []string{"failure"}, Timeout: time.Second},
	}}
	d := notify.FromConfig(cfg, nil, "1.0")
	start := time.Now()
	reps := d.Send(context.Background(), []notify.Event{event(notify.KindFailure, state.Failed)})
	if el := time.Since(start); el > 2500*time.Millisecond {
		t.Fatalf("took %s", el)
	}
	if len(reps) != 3 || reps[0].Notifier != "bad" || reps[1].Notifier != "good" || reps[2].Notifier != "slow" {
		t.Fatalf("%+v", reps)
	}
	if reps[0].Err == nil || !strings.Contains(reps[0].Err.Error(), "HTTP 500") {
		t.Errorf("bad: %v", reps[0].Err)
	}
	if reps[1].Err != nil || len(goodHits()) != 1 {
		t.Errorf("good: %v", reps[1].Err)
	}
	if e := reps[2].Err; e == nil || !strings.Contains(e.Error(), "no answer within 300ms") || strings.Contains(e.Error(), token) {
		t.Errorf("slow: %v", e)
	}
}

// A cancelled context (robo interrupted) does not stop the notification
// of the interrupted run.
func TestDispatcherSendsAfterCancel(t *testing.T) {
	srv, hits := hookServer(t, 200, 0)
	cfg := &schema.Config{Notifiers: map[string]*schema.Notifier{
		"ops": {Name: "ops", URL: srv.URL, Format: "json", On: []string{"failure"}, Timeout: time.Second}}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reps := notify.FromConfig(cfg, nil, "").Send(ctx, []notify.Event{event(notify.KindFailure, state.Interrupted)})
	if len(reps) != 1 || reps[0].Err != nil || len(hits()) != 1 {
		t.Fatalf("%+v", reps)
	}
}

// Events come from apply results by outcome class and set filter; forgotten
// and disabled sets send nothing.
func TestDispatcherResults(t *testing.T) {
	srv, hits := hookServer(t, 200, 0)
	cfg := &schema.Config{Notifiers: map[string]*schema.Notifier{
		"fail": {Name: "fail", URL: srv.URL + "/fail-all", Format: "json", On: []string{"failure"}},
		"db":   {Name: "db", URL: srv.URL + "/db", Format: "json", On: []string{"success", "failure", "stale"}, Sets: []string{"db"}},
	}}
	d := notify.FromConfig(cfg, nil, "1.0")
	d.Host, d.Now, d.Parallel = "host01", func() time.Time { return fixed }, 1
	res := &apply.Result{Sets: []*apply.SetResult{
		{Name: "db", Action: plan.Sync, Outcome: state.Success, Result: &engine.Result{BytesCopied: 7}},
		{Name: "web", Action: plan.Update, Outcome: state.Partial, Message: "1 operation failed", Result: &engine.Result{}},
		{Name: "gone", Action: plan.Forget, Outcome: state.Success},
		{Name: "off", Action: plan.Noop, Outcome: state.Success},
		{Name: "db2", Action: plan.Create, Outcome: state.Failed, Message: "before hook failed", Hooks: []*hooks.Result{{Phase: "before", Error: "exit status 1"}}},
		{Name: "nas", Action: plan.Create, Outcome: state.Refused, Message: "source missing"},
	}}
	reps := d.Results(context.Background(), res)
	var got []string
	for _, r := range reps {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		got = append(got, r.Notifier+":"+r.Set+":"+r.Event)
	}
	want := "db:db:success fail:web:failure fail:db2:failure fail:nas:failure"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	if h := hits(); len(h) != 4 || h[0].Path != "/db" || h[0].Body.Counts == nil || h[0].Body.Counts.BytesCopied != 7 || h[1].Body.Outcome != "partial" {
		t.Fatalf("%+v", h)
	}
	// Stale goes to the notifiers that ask for it.
	ls := fixed.Add(-48 * time.Hour)
	reps = d.Stale(context.Background(), "db", ls)
	if len(reps) != 1 || reps[0].Notifier != "db" || reps[0].Event != "stale" || reps[0].Err != nil {
		t.Fatalf("%+v", reps)
	}
	h := hits()[4]
	if h.Body.Kind != "stale" || h.Body.LastSuccess == nil || !h.Body.LastSuccess.Equal(ls) || !strings.Contains(h.Body.Message, "2026-02-27T12:00:00Z") {
		t.Fatalf("%s", h.Raw)
	}
	// Test ignores on and sets.
	r, err := d.Test(context.Background(), "fail")
	if err != nil || r.Err != nil || r.Event != "test" || hits()[5].Body.Kind != "test" {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := d.Test(context.Background(), "nope"); err == nil {
		t.Fatal("test of an unknown notifier")
	}
}

// A URL given as secret("name") is resolved only to send, once.
func TestWebhookSecretURL(t *testing.T) {
	srv, hits := hookServer(t, 200, 0)
	calls := 0
	cfg := &schema.Config{Notifiers: map[string]*schema.Notifier{
		"hc": {Name: "hc", URLSecret: &schema.SecretRef{Name: "hc_url"}, Format: "healthchecks", On: []string{"success", "failure"}}}}
	d := notify.FromConfig(cfg, func(ref schema.SecretRef) ([]byte, error) {
		calls++
		return []byte(srv.URL + "/" + token), nil
	}, "")
	d.Parallel = 1
	if got := d.Targets[0].Sender.Target(); got != `url from secret "hc_url"` {
		t.Fatalf("target %q", got)
	}
	d.Send(context.Background(), []notify.Event{event("success", "success"), event("failure", "failed")})
	if calls != 1 || len(hits()) != 2 || hits()[1].Path != "/"+token+"/fail" {
		t.Fatalf("calls %d hits %+v", calls, hits())
	}
}

func TestMail(t *testing.T) {
	srv := smtptest.Start(t, &smtptest.Server{Auth: true, User: "robo", Pass: "CANARY-smtp-7f3a"})
	m := &notify.Mail{Host: "127.0.0.1", Port: srv.Port(), Username: "robo", Password: func() (string, error) { return "CANARY-smtp-7f3a", nil },
		From: "Robo <robo@example.com>", To: []string{"ops@example.com", "Admin <admin@example.com>"}, HelloName: "host01"}
	if got := m.Target(); got != "smtp://"+srv.Addr+" (2 recipients)" {
		t.Fatalf("target %q", got)
	}
	if err := m.Send(context.Background(), event(notify.KindFailure, state.Partial)); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	g := msgs[0]
	if g.From != "robo@example.com" || strings.Join(g.To, ",") != "ops@example.com,admin@example.com" || g.AuthUser != "robo" || g.AuthPass != "CANARY-smtp-7f3a" {
		t.Fatalf("%+v", g)
	}
	// (The server's reader turns the wire's CRLF into LF.)
	for _, want := range []string{"From: \"Robo\" <robo@example.com>\n", "To: <ops@example.com>, \"Admin\" <admin@example.com>\n",
		"Subject: robo: db partial on host01\n", "Content-Type: text/plain; charset=utf-8\n", "X-Robo-Event: failure\n",
		"Set:          db\n", "Outcome:      partial\n", "Errors:       2\n", "\n2 operations failed\n"} {
		if !strings.Contains(g.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, g.Data)
		}
	}
	if strings.Contains(g.Data, "CANARY") {
		t.Error("the password is in the message")
	}
	// A wrong password: the error says so without the password.
	m.Password = func() (string, error) { return "CANARY-wrong-9b1c", nil }
	err := m.Send(context.Background(), event(notify.KindFailure, state.Failed))
	if err == nil || !strings.Contains(err.Error(), "535") || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("%v", err)
	}
}

// STARTTLS is used when asked, and a server that does not offer it gets
// nothing (never a silent downgrade).
func TestMailStartTLS(t *testing.T) {
	serverTLS, pool := smtptest.SelfSigned(t)
	srv := smtptest.Start(t, &smtptest.Server{TLS: serverTLS, Auth: true, User: "robo", Pass: "pw"})
	m := &notify.Mail{Host: "127.0.0.1", Port: srv.Port(), Username: "robo", Password: func() (string, error) { return "pw", nil },
		From: "robo@example.com", To: []string{"ops@example.com"}, StartTLS: true, TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	if err := m.Send(context.Background(), event(notify.KindSuccess, state.Success)); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || !msgs[0].TLS || msgs[0].AuthPass != "pw" {
		t.Fatalf("%+v", msgs)
	}
	// An untrusted certificate fails.
	m.TLSConfig = nil
	if err := m.Send(context.Background(), event(notify.KindSuccess, state.Success)); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("%v", err)
	}
	plain := smtptest.Start(t, &smtptest.Server{})
	m = &notify.Mail{Host: "127.0.0.1", Port: plain.Port(), From: "robo@example.com", To: []string{"ops@example.com"}, StartTLS: true}
	err := m.Send(context.Background(), event(notify.KindSuccess, state.Success))
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") || len(plain.Messages()) != 0 {
		t.Fatalf("%v", err)
	}
}

// A server that never answers is cut off at the timeout.
func TestMailTimeout(t *testing.T) {
	srv := smtptest.Start(t, &smtptest.Server{Hang: true})
	cfg := &schema.Config{Notifiers: map[string]*schema.Notifier{"mail": {Name: "mail", On: []string{"failure"}, Timeout: 500 * time.Millisecond,
		SMTP: &schema.SMTP{Host: "127.0.0.1", Port: srv.Port(), From: "robo@example.com", To: []string{"ops@example.com"}}}}}
	start := time.Now()
	reps := notify.FromConfig(cfg, nil, "").Send(context.Background(), []notify.Event{event(notify.KindFailure, state.Failed)})
	if el := time.Since(start); el > 3*time.Second || len(reps) != 1 || reps[0].Err == nil {
		t.Fatalf("%+v after %s", reps, el)
	}
}
