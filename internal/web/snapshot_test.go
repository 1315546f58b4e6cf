package web

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/runlog"
)

// TestRunsShowTheirSnapshot (issue 17): a run that read its source from a
// snapshot says so on the dashboard, on the set's page and in the API,
// whether the run is known from the state or only from its run log (a
// real native run log, as internal/runlog writes it); a live run says
// nothing of the kind.
func TestRunsShowTheirSnapshot(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	spec := engine.Spec{Name: "docs", Source: "/srv/docs", Destination: "/backup/docs", Mirror: true}
	write := func(started time.Time, snap *engine.SnapshotRef) {
		var buf bytes.Buffer
		l := runlog.New(&buf, engine.Job{Spec: spec}, runlog.Options{Now: func() time.Time { return started }})
		if err := l.Finish(&engine.Result{Snapshot: snap}, nil); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, runlog.FileName("docs", started)), buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(at.Add(-48*time.Hour), &engine.SnapshotRef{Kind: "btrfs", ID: "robo-20261128T020000Z-1a2b", Created: at.Add(-48 * time.Hour), Volume: "/srv", Source: "/srv/.robo-snapshots/robo-20261128T020000Z-1a2b/docs"})
	write(at.Add(-24*time.Hour), nil)
	last := &RunView{Set: "docs", Started: at, Duration: time.Second, Outcome: "success", FilesCopied: 2, Snapshot: "btrfs robo-20261130T020000Z-3c4d"}
	s, _ := New(Options{Backend: &fakeBackend{sets: []SetView{{Name: "docs", InConfig: true, Enabled: true, Health: "ok", LastRun: last}}}, LogDir: dir, Loopback: true})
	runs := s.History("docs", last)
	if len(runs) != 3 {
		t.Fatalf("%d runs: %+v", len(runs), runs)
	}
	for i, want := range []string{"btrfs robo-20261130T020000Z-3c4d", "", "btrfs robo-20261128T020000Z-1a2b"} {
		if runs[i].Snapshot != want {
			t.Errorf("run %d (%s, from %s): snapshot %q, want %q", i, runs[i].Started, runs[i].Source, runs[i].Snapshot, want)
		}
	}
	c := &client{t: t, base: serve(t, s)}
	_, page := c.do("GET", "/sets/docs", "", nil, nil)
	rows := regexp.MustCompile(`(?s)<tr class="run [a-z]+">.*?</tr>`).FindAllString(page, -1)
	if len(rows) != 3 || !strings.Contains(rows[0], "(from a snapshot: btrfs robo-20261130T020000Z-3c4d)") ||
		strings.Contains(rows[1], "snapshot") || !strings.Contains(rows[2], "(from a snapshot: btrfs robo-20261128T020000Z-1a2b)") {
		t.Errorf("set page rows:\n%s", strings.Join(rows, "\n"))
	}
	_, home := c.do("GET", "/", "", nil, nil)
	if !strings.Contains(home, `title="read from btrfs robo-20261130T020000Z-3c4d">snapshot</span>`) {
		t.Errorf("the dashboard does not say the last run read from a snapshot:\n%s", home)
	}
	_, api := c.do("GET", "/api/sets/docs/history", "", nil, nil)
	var doc struct {
		Runs []RunView `json:"runs"`
	}
	if err := json.Unmarshal([]byte(api), &doc); err != nil || len(doc.Runs) != 3 || doc.Runs[2].Snapshot != "btrfs robo-20261128T020000Z-1a2b" {
		t.Errorf("API history: %v %s", err, api)
	}
}
