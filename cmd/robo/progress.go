package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

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
	// width is the terminal's width in columns (progressTerminal).
	width int
	mu    sync.Mutex // serializes writes to out
}

// barRedraw is the least time between two redraws of a terminal bar.
const barRedraw = 100 * time.Millisecond

// newProgress picks the mode for robo apply: JSON lines on stderr with
// -json, a bar when stdout is a terminal, else plain lines on stdout.
func newProgress(e *env, p *plan.Plan, jsonOut bool) *progress {
	pr := &progress{mode: progressPlain, out: e.stdout, plan: p, now: time.Now, interval: 5 * time.Second}
	switch {
	case jsonOut:
		pr.mode, pr.out, pr.interval = progressJSON, e.stderr, time.Second
	case isTerminal(e.stdout):
		pr.mode, pr.width = progressTerminal, 80
		if w, _, err := term.GetSize(int(e.stdout.(*os.File).Fd())); err == nil && w > 0 {
			pr.width = w
		}
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
		_ = s.Changes.Range(func(_ int, c *engine.Change) error {
			if counted(c) {
				sp.filesTotal++
				sp.bytesTotal += c.Size
			}
			return nil
		}) // a list that cannot be read fails the apply, not the progress

	}
	if p.mode == progressJSON {
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
	drawn                  time.Time // the last redraw of the terminal bar
	drawnLen               int       // and its length
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
		sp.draw(false)
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
		sp.draw(true)
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

// draw redraws the set's bar in place (a carriage return, the line, spaces
// over what is left of the longer previous line: no escape sequences, which
// a Windows console may not interpret), at most every barRedraw; the final
// draw ends the line, so that what robo prints next starts on a line of its
// own. A set with nothing to copy draws nothing.
func (sp *setProgress) draw(final bool) {
	if sp.filesTotal == 0 {
		return
	}
	now := sp.p.now()
	if !final && !sp.drawn.IsZero() && now.Sub(sp.drawn) < barRedraw {
		return
	}
	sp.drawn = now
	line := sp.barLine(sp.p.width)
	pad := strings.Repeat(" ", max(sp.drawnLen-len(line), 0))
	sp.drawnLen = len(line)
	end := ""
	if final {
		end = "\n"
	}
	sp.p.mu.Lock()
	defer sp.p.mu.Unlock()
	fmt.Fprint(sp.p.out, "\r"+line+pad+end)
}

// barLine is the terminal line, fitted to width columns (one is left free
// so that the cursor never wraps):
// "docs: 1200/5000 files, 310.0 MiB/1.2 GiB [=====>-----------]  25%, 45.0 MiB/s, ETA 20s".
func (sp *setProgress) barLine(width int) string {
	head := fmt.Sprintf("%s: %d/%d files, %s/%s", sp.set, sp.files, sp.filesTotal, iec(sp.bytes), iec(sp.bytesTotal))
	tail := fmt.Sprintf(", %s/s", iec(int64(sp.rate())))
	if eta := sp.eta(); eta >= 0 && sp.bytes < sp.bytesTotal {
		tail += ", ETA " + eta.Round(time.Second).String()
	}
	if sp.errors > 0 {
		tail += fmt.Sprintf(", %d failed", sp.errors)
	}
	frac := 1.0
	if sp.bytesTotal > 0 {
		frac = float64(sp.bytes) / float64(sp.bytesTotal)
	} else if sp.filesTotal > 0 {
		frac = float64(sp.files) / float64(sp.filesTotal)
	}
	frac = min(max(frac, 0), 1)
	pct := fmt.Sprintf(" %3d%%", int(frac*100))
	room := width - 1 - len(head) - len(tail) - len(pct) - 3
	bar := ""
	if n := min(room, 30); n >= 10 {
		done := int(frac * float64(n))
		arrow := ""
		if done < n {
			arrow = ">"
		}
		bar = " [" + strings.Repeat("=", done) + arrow + strings.Repeat("-", max(n-done-len(arrow), 0)) + "]"
	}
	line := head + bar + pct + tail
	if width > 1 && len(line) > width-1 {
		line = line[:width-1]
	}
	return line
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
