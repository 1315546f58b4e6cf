package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
)

// progressPlan is a plan with one set "docs" of n files of 1 MiB each, a
// directory and a deletion (neither counts toward the totals).
func progressPlan(n int) *plan.Plan {
	s := &plan.Set{Name: "docs", Action: plan.Update}
	s.Changes = append(s.Changes, engine.Change{Action: engine.Create, Kind: engine.KindDir, Path: "d"})
	for i := range n {
		s.Changes = append(s.Changes, engine.Change{Action: engine.Create, Kind: engine.KindFile, Path: fmt.Sprintf("d/f%d", i), Size: 1 << 20})
	}
	s.Changes = append(s.Changes, engine.Change{Action: engine.Delete, Kind: engine.KindFile, Path: "old", Size: 5})
	return &plan.Plan{Sets: []*plan.Set{s}}
}

// testProgress reports with a clock that advances one second per call.
func testProgress(mode progressMode, p *plan.Plan, interval time.Duration) (*progress, *bytes.Buffer) {
	var buf bytes.Buffer
	t := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
	return &progress{mode: mode, out: &buf, plan: p, now: now, interval: interval}, &buf
}

func TestProgressPlain(t *testing.T) {
	p := progressPlan(4)
	pr, buf := testProgress(progressPlain, p, 2*time.Second)
	rep := pr.forSet("docs")
	for i := range p.Sets[0].Changes {
		c := &p.Sets[0].Changes[i]
		ev := engine.Event{Change: c, Bytes: c.Size, Done: true}
		if c.Path == "d/f2" {
			ev = engine.Event{Change: c, Done: true, Err: errors.New("denied")}
		}
		rep.Report(ev)
	}
	rep.(apply.Finisher).Finish(&engine.Result{}, nil)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("want progress lines and a done line, got %q", buf.String())
	}
	if want := "docs: 2/4 files, 2.0 MiB/4.0 MiB, "; !strings.HasPrefix(lines[0], want) || !strings.Contains(lines[0], "/s, ETA ") {
		t.Errorf("first line %q, want prefix %q with a rate and an ETA", lines[0], want)
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "docs: 4/4 files, 4.0 MiB/4.0 MiB, ") || !strings.HasSuffix(last, ", 1 failed (done)") {
		t.Errorf("last line %q", last)
	}
}

func TestProgressPlainQuietWhenQuick(t *testing.T) {
	p := progressPlan(3)
	pr, buf := testProgress(progressPlain, p, time.Hour)
	rep := pr.forSet("docs")
	for i := range p.Sets[0].Changes {
		rep.Report(engine.Event{Change: &p.Sets[0].Changes[i], Done: true})
	}
	rep.(apply.Finisher).Finish(&engine.Result{}, nil)
	if buf.Len() != 0 {
		t.Errorf("a quick set printed %q", buf.String())
	}
}

func TestProgressJSON(t *testing.T) {
	p := progressPlan(3)
	pr, buf := testProgress(progressJSON, p, 0)
	rep := pr.forSet("docs")
	for i := range p.Sets[0].Changes {
		c := &p.Sets[0].Changes[i]
		rep.Report(engine.Event{Change: c, Bytes: c.Size, Done: true})
	}
	rep.(apply.Finisher).Finish(nil, errors.New("destination gone"))
	var evs []progressEvent
	sc := bufio.NewScanner(buf)
	for sc.Scan() {
		var ev progressEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	if len(evs) != 5 {
		t.Fatalf("want set_started, 3 progress and set_done, got %d: %+v", len(evs), evs)
	}
	if evs[0].Type != "set_started" || evs[0].FilesTotal != 3 || evs[0].BytesTotal != 3<<20 || evs[0].ETASec != -1 {
		t.Errorf("first event %+v", evs[0])
	}
	if e := evs[2]; e.Type != "progress" || e.FilesDone != 2 || e.BytesDone != 2<<20 || e.BytesPerSec <= 0 || e.ETASec <= 0 {
		t.Errorf("progress event %+v", e)
	}
	if e := evs[4]; e.Type != "set_done" || e.FilesDone != 3 || e.Error != "destination gone" || e.Set != "docs" {
		t.Errorf("last event %+v", e)
	}
}

// TestProgressConcurrent reports from many goroutines, as the native
// engine's workers do (run with -race).
func TestProgressConcurrent(t *testing.T) {
	for _, mode := range []progressMode{progressPlain, progressJSON, progressTerminal} {
		p := progressPlan(400)
		pr, buf := testProgress(mode, p, 0)
		rep := pr.forSet("docs")
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(p.Sets[0].Changes); i += 8 {
					c := &p.Sets[0].Changes[i]
					rep.Report(engine.Event{Change: c, Bytes: c.Size, Done: true})
				}
			}()
		}
		wg.Wait()
		rep.(apply.Finisher).Finish(&engine.Result{}, nil)
		sp := rep.(*setProgress)
		if sp.files != 400 || sp.bytes != 400<<20 {
			t.Errorf("mode %d: counted %d files, %d bytes", mode, sp.files, sp.bytes)
		}
		if mode == progressJSON {
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if !json.Valid([]byte(l)) {
					t.Fatalf("invalid JSON line %q", l)
				}
			}
		}
	}
}

func TestIEC(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 310 << 20: "310.0 MiB", 1288490189: "1.2 GiB"} {
		if got := iec(n); got != want {
			t.Errorf("iec(%d) = %q, want %q", n, got, want)
		}
	}
}
