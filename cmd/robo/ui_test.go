package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hashicorp/go-hclog"
)

// uiServe serves the dashboard of conf in-process on a loopback port, with
// robo ui's backend (run now converges the set for real).
func uiServe(t *testing.T, conf string) string {
	t.Helper()
	e, _, _ := testEnv("", false)
	ctx, cancel := context.WithCancel(context.Background())
	e.ctx, e.dir = ctx, conf
	cfg, err := loadConfig(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := newUIBackend(e, cfg, nil)
	srv, addr, stop, err := startUI(e, cfg, uiFlags{listen: "127.0.0.1:0"}, b, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	b.srv = srv
	t.Cleanup(func() { stop(); cancel(); b.wait() })
	return "http://" + addr.String()
}

// TestUICanary: the share of the configuration's secrets (an SMTP password
// from the age secrets) appears in no page and no API response.
func TestUICanary(t *testing.T) {
	_, conf, identity := notifySetup(t, 1, "http://127.0.0.1:1/"+notifyToken)
	t.Setenv("ROBO_AGE_IDENTITY", identity)
	base := uiServe(t, conf)
	get := func(method, path string) string {
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Status + string(b)
	}
	var all strings.Builder
	csrf := get("GET", "/api/csrf")
	all.WriteString(csrf)
	tok := csrf[strings.Index(csrf, `"csrf_token": "`)+15:]
	tok = tok[:strings.Index(tok, `"`)]
	req, _ := http.NewRequest("POST", base+"/api/sets/docs/run", nil)
	req.Header.Set("X-CSRF-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("run now: %v %v", resp, err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(get("GET", "/api/sets/docs/history"), `"source": "process"`) {
		if time.Now().After(deadline) {
			t.Fatal("the run never appeared")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range []string{"/", "/sets/docs", "/sets/gone", "/logs", "/plan", "/metrics", "/api/sets", "/api/sets/docs/history", "/api/plan", "/api/logs"} {
		all.WriteString(get("GET", p))
	}
	list := get("GET", "/api/logs")
	if i := strings.Index(list, "native-run-docs-"); i >= 0 {
		name := list[i : i+strings.Index(list[i:], `"`)]
		all.WriteString(get("GET", "/api/logs?file="+name))
		all.WriteString(get("GET", "/logs?file="+name))
	}
	if !strings.Contains(all.String(), `"name": "docs"`) {
		t.Fatal("the responses lack the sets")
	}
	for _, secret := range []string{notifyCanary, notifyToken} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("a response holds the secret %q", secret)
		}
	}
}

// TestUIBrowser drives the dashboard in headless Chromium: run now, see the
// run appear, filter its log. ROBO_REQUIRE_CHROMIUM=1 fails rather than
// skips without /usr/bin/chromium; ROBO_UI_SCREENSHOT=FILE saves a
// screenshot of the dashboard (docs/dashboard.png).
func TestUIBrowser(t *testing.T) {
	if runtime.GOOS == "windows" {
		// Under Wine, /usr/bin/chromium is visible through Z: but is a Linux
		// program that a Windows process cannot start.
		t.Skip("drives /usr/bin/chromium, a Linux program; the dashboard is the same page on every OS")
	}
	const exe = "/usr/bin/chromium"
	if runtime.GOOS != "linux" {
		// Wine resolves the Unix path to the host's chromium, a Linux
		// program a Windows process cannot start.
		t.Skip("drives Linux's chromium at " + exe)
	}
	if _, err := os.Stat(exe); err != nil {
		if os.Getenv("ROBO_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("ROBO_REQUIRE_CHROMIUM is set but %s is missing", exe)
		}
		t.Skip("chromium is not installed")
	}
	conf, _ := testConfig(t)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte("backup \"docs\" {\n  source = \"../src\"\n  destination = \"../dst\"\n  schedule = \"0 2 * * *\"\n}\n"+
		"backup \"photos\" {\n  source = \"../src\"\n  destination = \"../dst2\"\n}\n"), 0o644)
	base := uiServe(t, conf)

	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.NoFirstRun, chromedp.Headless, chromedp.DisableGPU, chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.ExecPath(exe), chromedp.WindowSize(1280, 800))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 40*time.Second)
	defer cancel()

	do := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(ctx, a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// text reads an element, retrying while a navigation replaces the page
	// under it (the node of the previous page vanishes mid-read).
	text := func(sel string) string {
		t.Helper()
		var err error
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			var s string
			if s, err = chromedp.Run(ctx, chromedp.Text(sel)); err == nil {
				return s
			}
		}
		t.Fatalf("text of %s: %v", sel, err)
		return ""
	}
	do("open the dashboard", chromedp.Navigate(base+"/"))
	do("see the sets", chromedp.WaitVisible(`#sets`))
	do("press run now", chromedp.Click(`tr[data-set="docs"] button.run-now`))
	do("see the plan to review", chromedp.WaitVisible(`#plan`)) // issue 19: review, then apply
	do("apply the plan", chromedp.Click(`#apply-plan`))
	do("see the request", chromedp.WaitVisible(`#notice`))
	do("see the run", chromedp.WaitVisible(`#runs tr.run.process`)) // the page refreshes until it ends
	runs := text(`#runs`)
	do("open the logs", chromedp.Navigate(base+"/logs?set=docs"))
	do("open the run log", chromedp.Click(`a.log`))
	do("see the filter", chromedp.WaitVisible(`#filter`))
	do("type a filter", chromedp.SendKeys(`#q`, "a.txt"))
	do("filter", chromedp.Click(`#apply-filter`))
	// Wait for the filtered page itself, not the #count of the old one.
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.Contains(loc, "q=a.txt") {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the filtered page did not load (at %q, %v)", loc, err)
		}
	}
	do("see the filtered log", chromedp.WaitVisible(`#count`))
	count, lines := text(`#count`), text(`#lines`)
	for end := time.Now().Add(10 * time.Second); strings.Contains(lines, "Options:") && time.Now().Before(end); {
		time.Sleep(100 * time.Millisecond) // the filtered page is still loading
		count, lines = text(`#count`), text(`#lines`)
	}
	if !strings.Contains(runs, "success") {
		t.Errorf("history: %q", runs)
	}
	if !strings.Contains(lines, "a.txt") || strings.Contains(lines, "Options:") {
		t.Errorf("filtered lines: %q (%s)", lines, count)
	}
	if out := os.Getenv("ROBO_UI_SCREENSHOT"); out != "" {
		do("open the dashboard", chromedp.Navigate(base+"/"))
		do("see the sets", chromedp.WaitVisible(`#sets`))
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
