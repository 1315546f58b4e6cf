package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The dashboard in a real headless Chromium: every page at a phone's and
// a desktop's width, light and dark, with no horizontal overflow; the
// charts' points counted in the rendered DOM; the dark theme following
// prefers-color-scheme; the skip link first in the keyboard order.
//
// ROBO_REQUIRE_CHROMIUM=1 fails rather than skips without
// /usr/bin/chromium. ROBO_SCREENSHOTS=DIR writes the screenshots of
// docs/ (bench/screenshots.sh) into DIR.

const chromiumExe = "/usr/bin/chromium"

// browser starts a headless Chromium for t.
func browser(t *testing.T) context.Context {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the browser tests drive Debian's Chromium, a Linux program (under Wine its path resolves to the Linux file)")
	}
	if _, err := os.Stat(chromiumExe); err != nil {
		if os.Getenv("ROBO_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("ROBO_REQUIRE_CHROMIUM is set but %s is missing", chromiumExe)
		}
		t.Skip("chromium is not installed")
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.NoFirstRun, chromedp.Headless, chromedp.DisableGPU, chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("hide-scrollbars", true), chromedp.Flag("font-render-hinting", "none"),
		chromedp.UserDataDir(t.TempDir()), chromedp.ExecPath(chromiumExe), chromedp.WindowSize(1280, 800)}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// screen sets the viewport width and the colour scheme.
