package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robo-backup/robo/internal/views"
)

// Live runs (docs/api.md, "Live runs"): the caller reports each run in
// progress with ReportProgress, and RecordRun ends it; pages and scripts
// follow them on one server-sent event stream each (GET /events,
// GET /api/events) or read a snapshot (GET /api/progress). Progress is
// known only for the runs of this process: robo ui's own runs, and every
// run of robo watch -listen.

// Progress is a run in progress.
type Progress struct {
	Set string `json:"set"`
	// Phase is planning, copying or finishing (hooks, verification and
	// the state); a "done" event ends the run.
	Phase   string    `json:"phase"`
	Started time.Time `json:"started"`
	// CopyingSince is when the engine began (the rate is counted from it).
	CopyingSince time.Time `json:"copying_since,omitzero"`
	Updated      time.Time `json:"updated"`
	// The file and byte counts of the copies the plan lists; deletions
	// and directories are not counted.
	FilesDone  int64 `json:"files_done"`
	FilesTotal int64 `json:"files_total"`
	BytesDone  int64 `json:"bytes_done"`
	BytesTotal int64 `json:"bytes_total"`
	Errors     int64 `json:"errors"`
	// BytesPerSecond is the average rate since copying began.
	BytesPerSecond float64 `json:"bytes_per_second"`
	// ETASeconds is the estimated time left; -1 when unknown.
	ETASeconds float64 `json:"eta_seconds"`
	// Fraction is the part done, 0 to 1 (bytes, else files).
	Fraction float64 `json:"fraction"`
	// Text is the line the dashboard shows.
	Text string `json:"text"`
}

// doneEvent ends a run on the stream.
type doneEvent struct {
	Set     string `json:"set"`
	Outcome string `json:"outcome"`
	Message string `json:"message,omitempty"`
	Text    string `json:"text"`
}

// Stream limits (docs/api.md, "Limits").
const (
	// MaxStreams caps the event streams open at once; more are refused
	// with 503, so that streams cannot take every connection.
	MaxStreams = 16
	// streamInterval is the least time between two writes of a stream.
	streamInterval = 250 * time.Millisecond
	// heartbeat is how often an idle stream sends a comment, and checks
	// that its session is still valid.
	heartbeat = 15 * time.Second
	doneRing  = 64
)

// hub holds the runs in progress and wakes the streams.
type hub struct {
	mu      sync.Mutex
	seq     uint64
	runs    map[string]*liveEntry
	done    []doneEntry // the last doneRing ends
	waiters map[chan struct{}]bool
	closed  chan struct{}
	streams atomic.Int32
}

type liveEntry struct {
	p   Progress
	seq uint64
}

type doneEntry struct {
	d   doneEvent
	seq uint64
}

func newHub() *hub {
	return &hub{runs: map[string]*liveEntry{}, waiters: map[chan struct{}]bool{}, closed: make(chan struct{})}
}

func (h *hub) wakeLocked() {
	for c := range h.waiters {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// ReportProgress records p as the current progress of its set's run and
// tells the streams. The fraction, rate, ETA and text are computed here.
func (s *Server) ReportProgress(p Progress) {
	if p.Updated.IsZero() {
		p.Updated = s.o.Now()
	}
	if p.Started.IsZero() {
		p.Started = p.Updated
	}
	finishProgress(&p)
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.runs[p.Set] = &liveEntry{p: p, seq: h.seq}
	h.wakeLocked()
}

// finishProgress fills in the derived fields.
func finishProgress(p *Progress) {
	p.Fraction = 0
	switch {
	case p.BytesTotal > 0:
		p.Fraction = float64(p.BytesDone) / float64(p.BytesTotal)
	case p.FilesTotal > 0:
		p.Fraction = float64(p.FilesDone) / float64(p.FilesTotal)
	case p.Phase == "finishing":
		p.Fraction = 1
	}
	p.Fraction = min(max(p.Fraction, 0), 1)
	p.ETASeconds = -1
	since := p.CopyingSince
	if since.IsZero() {
		since = p.Started
	}
	if el := p.Updated.Sub(since).Seconds(); el > 0 && p.BytesDone > 0 {
		p.BytesPerSecond = float64(int64(float64(p.BytesDone) / el))
		if p.Phase == "copying" {
			p.ETASeconds = float64(int64(float64(max(p.BytesTotal-p.BytesDone, 0)) / p.BytesPerSecond))
		}
	}
	t := p.Phase
	if p.Phase == "copying" || p.Phase == "finishing" {
		t += fmt.Sprintf(": %d/%d files, %s/%s", p.FilesDone, p.FilesTotal, views.Bytes(p.BytesDone), views.Bytes(p.BytesTotal))
		if p.BytesPerSecond > 0 {
			t += ", " + views.Bytes(int64(p.BytesPerSecond)) + "/s"
		}
		if p.ETASeconds >= 0 {
			t += ", ETA " + (time.Duration(p.ETASeconds) * time.Second).String()
		}
		if p.Errors > 0 {
			t += fmt.Sprintf(", %d failed", p.Errors)
		}
	}
	p.Text = t
}

// endProgress ends set's run on the streams (RecordRun calls it).
func (h *hub) end(r RunView) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.runs, r.Set)
	h.seq++
	text := "done: " + r.Outcome
	if r.Message != "" {
		text += ": " + r.Message
	}
	h.done = append(h.done, doneEntry{d: doneEvent{Set: r.Set, Outcome: r.Outcome, Message: r.Message, Text: text}, seq: h.seq})
	if len(h.done) > doneRing {
		h.done = append([]doneEntry(nil), h.done[len(h.done)-doneRing:]...)
	}
	h.wakeLocked()
}

