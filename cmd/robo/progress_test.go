package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	cs := []engine.Change{{Action: engine.Create, Kind: engine.KindDir, Path: "d"}}
	for i := range n {
		cs = append(cs, engine.Change{Action: engine.Create, Kind: engine.KindFile, Path: fmt.Sprintf("d/f%d", i), Size: 1 << 20})
	}
	cs = append(cs, engine.Change{Action: engine.Delete, Kind: engine.KindFile, Path: "old", Size: 5})
	s.Changes = engine.ChangeListOf(cs)
	return &plan.Plan{Sets: []*plan.Set{s}}
}

// changeOf returns change i of the plan's first set.
func changeOf(p *plan.Plan, i int) *engine.Change { return &p.Sets[0].Changes.Slice()[i] }

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
	for i := range p.Sets[0].Changes.Slice() {
		c := changeOf(p, i)
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
	for i := range p.Sets[0].Changes.Slice() {
		rep.Report(engine.Event{Change: changeOf(p, i), Done: true})
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
	for i := range p.Sets[0].Changes.Slice() {
		c := changeOf(p, i)
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
				for i := w; i < p.Sets[0].Changes.Len(); i += 8 {
					c := changeOf(p, i)
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

// Issue 20: the terminal bar ran into the next line (no newline at the
// end), showed no bytes done/total and printed MB/s and kB/s. It redraws one
// line in place, ends it with a newline, shows files and bytes done/total,
// and uses binary units like every other robo output.
func TestProgressTerminalBar(t *testing.T) {
	p := progressPlan(4)
	pr, buf := testProgress(progressTerminal, p, 0)
	pr.width = 100
	rep := pr.forSet("docs")
	for i := range p.Sets[0].Changes.Slice() {
		c := changeOf(p, i)
		rep.Report(engine.Event{Change: c, Bytes: c.Size, Done: true})
	}
	rep.(apply.Finisher).Finish(&engine.Result{}, nil)
	out := buf.String()
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("the bar must end with exactly one newline: %q", out)
	}
	draws := strings.Split(strings.TrimSuffix(out, "\n"), "\r")[1:]
	if len(draws) < 2 {
		t.Fatalf("want several redraws, got %q", out)
	}
	first, last := draws[0], strings.TrimRight(draws[len(draws)-1], " ")
	if !strings.HasPrefix(first, "docs: 1/4 files, 1.0 MiB/4.0 MiB [=======>") || !strings.Contains(first, "]  25%, ") || !strings.Contains(first, "ETA ") {
		t.Errorf("first draw %q", first)
	}
	if !strings.HasPrefix(last, "docs: 4/4 files, 4.0 MiB/4.0 MiB [==============================] 100%, ") || !strings.HasSuffix(last, "iB/s") {
		t.Errorf("last draw %q", last)
	}
	for _, d := range draws {
		if len(d) > pr.width-1 {
			t.Errorf("a draw of %d columns in a %d-column terminal wraps: %q", len(d), pr.width, d)
		}
	}
	for _, si := range []string{"MB", "kB", "\x1b"} {
		if strings.Contains(out, si) {
			t.Errorf("the bar holds %q: %q", si, out)
		}
	}
	// A narrow terminal drops the bar, then cuts the line; it never wraps.
	for _, w := range []int{60, 30} {
		line := rep.(*setProgress).barLine(w)
		if len(line) > w-1 || strings.Contains(line, "[") {
			t.Errorf("width %d: %q", w, line)
		}
	}
}

// The bar in a real terminal (tmux): robo apply's last screen has the bar's
// final state on a line of its own, then the result lines.
func TestProgressBarInTerminal(t *testing.T) {
	base := t.TempDir()
	conf, src := filepath.Join(base, "conf"), filepath.Join(base, "src")
	os.MkdirAll(conf, 0o755)
	os.MkdirAll(src, 0o755)
	for i := range 16 {
		os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d.bin", i)), bytes.Repeat([]byte{byte(i)}, 64<<10), 0o644)
	}
	os.WriteFile(filepath.Join(conf, "robo.hcl"), []byte("backup \"docs\" {\n  source = \"../src\"\n  destination = \"../dst\"\n}\n"), 0o644)
	robo, err := exec.LookPath("robo")
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{150, 50} {
		os.RemoveAll(filepath.Join(base, "dst"))
		os.RemoveAll(filepath.Join(conf, ".robo"))
		// The exit status goes to a file: tmux 3.3a does not always record
		// a pane's dead status for a program that ends within milliseconds.
		status := filepath.Join(base, fmt.Sprintf("status-%d", width))
		s := startTmux(t, base, width, 60, "sh", "-c", `"$0" "$@"; echo $? >`+status+".tmp; mv "+status+".tmp "+status, robo, "-chdir", conf, "apply", "-auto-approve")
		s.waitFor("robo apply to exit", func(string) bool { _, err := os.Stat(status); return err == nil && s.exited() })
		if b, _ := os.ReadFile(status); strings.TrimSpace(string(b)) != "0" {
			st := strings.TrimSpace(string(b))
			t.Fatalf("robo apply exited %s:\n%s", st, s.screen())
		}
		var lines []string
		for _, l := range strings.Split(s.screen(), "\n") {
			if l = strings.TrimRight(l, " "); l != "" && !strings.HasPrefix(l, "Pane is dead") {
				lines = append(lines, l)
			}
		}
		if len(lines) < 3 {
			t.Fatalf("width %d: screen:\n%s", width, strings.Join(lines, "\n"))
		}
		bar, result, summary := lines[len(lines)-3], lines[len(lines)-2], lines[len(lines)-1]
		want := "docs: 16/16 files, 1.0 MiB/1.0 MiB"
		if !strings.HasPrefix(bar, want) || len(bar) > width-1 {
			t.Errorf("width %d: the bar's last line %q, want %q... within %d columns", width, bar, want, width-1)
		}
		if width == 150 && (!strings.Contains(bar, " [==============================] 100%, ") || !strings.HasSuffix(bar, "/s")) {
			t.Errorf("width %d: the bar's last line %q lacks the full bar, 100%% and the rate", width, bar)
		}
		if !strings.HasPrefix(result, "docs: success (16 files copied, 1.0 MiB;") {
			t.Errorf("width %d: the result line %q does not start a line of its own", width, result)
		}
		if summary != "Apply complete: 1 succeeded, 0 partial, 0 refused, 0 failed." {
			t.Errorf("width %d: last line %q", width, summary)
		}
		for _, l := range lines {
			if strings.Contains(l, "MB/s") || strings.Contains(l, "kB/s") || strings.Contains(l, " MB") {
				t.Errorf("width %d: a decimal unit: %q", width, l)
			}
		}
	}
}