func screen(width int64, dark bool) chromedp.Action[chromedp.Void] {
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	return chromedp.Steps(
		chromedp.EmulateViewport(width, 844),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			return err
		}))
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func TestBrowserPages(t *testing.T) {
	ctx := browser(t)
	s, runs := demoServer(t)
	base := serve(t, s)
	logs, _ := listLogs(s.o.LogDir)
	var failedLog string
	for _, f := range logs {
		if f.Set == "mail-archive" && failedLog == "" {
			failedLog = f.Name
		}
	}
	if failedLog == "" {
		t.Fatal("the demo has no mail-archive log")
	}
	pages := []string{"/", "/sets/documents", "/sets/mail-archive", "/sets/scratch", "/logs", "/logs?set=documents",
		"/logs?file=" + url.QueryEscape(failedLog), "/logs?q=error", "/logs?q=pdf&level=info", "/plan"}
	shots := os.Getenv("ROBO_SCREENSHOTS")
	for _, width := range []int64{390, 1280} {
		for _, dark := range []bool{false, true} {
			if _, err := chromedp.Run(ctx, screen(width, dark)); err != nil {
				t.Fatal(err)
			}
			for _, p := range pages {
				if _, err := chromedp.Run(ctx, chromedp.Steps(chromedp.Navigate(base+p), chromedp.WaitVisible(`main h1`))); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if sw := eval[int64](t, ctx, `document.documentElement.scrollWidth`); sw > width {
					wide := eval[string](t, ctx, `[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > innerWidth+1 && !e.closest('.scroll')).slice(0,5).map(e => e.tagName+'.'+e.className).join(', ')`)
					t.Errorf("%s at %d px (dark %v): the page is %d px wide (%s)", p, width, dark, sw, wide)
				}
			}
			// The theme follows the system setting.
			bg := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`)
			if want := map[bool]string{false: "rgb(245, 246, 248)", true: "rgb(15, 20, 27)"}[dark]; bg != want {
				t.Errorf("at %d px, dark %v: the background is %s, want %s", width, dark, bg, want)
			}
			// Charts: one point per run, as drawn by the browser.
			chromedp.Run(ctx, chromedp.Steps(chromedp.Navigate(base+"/sets/documents"), chromedp.WaitVisible(`#chart-bytes`)))
			for _, id := range []string{"chart-outcome", "chart-duration", "chart-files", "chart-bytes"} {
				n := eval[int](t, ctx, fmt.Sprintf(`document.querySelectorAll('#%s svg .point').length`, id))
				visible := eval[int](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('#%s svg .point')].filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 }).length`, id))
				if n != 28 || visible != 28 {
					t.Errorf("at %d px: %s has %d points (%d drawn), want 28 (%d runs seeded)", width, id, n, visible, len(runs["documents"]))
				}
			}
			if shots != "" {
				mode := map[bool]string{false: "light", true: "dark"}[dark]
				shoot(t, ctx, base+"/", filepath.Join(shots, fmt.Sprintf("dashboard-%d-%s.png", width, mode)))
				// The set and log pages in two of the four (docs/api.md).
				if (width == 1280) != dark {
					shoot(t, ctx, base+"/sets/documents", filepath.Join(shots, fmt.Sprintf("dashboard-set-%d-%s.png", width, mode)))
					shoot(t, ctx, base+"/logs?file="+url.QueryEscape(failedLog), filepath.Join(shots, fmt.Sprintf("dashboard-log-%d-%s.png", width, mode)))
				}
			}
		}
	}
}

// shoot saves a screenshot of the whole page at u.
func shoot(t *testing.T, ctx context.Context, u, file string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible(`main h1`)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserKeyboard: the first Tab reaches the skip link, which is then
// on screen; Enter moves the focus into main; the focus ring is visible;
// every button and link has an accessible name; tables have headers with
// scope; the page has the landmarks and a status live region.
func TestBrowserKeyboard(t *testing.T) {
	ctx := browser(t)
	s, _ := demoServer(t)
	base := serve(t, s)
	for _, p := range []string{"/", "/sets/documents", "/logs"} {
		if _, err := chromedp.Run(ctx, chromedp.Steps(chromedp.Navigate(base+p), chromedp.WaitVisible(`main h1`), chromedp.KeyEvent("\t"))); err != nil {
			t.Fatal(err)
		}
		if got := eval[string](t, ctx, `document.activeElement.className`); got != "skip" {
			t.Errorf("%s: the first Tab focuses %q, not the skip link", p, got)
		}
		if top := eval[float64](t, ctx, `document.activeElement.getBoundingClientRect().top`); top < 0 {
			t.Errorf("%s: the focused skip link is off screen (top %v)", p, top)
		}
		if o := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`); o == "none" {
			t.Errorf("%s: the focused element has no outline", p)
		}
		chromedp.Run(ctx, chromedp.KeyEvent("\r"))
		chromedp.Run(ctx, chromedp.KeyEvent("\t"))
		if in := eval[bool](t, ctx, `document.querySelector('main').contains(document.activeElement)`); !in {
			t.Errorf("%s: after the skip link the focus is not in main (%s)", p, eval[string](t, ctx, `document.activeElement.outerHTML`))
		}
		unnamed := eval[[]string](t, ctx, `[...document.querySelectorAll('a, button, input:not([type=hidden]), select')].filter(e => {
			const n = (e.getAttribute('aria-label') || e.textContent || '').trim();
			return !n && !(e.labels && e.labels.length) }).map(e => e.outerHTML)`)
		if len(unnamed) > 0 {
			t.Errorf("%s: controls without a name: %q", p, unnamed)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll('thead th:not([scope=col])').length`); n > 0 {
			t.Errorf("%s: %d column headers without scope", p, n)
		}
		for _, sel := range []string{`header`, `header nav[aria-label]`, `main#content`, `[role=status][aria-live=polite]`} {
			if n := eval[int](t, ctx, `document.querySelectorAll('`+sel+`').length`); n != 1 {
				t.Errorf("%s: %d %s", p, n, sel)
			}
		}
	}
	// The nav marks the current page.
	chromedp.Run(ctx, chromedp.Steps(chromedp.Navigate(base+"/logs"), chromedp.WaitVisible(`main h1`)))
	if cur := eval[string](t, ctx, `document.querySelector('nav [aria-current=page]').textContent`); strings.TrimSpace(cur) != "Logs" {
		t.Errorf("current nav entry: %q", cur)
	}
}
