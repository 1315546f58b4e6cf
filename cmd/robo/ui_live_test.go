package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/web"
)

// TestUITokenFileNotice: serving on a non-loopback address prints where
// the token file is (issue 19), so that someone can sign in.
func TestUITokenFileNotice(t *testing.T) {
	conf, _ := testConfig(t)
	e, _, stderr := testEnv("", false)
	e.dir = conf
	cfg, err := loadConfig(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, stop, err := startUI(e, cfg, uiFlags{listen: "0.0.0.0:0"}, newUIBackend(e, cfg, nil), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	stop()
	want := filepath.Join(filepath.Dir(cfg.Settings.StateFile), "ui.token")
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("no token file: %v", err)
	}
	if !strings.Contains(stderr.String(), "it is in the token file "+want) || !strings.Contains(stderr.String(), "not loopback") {
		t.Errorf("stderr %q does not say where the token file is", stderr)
	}
}

// TestUIApplyPlanStale: a plan made for review is refused, nothing
// copied, when a source file changes before it is applied (CheckSaved
// alone does not look at the trees: issue 19); unchanged, it applies.
// With every change list spilling, no spill file stays open once the run
// is done and the caller closed its plans (the fresh plan ApplyPlan
// compares against is its own to close).
func TestUIApplyPlanStale(t *testing.T) {
	old := engine.SpillBlockBytes
	engine.SpillBlockBytes = 1
	t.Cleanup(func() { engine.SpillBlockBytes = old })
	fds := func() int {
		if runtime.GOOS != "linux" {
			return 0
		}
		return spillFDs(t)
	}
	before := fds()
	conf, dst := testConfig(t)
	src := filepath.Join(filepath.Dir(conf), "src")
	e, _, _ := testEnv("", false)
	e.dir = conf
	cfg, err := loadConfig(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := newUIBackend(e, cfg, nil)
	p, err := b.PlanSet(context.Background(), "docs")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("changed after the review"), 0o644)
	var dones atomic.Int32
	done := func() { dones.Add(1) }
	err = b.ApplyPlan(context.Background(), p, done)
	p.Close()
	if !errors.Is(err, web.ErrStale) || !strings.Contains(err.Error(), "a.txt") {
		t.Fatalf("apply after a source change: %v, want stale", err)
	}
	b.wait()
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatal("the refused plan touched the destination")
	}
	p, err = b.PlanSet(context.Background(), "docs")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ApplyPlan(context.Background(), p, done); err != nil {
		t.Fatalf("apply of a fresh plan: %v", err)
	}
	b.wait()
	if n := dones.Load(); n != 1 {
		t.Fatalf("done called %d times, want once (after the run, not for the refused plan)", n)
	}
	p.Close()
	if n := fds(); n != before {
		t.Fatalf("%d spill files open after the runs (%d before)", n, before)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "a.txt")); string(got) != "changed after the review" {
		t.Fatalf("destination a.txt = %q", got)
	}
}

// browser starts headless Chromium, or skips (fails with
// ROBO_REQUIRE_CHROMIUM) without it.
func browser(t *testing.T) context.Context {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("drives /usr/bin/chromium, a Linux program (under Wine its path resolves to the Linux file)")
	}
	const exe = "/usr/bin/chromium"
	if _, err := os.Stat(exe); err != nil {
		if os.Getenv("ROBO_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("ROBO_REQUIRE_CHROMIUM is set but %s is missing", exe)
		}
		t.Skip("chromium is not installed")
	}
	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.NoFirstRun, chromedp.Headless, chromedp.DisableGPU, chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.ExecPath(exe), chromedp.WindowSize(1280, 800))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestUILiveProgress: a run started from the page (Run now, review, Apply
// this plan) shows its progress on the set's page, advancing without a
// reload before the run ends, then the page shows the run (issue 19). The
// run is made slow with testOnlyLiveDelay per file (a slow disk).
func TestUILiveProgress(t *testing.T) {
	ctx := browser(t)
	conf, dst := testConfig(t)
	src := filepath.Join(filepath.Dir(conf), "src")
	const n = 12
	for i := 0; i < n; i++ {
		os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d.bin", i)), make([]byte, 4096), 0o644)
	}
	testOnlyLiveDelay = 400 * time.Millisecond
	t.Cleanup(func() { testOnlyLiveDelay = 0 })
	base := uiServe(t, conf)
	run := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(ctx, a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("open the dashboard", chromedp.Navigate(base+"/"))
	run("press run now", chromedp.Click(`tr[data-set="docs"] button.run-now`))
	run("see the plan", chromedp.WaitVisible(`#plan`))
	run("apply it", chromedp.Click(`#apply-plan`))
	run("see the set's page", chromedp.WaitVisible(`#notice`))
	// Mark the page: a reload would lose the mark.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.roboMark = 1`)); err != nil {
		t.Fatal(err)
	}
	var seen []string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		mark, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.roboMark === 1`))
		if err != nil || !mark {
			break // the page reloaded: the run ended
		}
		txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var e=document.querySelector('.live[data-live-set="docs"] .live-text');return e?e.textContent:""})()`))
		if err != nil {
			break
		}
		if txt != "" && (len(seen) == 0 || seen[len(seen)-1] != txt) {
			seen = append(seen, txt)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var copying []string
	for _, s := range seen {
		if strings.HasPrefix(s, "copying: ") && !strings.HasPrefix(s, fmt.Sprintf("copying: %d/", n+1)) {
			copying = append(copying, s)
		}
	}
	if len(copying) < 2 {
		t.Fatalf("the progress did not advance during the run: %q", seen)
	}
	if !strings.Contains(strings.Join(seen, "\n"), fmt.Sprintf("/%d files", n+1)) { // and a.txt
		t.Errorf("the progress lacks the total: %q", seen)
	}
	run("see the run", chromedp.WaitVisible(`#runs tr.run.process`))
	for i := 0; i < n; i++ {
		if _, err := os.Stat(filepath.Join(dst, fmt.Sprintf("f%02d.bin", i))); err != nil {
			t.Errorf("f%02d.bin not copied: %v", i, err)
		}
	}
	// The same progress for scripts: the snapshot is empty again.
	resp, err := http.Get(base + "/api/progress")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/api/progress: %d", resp.StatusCode)
	}
}

// TestUIReviewedApplyStale: the reviewed plan's apply is refused after a
// source file changed, and nothing is copied (issue 19).
func TestUIReviewedApplyStale(t *testing.T) {
	ctx := browser(t)
	conf, dst := testConfig(t)
	src := filepath.Join(filepath.Dir(conf), "src")
	base := uiServe(t, conf)
	run := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.Run(ctx, a); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("open the set's page", chromedp.Navigate(base+"/sets/docs"))
	run("press run now", chromedp.Click(`button.run-now`))
	run("see the plan", chromedp.WaitVisible(`#plan`))
	planText, err := chromedp.Run(ctx, chromedp.Text(`#plan`))
	if err != nil || !strings.Contains(planText, "a.txt") {
		t.Fatalf("the plan page: %q %v", planText, err)
	}
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("changed while the plan was reviewed"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("apply it", chromedp.Click(`#apply-plan`))
	run("see the refusal", chromedp.WaitVisible(`p.error`))
	msg, err := chromedp.Run(ctx, chromedp.Text(`p.error`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "Refused") || !strings.Contains(msg, "stale") || !strings.Contains(msg, "a.txt") {
		t.Errorf("refusal: %q", msg)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Error("the refused plan touched the destination")
	}
}
