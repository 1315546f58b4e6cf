package web

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
)

// nameBackend plans one set whose only change is a file named b\xff (not
// UTF-8), beside a file b\ufffd, and reports a run whose log name is not
// UTF-8 either.
type nameBackend struct{ fakeBackend }

func (*nameBackend) Sets() ([]SetView, error) {
	t := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	return []SetView{{Name: "docs", InConfig: true, Enabled: true, Health: "failing",
		LastRun: &RunView{Set: "docs", Started: t, Outcome: "partial", Message: "cannot copy b\xff", Log: "hook-docs-before-20261101T020000Z-\xff.log", Source: "log"}}}, nil
}

func (*nameBackend) Plan(context.Context) (*plan.Plan, error) {
	return &plan.Plan{Sets: []*plan.Set{{Name: "docs", Action: plan.Update, Source: "/src", Destination: "/dst",
		Changes: engine.ChangeListOf([]engine.Change{
			{Action: engine.Create, Kind: engine.KindFile, Phase: engine.PhaseCopy, Path: "b\xff", Src: &engine.Meta{Size: 1}},
			{Action: engine.Create, Kind: engine.KindFile, Phase: engine.PhaseCopy, Path: "b\ufffd", Src: &engine.Meta{Size: 1}},
		})}}}, nil
}

// Issue 13: the JSON API keeps names byte for byte (the plan files' rule,
// docs/plan-json.md "Names"): a log file name, a log line, a run's log and
// message, and a planned change's path that are not UTF-8 each come with a
// "_b64" twin that restores the exact bytes, and a name that is UTF-8 has
// none. A client can ask for such a log with the name percent-encoded.
func TestAPINamesByteForByte(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("names that are not UTF-8 cannot exist on Windows (UTF-16 names; their analogue, an unpaired surrogate, Wine cannot create)")
	}
	dir := t.TempDir()
	name := "hook-docs\xff-before-20261101T020000Z-1.log"
	line := "copied caf\xe9.txt" // a hook's output in Latin-1
	if err := os.WriteFile(filepath.Join(dir, name), []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Backend: &nameBackend{}, LogDir: dir, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, base: serve(t, s)}
	get := func(path string, v any) {
		t.Helper()
		code, body := c.do("GET", path, "", nil, nil)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}
	decode := func(field, plain, b64, want string) {
		t.Helper()
		got, err := engine.DecodeName(field, plain, b64)
		if err != nil || got != want {
			t.Errorf("%s: %q (b64 %q) decodes to %q, %v; want %q", field, plain, b64, got, err, want)
		}
	}

	var list struct {
		Logs []struct {
			File    string
			FileB64 string `json:"file_b64"`
		} `json:"logs"`
	}
	get("/api/logs", &list)
	if len(list.Logs) != 1 {
		t.Fatalf("logs: %+v", list)
	}
	decode("file", list.Logs[0].File, list.Logs[0].FileB64, name)

	var one struct {
		File struct {
			File    string
			FileB64 string `json:"file_b64"`
		}
		Lines []struct {
			Text    string
			TextB64 string `json:"text_b64"`
		}
	}
	get("/api/logs?file="+url.QueryEscape(name), &one)
	decode("file", one.File.File, one.File.FileB64, name)
	found := false
	for _, l := range one.Lines {
		if l.TextB64 != "" {
			decode("text", l.Text, l.TextB64, line)
			found = true
		} else if l.Text == engine.DisplayUTF8(line) {
			t.Errorf("line %q has no text_b64", l.Text)
		}
	}
	if !found {
		t.Errorf("the hook's line is missing: %+v", one.Lines)
	}

	var sets struct {
		Sets []struct {
			LastRun struct {
				Message    string
				MessageB64 string `json:"message_b64"`
				Log        string
				LogB64     string `json:"log_b64"`
			} `json:"last_run"`
		}
	}
	get("/api/sets", &sets)
	if len(sets.Sets) != 1 {
		t.Fatalf("sets: %+v", sets)
	}
	r := sets.Sets[0].LastRun
	decode("message", r.Message, r.MessageB64, "cannot copy b\xff")
	decode("log", r.Log, r.LogB64, "hook-docs-before-20261101T020000Z-\xff.log")

	var p struct {
		Sets []struct {
			Changes []struct {
				Path    string
				PathB64 string `json:"path_b64"`
			}
		}
	}
	get("/api/plan", &p)
	if len(p.Sets) != 1 || len(p.Sets[0].Changes) != 2 {
		t.Fatalf("plan: %+v", p)
	}
	ch := p.Sets[0].Changes
	decode("path", ch[0].Path, ch[0].PathB64, "b\xff")
	if ch[1].PathB64 != "" || ch[1].Path != "b\ufffd" {
		t.Errorf("a UTF-8 name got a twin: %+v", ch[1])
	}
}
