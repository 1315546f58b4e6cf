package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/plan"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/schema"
)

// spillFDs counts this process's open descriptors of change-list spill
// files.
func spillFDs(t *testing.T) int { t.Helper(); return tt.OpenFDs(t, ".robo-changes-") }

type nativeEngines struct{}

func (nativeEngines) Select(string) (engine.Engine, error) { return native.New(), nil }

// treeBackend plans a real tree with the native engine, as robo plan
// does: every Plan and PlanSet is a new plan whose change list spills.
// Plan hands out plans built ahead (ahead, when set), so that a new plan
// replaces the cached one while requests still read it. ApplyPlan "runs"
// in the background: it reads the whole change list of the plan after a
// pause, then calls done.
type treeBackend struct {
	cfg   *schema.Config
	ahead chan *plan.Plan

	mu       sync.Mutex
	made     []*plan.Plan
	runErrs  []string
	runs     sync.WaitGroup
	runReads int
	want     int // changes a plan of the tree has
}

func (b *treeBackend) build(ctx context.Context, targets []string) (*plan.Plan, error) {
	p, err := plan.Build(ctx, plan.Input{Config: b.cfg, Targets: targets, Refresh: true, Engines: nativeEngines{}, Now: time.Now()})
	if err != nil {
		return nil, err
	}
	b.given(p)
	return p, nil
}

// given records p as handed to the server.
func (b *treeBackend) given(p *plan.Plan) {
	b.mu.Lock()
	b.made = append(b.made, p)
	b.mu.Unlock()
}

