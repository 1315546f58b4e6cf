package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
)

// Progress of robo apply (docs/monitoring.md, "Progress"): a bar per set on
// a terminal; plain lines every few seconds when stdout is not a terminal;
// JSON lines on stderr with -json, so that the final document on stdout
// stays one valid JSON value.

type progressMode int

const (
	progressPlain progressMode = iota
	progressTerminal
	progressJSON
)

// progress makes the per-set reporters of one apply.
type progress struct {
	mode progressMode
	out  io.Writer
	plan *plan.Plan
	now  func() time.Time
	// interval is the least time between two plain lines or two JSON
	// progress events of a set.
	interval time.Duration
	mu       sync.Mutex // serializes writes to out
}

// newProgress picks the mode for robo apply: JSON lines on stderr with
// -json, a bar when stdout is a terminal, else plain lines on stdout.
func newProgress(e *env, p *plan.Plan, jsonOut bool) *progress {
	pr := &progress{mode: progressPlain, out: e.stdout, plan: p, now: time.Now, interval: 5 * time.Second}
	switch {
	case jsonOut:
		pr.mode, pr.out, pr.interval = progressJSON, e.stderr, time.Second
	case isTerminal(e.stdout):
		pr.mode = progressTerminal
	}
	return pr
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// forSet is apply.Options.Progress.
func (p *progress) forSet(set string) engine.Reporter {
	sp := &setProgress{p: p, set: set, started: p.now()}
	sp.last = sp.started
	if s := p.plan.Set(set); s != nil {
		for _, c := range s.Changes {
			if counted(&c) {
				sp.filesTotal++
				sp.bytesTotal += c.Size
			}
		}
	}
	switch p.mode {
	case progressTerminal:
		if sp.filesTotal > 0 {
			sp.bar = progressbar.NewOptions64(sp.bytesTotal,
				progressbar.OptionSetWriter(p.out),
				progressbar.OptionSetDescription(sp.describe()),
				progressbar.OptionShowBytes(true),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetWidth(30),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.out) }))
		}
	case progressJSON:
		p.emit(sp.event("set_started"))
	}
	return sp
}

// counted says whether a change counts toward the file and byte totals:
// the file (and link) copies, the work that takes time.
func counted(c *engine.Change) bool {
	return c.Kind != engine.KindDir && c.Action != engine.Delete
}

// setProgress is one set's reporter. Report is called from the engine's
// worker goroutines.
type setProgress struct {
	p   *progress
	set string

	mu                     sync.Mutex
	filesTotal, bytesTotal int64
	files, bytes           int64
	errors, skipped        int64
	started, last          time.Time
	printed                bool
	bar                    *progressbar.ProgressBar
}

// Report implements engine.Reporter.
func (sp *setProgress) Report(ev engine.Event) {
	if !ev.Done || ev.Change == nil {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	switch {
	case ev.Err != nil:
		sp.errors++
	case ev.Skip != "":
		sp.skipped++
	}
	if !counted(ev.Change) {
		return
	}
	sp.files++
	sp.bytes += ev.Change.Size
	switch sp.p.mode {
	case progressTerminal:
		if sp.bar != nil {
			sp.bar.Describe(sp.describe())
			_ = sp.bar.Add64(ev.Change.Size)
		}
	case progressPlain, progressJSON:
		now := sp.p.now()
		if now.Sub(sp.last) < sp.p.interval {
			return
		}
		sp.last, sp.printed = now, true
		if sp.p.mode == progressJSON {
			sp.p.emit(sp.event("progress"))
		} else {
			sp.p.println(sp.line())
		}
	}
}

// Finish implements apply.Finisher.
func (sp *setProgress) Finish(res *engine.Result, err error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	switch sp.p.mode {
	case progressTerminal:
		if sp.bar != nil {
			sp.bar.Describe(sp.describe())
			_ = sp.bar.Finish()
		}
	case progressJSON:
		ev := sp.event("set_done")
		if err != nil {
			ev.Error = err.Error()
		}
		sp.p.emit(ev)
	case progressPlain:
		// Quick sets print nothing: the apply summary follows. A set
		// that printed progress says that it ended.
		if sp.printed {
			sp.p.println(sp.line() + " (done)")
		}
	}
}

func (sp *setProgress) describe() string {
	return fmt.Sprintf("%s: %d/%d files", sp.set, sp.files, sp.filesTotal)
}

func (sp *setProgress) rate() float64 {
	el := sp.p.now().Sub(sp.started).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(sp.bytes) / el
}

// eta is the time left at the current rate; -1 when unknown.
func (sp *setProgress) eta() time.Duration {
	r := sp.rate()
	if r <= 0 {
		return -1
	}
	return time.Duration(float64(sp.bytesTotal-sp.bytes) / r * float64(time.Second))
}

// line is the plain progress line:
// "docs: 1200/5000 files, 310.0 MiB/1.2 GiB, 45.0 MiB/s, ETA 1m20s".
func (sp *setProgress) line() string {
	s := fmt.Sprintf("%s: %d/%d files, %s/%s, %s/s", sp.set, sp.files, sp.filesTotal, iec(sp.bytes), iec(sp.bytesTotal), iec(int64(sp.rate())))
	if eta := sp.eta(); eta >= 0 && sp.bytes < sp.bytesTotal {
		s += ", ETA " + eta.Round(time.Second).String()
	}
	if sp.errors > 0 {
		s += fmt.Sprintf(", %d failed", sp.errors)
	}
	return s
}

// progressEvent is one JSON progress line on stderr.
type progressEvent struct {
	Type        string  `json:"type"` // set_started, progress, set_done
	Set         string  `json:"set"`
	Time        string  `json:"time"`
	FilesDone   int64   `json:"files_done"`
	FilesTotal  int64   `json:"files_total"`
	BytesDone   int64   `json:"bytes_done"`
	BytesTotal  int64   `json:"bytes_total"`
	Errors      int64   `json:"errors"`
	Skipped     int64   `json:"skipped"`
	ElapsedSec  float64 `json:"elapsed_seconds"`
	BytesPerSec float64 `json:"bytes_per_second"`
	// ETASec is the estimated time left; -1 when unknown.
	ETASec float64 `json:"eta_seconds"`
	Error  string  `json:"error,omitempty"`
}

func (sp *setProgress) event(typ string) progressEvent {
	now := sp.p.now()
	eta := -1.0
	if d := sp.eta(); d >= 0 {
		eta = d.Round(time.Second).Seconds()
	}
	return progressEvent{Type: typ, Set: sp.set, Time: now.UTC().Format(time.RFC3339), FilesDone: sp.files, FilesTotal: sp.filesTotal,
		BytesDone: sp.bytes, BytesTotal: sp.bytesTotal, Errors: sp.errors, Skipped: sp.skipped,
		ElapsedSec: now.Sub(sp.started).Round(time.Millisecond).Seconds(), BytesPerSec: float64(int64(sp.rate())), ETASec: eta}
}

func (p *progress) emit(ev progressEvent) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	p.println(string(b))
}

func (p *progress) println(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.out, s)
}

// iec formats a byte count with binary units: "310.0 MiB".
func iec(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n)/1024, "KiB"
	for _, next := range []string{"MiB", "GiB", "TiB", "PiB"} {
		if v < 1024 {
			break
		}
		v, u = v/1024, next
	}
	return fmt.Sprintf("%.1f %s", v, u)
}
