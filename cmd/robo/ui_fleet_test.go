package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// uiServeFleet serves the dashboard of conf with the dashboard flags uf
// (listen is set here) and returns a GET function on it.
func uiServeFleet(t *testing.T, conf string, uf uiFlags) func(path string) (int, string) {
	t.Helper()
	e, _, _ := testEnv("", false)
	ctx, cancel := context.WithCancel(context.Background())
	e.ctx, e.dir = ctx, conf
	cfg, err := loadConfig(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := newUIBackend(e, cfg, nil)
	uf.listen = "127.0.0.1:0"
	srv, addr, stop, err := startUI(e, cfg, uf, b, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	b.srv = srv
	t.Cleanup(func() { stop(); cancel(); b.wait() })
	return func(path string) (int, string) {
		resp, err := http.Get("http://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
}

// TestUIFleetPage: a real report written by robo apply, plus a failing
// host, a stale host and an invalid report in the same folder, shown on
// /fleet and /api/fleet by robo ui -fleet DIR, and by default from the
// configuration's report { path }.
func TestUIFleetPage(t *testing.T) {
	root := t.TempDir()
	conf, plain, reports := filepath.Join(root, "conf"), filepath.Join(root, "plain"), filepath.Join(root, "reports")
	for _, d := range []string{filepath.Join(root, "src"), conf, plain} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(root, "src", "a.txt"), []byte("hello"), 0o644)
	set := `backup "docs" {
  source      = "../src"
  destination = "../dst"
  schedule    = "0 2 * * *"
}
`
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte("report {\n  path = \"../reports\"\n  host = \"pc-0001\"\n}\n"+set), 0o644)
	os.WriteFile(filepath.Join(plain, "main.hcl"), []byte(set), 0o644)
	e, _, errb := testEnv("", false)
	if code := run([]string{"-chdir", conf, "apply", "-auto-approve"}, e); code != 0 {
		t.Fatalf("apply: %s", errb)
	}
	b, err := os.ReadFile(filepath.Join(reports, "pc-0001.json"))
	if err != nil {
		t.Fatal(err)
	}
	// pc-0002: its run failed, with a hostile message.
	failing := strings.Replace(strings.Replace(string(b), "pc-0001", "pc-0002", 1), `"outcome": "success"`, `"outcome": "failed", "message": "\u001b[2J\rall good"`, 1)
	// pc-0003: its report is years old and its next run long past.
	var rep map[string]any
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	rep["host"], rep["generated_at"] = "pc-0003", "2020-01-01T00:00:00Z"
	sets := rep["sets"].([]any)
	sets[0].(map[string]any)["next_run"] = "2020-01-01T02:00:00Z"
	stale, _ := json.Marshal(rep)
	for name, data := range map[string]string{"pc-0002.json": failing, "pc-0003.json": string(stale), "pc-0004.json": "{not json"} {
		if err := os.WriteFile(filepath.Join(reports, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantStates := map[string]string{"pc-0001": "ok", "pc-0002": "failing", "pc-0003": "stale", "pc-0004": "invalid"}

	get := uiServeFleet(t, plain, uiFlags{fleet: reports})
	code, page := get("/fleet")
	if code != 200 {
		t.Fatalf("/fleet: %d\n%s", code, page)
	}
	for host, state := range wantStates {
		if !strings.Contains(page, `data-host="`+host+`" data-state="`+state+`"`) {
			t.Errorf("/fleet: %s is not %s\n%s", host, state, page)
		}
	}
	if !strings.Contains(page, "4 hosts:") || !strings.Contains(page, `\x1b[2J\rall good`) || strings.Contains(page, "\x1b") {
		t.Errorf("/fleet counts or escaping:\n%s", page)
	}
	if i, j := strings.Index(page, `data-state="invalid"`), strings.Index(page, `data-state="ok"`); i < 0 || j < i {
		t.Error("/fleet: the problems are not first")
	}
	code, body := get("/api/fleet")
	var doc struct {
		FormatVersion string `json:"format_version"`
		Path          string `json:"path"`
		Hosts         []struct{ Host, State string }
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || code != 200 || doc.FormatVersion != "1" || doc.Path != reports || len(doc.Hosts) != 4 {
		t.Fatalf("/api/fleet: %d %v\n%s", code, err, body)
	}
	for _, h := range doc.Hosts {
		if wantStates[h.Host] != h.State {
			t.Errorf("/api/fleet: %s is %s", h.Host, h.State)
		}
	}
	notHeldOpen(t, reports)

	// The configuration's report { path } is the default.
	get = uiServeFleet(t, conf, uiFlags{})
	if code, page := get("/fleet"); code != 200 || !strings.Contains(page, `data-host="pc-0002" data-state="failing"`) {
		t.Errorf("/fleet from report { path }: %d\n%s", code, page)
	}
	// Neither: no Fleet page.
	get = uiServeFleet(t, plain, uiFlags{})
	if code, _ := get("/fleet"); code != 404 {
		t.Errorf("/fleet without a fleet folder: %d", code)
	}
	if _, home := get("/"); strings.Contains(home, `href="/fleet"`) {
		t.Error("the navigation has a Fleet entry without a fleet folder")
	}
}