func (b *treeBackend) Sets() ([]SetView, error) {
	return []SetView{{Name: "docs", InConfig: true, Enabled: true, Health: "never"}}, nil
}
func (b *treeBackend) Plan(ctx context.Context) (*plan.Plan, error) {
	if b.ahead == nil {
		return b.build(ctx, nil)
	}
	select {
	case p := <-b.ahead:
		b.given(p)
		return p, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
func (b *treeBackend) PlanSet(ctx context.Context, set string) (*plan.Plan, error) {
	return b.build(ctx, []string{set})
}
func (b *treeBackend) RunNow(string) error { return nil }
func (b *treeBackend) ApplyPlan(_ context.Context, p *plan.Plan, done func()) error {
	b.runs.Add(1)
	go func() {
		defer b.runs.Done()
		defer done()
		time.Sleep(5 * time.Millisecond) // the run outlives the request
		n := 0
		err := p.Set("docs").Changes.Range(func(int, *engine.Change) error { n++; return nil })
		b.mu.Lock()
		defer b.mu.Unlock()
		b.runReads++
		if err != nil || n != b.want {
			b.runErrs = append(b.runErrs, fmt.Sprintf("the run read %d changes (want %d): %v", n, b.want, err))
		}
	}()
	return nil
}

// The dashboard closes every plan it is given exactly once, only when it
// is no longer cached or kept for review and no request or run reads it:
// many concurrent page requests, JSON requests, reviews, applies and
// discards while the cached plan is replaced again and again (real plans
// of a real tree whose change lists spill) all get complete responses,
// no spill file of a replaced plan stays open, and Close releases the
// rest. Run with -race: a change list read after its Close is a race with
// Close's reset of the list (and an empty, wrong response).
func TestPlansClosedOnceUnderConcurrentRefresh(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors in /proc/self/fd")
	}
	old := engine.SpillBlockBytes
	engine.SpillBlockBytes = 256
	t.Cleanup(func() { engine.SpillBlockBytes = old })
	var closesMu sync.Mutex
	closes := map[*plan.Plan]int{}
	oldClose := closePlan
	closePlan = func(p *plan.Plan) {
		closesMu.Lock()
		closes[p]++
		closesMu.Unlock()
		oldClose(p)
	}
	t.Cleanup(func() { closePlan = oldClose })

	dir := t.TempDir()
	src := tt.Dir{}
	for i := range 200 {
		src[fmt.Sprintf("f%03d.txt", i)] = tt.File{Content: fmt.Sprint(i)}
	}
	tt.Create(t, filepath.Join(dir, "src"), src)
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte("backup \"docs\" {\n  source      = \"../src\"\n  destination = \"../dst\"\n}\n"), 0o644)
	cfg, diags := schema.Load(conf, schema.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	be := &treeBackend{cfg: cfg}
	ref, err := be.build(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	refSet := ref.Set("docs")
	if refSet == nil || !refSet.Changes.Spilled() {
		t.Fatalf("the reference plan does not spill: %+v", refSet)
	}
	be.want = refSet.Changes.Len()
	var wantPaths []string
	for _, c := range refSet.Changes.Slice() {
		wantPaths = append(wantPaths, c.Path)
	}
	if be.want < 200 {
		t.Fatalf("the reference plan has %d changes", be.want)
	}
	refText, err := planText(ref)
	if err != nil {
		t.Fatal(err)
	}
	ref.Close()
	be.made = nil
	before := spillFDs(t)

	be.ahead = make(chan *plan.Plan, 4)
	stop := make(chan struct{})
	builder := make(chan struct{})
	go func() {
		defer close(builder)
		for {
			p, err := plan.Build(context.Background(), plan.Input{Config: cfg, Refresh: true, Engines: nativeEngines{}, Now: time.Now()})
			if err != nil {
				t.Error(err)
				return
			}
			select {
			case be.ahead <- p:
			case <-stop:
				p.Close()
				return
			}
		}
	}()

	s, err := New(Options{Backend: be, Loopback: true, PlanTTL: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (int, string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, hs.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("X-CSRF-Token", s.csrf)
		resp, err := cl.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	// checkPlan checks a plan document: the set with every change of
	// the tree, in order.
	checkPlan := func(what string, raw json.RawMessage) error {
		var p struct {
			Sets []struct {
				Name    string `json:"name"`
				Changes []struct {
					Path string `json:"path"`
				} `json:"changes"`
			} `json:"sets"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
		if len(p.Sets) != 1 || p.Sets[0].Name != "docs" || len(p.Sets[0].Changes) != len(wantPaths) {
			return fmt.Errorf("%s: %d sets, want docs with %d changes: %.300s", what, len(p.Sets), len(wantPaths), raw)
		}
		for i, c := range p.Sets[0].Changes {
			if c.Path != wantPaths[i] {
				return fmt.Errorf("%s: change %d is %q, want %q", what, i, c.Path, wantPaths[i])
			}
		}
		return nil
	}
	// pageText is the plan text a page shows.
	pageText := func(body string) string {
		_, rest, ok := strings.Cut(body, `<pre id="plan">`)
		pre, _, ok2 := strings.Cut(rest, "</pre>")
		if !ok || !ok2 || !strings.Contains(body, "</html>") {
			return "(no complete plan in the page)"
		}
		return html.UnescapeString(pre)
	}

	const workers, rounds = 8, 12
	errs := make(chan error, workers*rounds*8)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				switch (w + i) % 4 {
				case 0: // the plan page
					code, body, err := do("GET", "/plan", nil)
					if err != nil || code != 200 || pageText(body) != refText {
						errs <- fmt.Errorf("GET /plan: %d %v: %.400s", code, err, body)
					}
				case 1: // the JSON plan
					code, body, err := do("GET", "/api/plan", nil)
					if err != nil || code != 200 {
						errs <- fmt.Errorf("GET /api/plan: %d %v: %.400s", code, err, body)
						continue
					}
					if err := checkPlan("GET /api/plan", json.RawMessage(body)); err != nil {
						errs <- err
					}
				default: // Run now: review, then apply, discard or leave it
					code, body, err := do("POST", "/api/sets/docs/plan", url.Values{})
					var rv struct {
						Review string          `json:"review"`
						Plan   json.RawMessage `json:"plan"`
						Text   string          `json:"text"`
					}
					if err == nil {
						err = json.Unmarshal([]byte(body), &rv)
					}
					if err != nil || code != http.StatusCreated || rv.Review == "" {
						errs <- fmt.Errorf("POST /api/sets/docs/plan: %d %v: %.400s", code, err, body)
						continue
					}
					if err := checkPlan("the review's plan", rv.Plan); err != nil {
						errs <- err
					}
					if rv.Text != refText {
						errs <- fmt.Errorf("the review's text:\n%s\nwant\n%s", rv.Text, refText)
					}
					code, body, err = do("GET", "/reviews/"+rv.Review, nil)
					if err != nil || code != 200 || pageText(body) != refText {
						errs <- fmt.Errorf("GET /reviews/%s: %d %v: %.400s", rv.Review, code, err, body)
					}
					// Readers of the review while it is applied or
					// discarded: a complete page, or none.
					var readers sync.WaitGroup
					for range 2 {
						readers.Add(1)
						go func() {
							defer readers.Done()
							code, body, err := do("GET", "/reviews/"+rv.Review, nil)
							if err != nil || (code != 200 && code != http.StatusNotFound) || (code == 200 && pageText(body) != refText) {
								errs <- fmt.Errorf("GET /reviews/%s during its apply: %d %v: %.400s", rv.Review, code, err, body)
							}
						}()
					}
					switch i % 3 {
					case 0:
						if code, body, err := do("POST", "/api/reviews/"+rv.Review+"/apply", url.Values{}); err != nil || code != http.StatusAccepted {
							errs <- fmt.Errorf("apply: %d %v: %.400s", code, err, body)
						}
					case 1:
						if code, body, err := do("POST", "/reviews/"+rv.Review+"/discard", url.Values{"csrf": {s.csrf}}); err != nil || code != http.StatusSeeOther {
							errs <- fmt.Errorf("discard: %d %v: %.400s", code, err, body)
						}
					}
					readers.Wait()
				}
			}
		}()
	}
	wg.Wait()
	hs.Close()
	close(stop)
	<-builder
	for len(be.ahead) > 0 {
		(<-be.ahead).Close()
	}
	be.runs.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	be.mu.Lock()
	for _, e := range be.runErrs {
		t.Error(e)
	}
	if be.runReads == 0 {
		t.Error("no apply ran")
	}
	made, runs := append([]*plan.Plan(nil), be.made...), be.runReads
	be.mu.Unlock()

	// Still held: the cached plan and the reviews left for later.
	s.planMu.Lock()
	held := map[*plan.Plan]bool{}
	if s.planDoc != nil {
		held[s.planDoc.p] = true
	}
	s.planMu.Unlock()
	s.reviews.mu.Lock()
	for _, r := range s.reviews.m {
		held[r.plan.p] = true
	}
	s.reviews.mu.Unlock()
	if len(held) == 0 || len(held) == len(made) {
		t.Fatalf("%d plans held of %d made", len(held), len(made))
	}
	closesMu.Lock()
	for _, p := range made {
		if want := map[bool]int{true: 0, false: 1}[held[p]]; closes[p] != want {
			t.Errorf("a plan (held %v) was closed %d times, want %d", held[p], closes[p], want)
		}
	}
	closesMu.Unlock()
	if n := spillFDs(t); n != before+len(held) {
		t.Errorf("%d spill files open with %d plans held (%d before): replaced plans leak", n, len(held), before)
	}

	s.Close()
	if n := spillFDs(t); n != before {
		t.Errorf("%d spill files open after Close (%d before)", n, before)
	}

	// A request that comes after Close (the HTTP server is meant to be
	// stopped first) keeps nothing: its plan is closed when it is done.
	be.ahead = nil
	hs = httptest.NewServer(s)
	defer hs.Close()
	if code, body, err := do("GET", "/api/plan", nil); err != nil || code != 200 || checkPlan("GET /api/plan after Close", json.RawMessage(body)) != nil {
		t.Errorf("GET /api/plan after Close: %d %v: %.400s", code, err, body)
	}
	if code, body, err := do("POST", "/api/sets/docs/plan", url.Values{}); err != nil || code != http.StatusInternalServerError || !strings.Contains(body, "shutting down") {
		t.Errorf("Run now after Close: %d %v: %.400s", code, err, body)
	}
	if n := spillFDs(t); n != before {
		t.Errorf("%d spill files open after requests after Close (%d before)", n, before)
	}
	be.mu.Lock()
	if len(be.made) != len(made)+2 {
		t.Errorf("%d plans made after Close, want 2", len(be.made)-len(made))
	}
	made = append([]*plan.Plan(nil), be.made...)
	be.mu.Unlock()
	closesMu.Lock()
	defer closesMu.Unlock()
	for i, p := range made {
		if closes[p] != 1 {
			t.Errorf("plan %d of %d was closed %d times after Close, want once", i, len(made), closes[p])
		}
	}
	t.Logf("%d plans made, %d applied, %d held before Close", len(made), runs, len(held))
}
