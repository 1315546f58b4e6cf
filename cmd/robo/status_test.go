package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/state"
)

// statusFixture writes a configuration with one set per health value and
// a state file recording their runs relative to now.
func statusFixture(t *testing.T) string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "conf")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	var hcl strings.Builder
	for _, b := range []struct{ name, extra string }{
		{"good", `alert_after = "26h"`},
		{"broken", `alert_after = "26h"`},
		{"old", `alert_after = "1h"`},
		{"nightly", `schedule = "0 2 * * *"`},
		{"fresh", `alert_after = "1h"`},
		{"off", "enabled = false\n  alert_after = \"1h\""},
	} {
		hcl.WriteString("backup \"" + b.name + "\" {\n  source = \"../src/" + b.name + "\"\n  destination = \"../dst/" + b.name + "\"\n  " + b.extra + "\n}\n\n")
	}
	if err := os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(hcl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ago := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
	rec := func(outcome string, runAgo, successAgo time.Duration) *state.Set {
		s := &state.Set{LastRun: &state.Run{Started: now.Add(-runAgo), Duration: 1500 * time.Millisecond, Outcome: outcome, FilesCopied: 3, BytesCopied: 2048}}
		if successAgo > 0 {
			s.LastSuccess = ago(successAgo)
		}
		return s
	}
	st := state.New()
	st.Sets["good"] = rec(state.Success, time.Hour, time.Hour)
	st.Sets["broken"] = rec(state.Failed, time.Hour, 3*time.Hour)
	st.Sets["broken"].LastRun.Message = "destination unreachable"
	st.Sets["old"] = rec(state.Success, 5*time.Hour, 5*time.Hour)
	st.Sets["nightly"] = rec(state.Success, 80*time.Hour, 80*time.Hour)
	st.Sets["off"] = rec(state.Failed, 90*time.Hour, 100*time.Hour)
	st.Sets["gone"] = rec(state.Success, 2*time.Hour, 2*time.Hour)
	if err := (&state.Store{Path: filepath.Join(conf, ".robo", "state.json")}).Write(st); err != nil {
		t.Fatal(err)
	}
	return conf
}

func TestStatusJSON(t *testing.T) {
	conf := statusFixture(t)
	e, out, stderr := testEnv("", false)
	if code := run([]string{"-chdir", conf, "status", "-json"}, e); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		FormatVersion any `json:"format_version"`
		Watch         struct {
			Running bool `json:"running"`
		} `json:"watch"`
		Sets []struct {
			Name       string         `json:"name"`
			InConfig   bool           `json:"in_config"`
			Health     string         `json:"health"`
			NextRun    *time.Time     `json:"next_run"`
			StaleAfter time.Duration  `json:"stale_after_ns"`
			StaleRule  string         `json:"stale_rule"`
			LastRun    map[string]any `json:"last_run"`
		} `json:"sets"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.FormatVersion != "1" || doc.Watch.Running {
		t.Errorf("format_version %#v (want the string \"1\", as in every JSON document), watch running %v", doc.FormatVersion, doc.Watch.Running)
	}
	got := map[string]string{}
	var names []string
	for _, s := range doc.Sets {
		names = append(names, s.Name)
		got[s.Name] = s.Health
		if s.InConfig == (s.Name == "gone") {
			t.Errorf("%s: in_config %v", s.Name, s.InConfig)
		}
		switch s.Name {
		case "nightly":
			if s.NextRun == nil || !s.NextRun.After(time.Now()) || s.NextRun.After(time.Now().Add(25*time.Hour)) {
				t.Errorf("nightly next_run %v, want within the next day", s.NextRun)
			}
			if s.StaleAfter < 46*time.Hour || s.StaleRule != "two schedule periods" {
				t.Errorf("nightly stale after %s (%s), want two days (two schedule periods)", s.StaleAfter, s.StaleRule)
			}
		case "broken":
			if s.LastRun["outcome"] != "failed" || s.LastRun["message"] != "destination unreachable" || s.LastRun["files_copied"] != 3.0 {
				t.Errorf("broken last_run %v", s.LastRun)
			}
		case "good":
			if s.NextRun != nil || s.StaleRule != "alert_after" || s.StaleAfter != 26*time.Hour {
				t.Errorf("good: next %v, stale after %s (%s)", s.NextRun, s.StaleAfter, s.StaleRule)
			}
		}
	}
	if want := "broken fresh good nightly off old gone"; strings.Join(names, " ") != want {
		t.Errorf("sets %s, want %s", strings.Join(names, " "), want)
	}
	want := map[string]string{"good": "ok", "broken": "failing", "old": "stale", "nightly": "stale", "fresh": "never", "off": "disabled", "gone": "ok"}
	for n, h := range want {
		if got[n] != h {
			t.Errorf("%s: health %q, want %q", n, got[n], h)
		}
	}
}

func TestStatusTableAndDetailedExitCode(t *testing.T) {
	conf := statusFixture(t)
	e, out, stderr := testEnv("", false)
	if code := run([]string{"-chdir", conf, "status"}, e); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	text := out.String()
	for _, want := range []string{
		"robo watch is not running on this configuration.",
		"SET      HEALTH    LAST RUN",
		"gone     ok", "not in config",
		"old      stale", "no success within 1h",
		"nightly  stale", "no success within 48h",
		"fresh    never     never",
		"off      disabled",
		"broken   failing", "failed",
		"2.0 KiB",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	e, _, _ = testEnv("", false)
	if code := run([]string{"-chdir", conf, "status", "-detailed-exitcode"}, e); code != exitUnhealthy {
		t.Errorf("-detailed-exitcode: exit %d, want 2", code)
	}

	// Healthy sets only: exit 0 with -detailed-exitcode.
	st := &state.Store{Path: filepath.Join(conf, ".robo", "state.json")}
	s, err := st.Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"broken", "old", "nightly"} {
		delete(s.Sets, n)
	}
	if err := st.Write(s); err != nil {
		t.Fatal(err)
	}
	e, out, _ = testEnv("", false)
	if code := run([]string{"-chdir", conf, "status", "-detailed-exitcode"}, e); code != exitOK {
		t.Errorf("-detailed-exitcode with healthy sets: exit %d, want 0\n%s", code, out)
	}
}

// TestNotifyStaleWebhook checks robo watch's stale callback: a stale event
// to the notify blocks whose on list names "stale", and only to those.
func TestNotifyStaleWebhook(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.URL.Path+" "+string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	conf, _ := testConfig(t)
	hcl := "notify \"ops\" {\n  url = \"" + hook.URL + "/ops\"\n  on = [\"stale\"]\n}\n\nnotify \"fail\" {\n  url = \"" + hook.URL + "/fail\"\n}\n"
	if err := os.WriteFile(filepath.Join(conf, "notify.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _, stderr := testEnv("", false)
	e.dir = conf
	cfg, err := loadConfig(e, varFlags{})
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	last := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	e.notifyStale(context.Background(), cfg, "docs", last, hclog.NewNullLogger())
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || !strings.HasPrefix(bodies[0], "/ops ") || !strings.Contains(bodies[0], `"event":"stale"`) ||
		!strings.Contains(bodies[0], `"last_success":"2026-11-20T02:00:00Z"`) {
		t.Fatalf("webhook bodies %q, want one stale event to ops", bodies)
	}
}