// Seq is the number of the last change of the runs in progress: a page
// rendered now passes it to the stream (?since=) to miss no end.
func (s *Server) Seq() uint64 {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.hub.seq
}

// snapshot returns the runs in progress, by set name.
func (h *hub) snapshot() []Progress {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Progress, 0, len(h.runs))
	for _, e := range h.runs {
		out = append(out, e.p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Set < out[j].Set })
	return out
}

// progressOf returns set's run in progress, or nil.
func (h *hub) progressOf(set string) *Progress {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.runs[set]; e != nil {
		p := e.p
		return &p
	}
	return nil
}

// since returns what changed after seq, and the current seq.
func (h *hub) since(seq uint64) ([]Progress, []doneEvent, uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ps []Progress
	var ds []doneEvent
	for _, d := range h.done {
		if d.seq > seq {
			ds = append(ds, d.d)
		}
	}
	for _, e := range h.runs {
		if e.seq > seq {
			ps = append(ps, e.p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Set < ps[j].Set })
	return ps, ds, h.seq
}

func (h *hub) subscribe() chan struct{} {
	c := make(chan struct{}, 1)
	h.mu.Lock()
	h.waiters[c] = true
	h.mu.Unlock()
	return c
}

func (h *hub) unsubscribe(c chan struct{}) {
	h.mu.Lock()
	delete(h.waiters, c)
	h.mu.Unlock()
}

// CloseStreams ends every event stream (http.Server.Shutdown waits for
// active connections, and a stream never goes idle). startUI registers it
// with RegisterOnShutdown; Close calls it too.
func (s *Server) CloseStreams() {
	s.closeOnce.Do(func() { close(s.hub.closed) })
}

// events streams the runs in progress as server-sent events: "progress"
// (a Progress), "done" (set, outcome, message, text), and a comment every
// heartbeat. The first events are the runs in progress when it connects.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	api := r.URL.Path == "/api/events"
	h := s.hub
	if n := h.streams.Add(1); n > MaxStreams {
		h.streams.Add(-1)
		w.Header().Set("Retry-After", "10")
		s.fail(w, r, api, http.StatusServiceUnavailable, "too many event streams are open: try again later")
		return
	}
	defer h.streams.Add(-1)
	rc := http.NewResponseController(w)
	// The stream outlives the server's WriteTimeout: each write gets its
	// own deadline instead.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		s.fail(w, r, api, http.StatusInternalServerError, "this connection cannot stream")
		return
	}
	wake := h.subscribe()
	defer h.unsubscribe(wake)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(f func() error) bool {
		rc.SetWriteDeadline(time.Now().Add(WriteTimeout))
		if f() != nil || rc.Flush() != nil {
			return false
		}
		return true
	}
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		return err
	}
	var seq uint64
	sendID := func() error {
		_, err := fmt.Fprintf(w, "id: %d\n\n", seq)
		return err
	}
	push := func() bool {
		ps, ds, cur := h.since(seq)
		seq = cur
		return write(func() error {
			for _, d := range ds {
				if err := send("done", d); err != nil {
					return err
				}
			}
			for _, p := range ps {
				if err := send("progress", p); err != nil {
					return err
				}
			}
			return sendID()
		})
	}
	// First the runs in progress now, and the ends since the page was
	// rendered (?since=, the seq the page was rendered at) or since the
	// last event this client saw (Last-Event-ID, on a reconnect), so
	// that a run that ends while the page loads is not missed.
	from := r.URL.Query().Get("since")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		from = id
	}
	_, _, cur := h.since(^uint64(0))
	seq = cur
	var missed []doneEvent
	if n, err := strconv.ParseUint(from, 10, 64); err == nil && n <= cur {
		_, missed, _ = h.since(n)
	}
	snap := h.snapshot()
	if !write(func() error {
		if _, err := fmt.Fprintf(w, "retry: 3000\n\n"); err != nil {
			return err
		}
		for _, d := range missed {
			if err := send("done", d); err != nil {
				return err
			}
		}
		for _, p := range snap {
			if err := send("progress", p); err != nil {
				return err
			}
		}
		return sendID()
	}) {
		return
	}
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.closed:
			return
		case <-beat.C:
			// A session that ended (sign-out, expiry) ends its stream.
			if a, _ := s.authenticate(r); a != authOK {
				return
			}
			if !write(func() error { _, err := fmt.Fprintf(w, ": keep-alive\n\n"); return err }) {
				return
			}
		case <-wake:
			if !push() {
				return
			}
			// At most one write per streamInterval; what changes
			// meanwhile goes in the next.
			select {
			case <-time.After(streamInterval):
			case <-r.Context().Done():
				return
			case <-h.closed:
				return
			}
		}
	}
}

func (s *Server) apiProgress(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"runs": s.hub.snapshot()})
}

// streamCount is the number of open event streams (for tests).
func (s *Server) streamCount() int { return int(s.hub.streams.Load()) }
