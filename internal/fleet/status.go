package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/robo-backup/robo/internal/safetext"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/semver"

	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/watch"
	"github.com/robo-backup/robo/schema"
)

// MaxReportSize is the largest report file read; a larger one is invalid.
// A host with a thousand sets writes about 600 KiB.
const MaxReportSize = 1 << 20

// MaxSets is the most sets a report may list.
const MaxSets = 2000

// State is a host's state in a fleet, worst first.
type State string

// The states. A host has exactly one; OldVersion is reported beside it.
const (
	// Invalid: the report cannot be read or is not a valid report.
	Invalid State = "invalid"
	// Stale: the host should have written a newer report by now (a set's
	// scheduled run plus the margin has passed), or a set had no success
	// within its stale limit.
	Stale State = "stale"
	// Failing: a set's last run did not succeed.
	Failing State = "failing"
	// OK: every enabled set's last run succeeded, or it has not run yet
	// and is not due.
	OK State = "ok"
)

// Host is one report file, read and judged.
type Host struct {
	// File is the report's file name in the folder, as listed.
	File string `json:"file"`
	// Host is the host name (the file name without .json).
	Host  string `json:"host"`
	State State  `json:"state"`
	// Reasons say why the state is not ok: "set docs: failed: ...",
	// "set docs: run due at ... not reported", "report: ...".
	Reasons []string `json:"reasons,omitempty"`
	// OldVersion is set when the host runs an older robo than the newest
	// in the folder (or than Options.MinVersion).
	OldVersion bool `json:"old_version,omitempty"`
	// Report is the report as read (nil when invalid).
	Report *Report `json:"report,omitempty"`
}

// Status is a report folder, read and judged at Time.
type Status struct {
	Time time.Time `json:"time"`
	// Newest is the newest robo version among the valid reports (or
	// Options.MinVersion when given).
	Newest string `json:"newest_version,omitempty"`
	Hosts  []Host `json:"hosts"`
	Counts Counts `json:"counts"`
	// Ignored lists directory entries that are not reports (other names,
	// directories); temporary files of writers are skipped silently.
	Ignored []string `json:"ignored,omitempty"`
}

// Counts count hosts by State, and those on an old version.
type Counts struct {
	Hosts      int `json:"hosts"`
	OK         int `json:"ok"`
	Failing    int `json:"failing"`
	Stale      int `json:"stale"`
	Invalid    int `json:"invalid"`
	OldVersion int `json:"old_version"`
}

// Healthy reports whether every host is ok (an old version counts only
// when a minimum version was asked for: onlyOld).
func (c Counts) Healthy(countOld bool) bool {
	return c.Failing == 0 && c.Stale == 0 && c.Invalid == 0 && (!countOld || c.OldVersion == 0)
}

// Options tune Read.
type Options struct {
	// Now is the time the reports are judged at.
	Now time.Time
	// Margin is how long after a set's scheduled run (plus the duration of
	// its last run) its report may arrive before the host is stale
	// (default DefaultMargin).
	Margin time.Duration
	// MinVersion marks hosts below it as on an old version; "" means the
	// newest version in the folder.
	MinVersion string
	// Parallel is how many reports are read at once (default 16).
	Parallel int
}

// DefaultMargin is Options.Margin's default.
const DefaultMargin = time.Hour

// Read lists directory dir of fsys and reads and judges every HOST.json in
// it. Hosts are sorted by name. An error is returned only when the folder
// cannot be listed; a report that cannot be read makes its host Invalid.
func Read(ctx context.Context, fsys vfs.FS, dir string, o Options) (*Status, error) {
	if o.Margin <= 0 {
		o.Margin = DefaultMargin
	}
	if o.Parallel <= 0 {
		o.Parallel = 16
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", display(fsys, dir), err)
	}
	st := &Status{Time: o.Now.UTC(), Hosts: []Host{}}
	var todo []vfs.Entry
	seen := map[string]string{} // lower-cased host -> file
	for _, e := range ents {
		switch {
		case strings.HasPrefix(e.Name, "."):
			continue // a writer's temporary file, or hidden
		case e.Kind != vfs.File || !strings.HasSuffix(e.Name, ".json"):
			st.Ignored = append(st.Ignored, e.Name)
			continue
		}
		host := strings.TrimSuffix(e.Name, ".json")
		if !schema.ValidHostName(host) {
			st.Ignored = append(st.Ignored, e.Name)
			continue
		}
		todo = append(todo, e)
	}
	st.Hosts = make([]Host, len(todo))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(o.Parallel, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				st.Hosts[i] = readOne(fsys, dir, todo[i])
			}
		}()
	}
	for i := range todo {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	kept := st.Hosts[:0]
	for _, h := range st.Hosts {
		if h.State != gone {
			kept = append(kept, h)
		}
	}
	st.Hosts = kept
	sort.Slice(st.Hosts, func(i, j int) bool { return st.Hosts[i].File < st.Hosts[j].File })
	for i := range st.Hosts {
		h := &st.Hosts[i]
		key := strings.ToLower(h.Host)
		if first, dup := seen[key]; dup {
			h.State, h.Report = Invalid, nil
			h.Reasons = []string{fmt.Sprintf("report: the same host as %s (host names are not case-sensitive)", first)}
			continue
		}
		seen[key] = h.File
	}
	st.Newest = o.MinVersion
	if st.Newest == "" {
		for _, h := range st.Hosts {
			if h.Report != nil && newer(h.Report.RoboVersion, st.Newest) {
				st.Newest = h.Report.RoboVersion
			}
		}
	}
	for i := range st.Hosts {
		h := &st.Hosts[i]
		if h.Report != nil {
			judge(h, o)
			h.OldVersion = st.Newest != "" && newer(st.Newest, h.Report.RoboVersion)
		}
		st.Counts.add(h)
	}
	return st, nil
}

func (c *Counts) add(h *Host) {
	c.Hosts++
	switch h.State {
	case OK:
		c.OK++
	case Failing:
		c.Failing++
	case Stale:
		c.Stale++
	case Invalid:
		c.Invalid++
	}
	if h.OldVersion {
		c.OldVersion++
	}
}

// readOne reads and validates one report. It never trusts the file: its
// size is capped, its fields are checked, and its host must be the file's.
func readOne(fsys vfs.FS, dir string, e vfs.Entry) Host {
	h := Host{File: e.Name, Host: strings.TrimSuffix(e.Name, ".json"), State: Invalid}
	bad := func(format string, args ...any) Host {
		h.Reasons = []string{"report: " + fmt.Sprintf(format, args...)}
		h.Report = nil
		return h
	}
	if e.Size > MaxReportSize {
		return bad("%d bytes, larger than the %d a report may have", e.Size, MaxReportSize)
	}
	f, err := openRetry(fsys, vfs.Join(dir, e.Name))
	if errors.Is(err, fs.ErrNotExist) {
		h.State = gone // removed since the listing
		return h
	}
	if err != nil {
		return bad("cannot open: %v", err)
	}
	// The listed size is read at once, without a further request to learn
	// that the file ends there: a report replaced since the listing by a
	// longer one does not parse, and is then read to its end.
	b := make([]byte, e.Size)
	n, err := io.ReadFull(f, b)
	b = b[:n]
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil // shorter than listed: replaced by a shorter one
	}
	r, derr := Decode(b)
	if err == nil && derr != nil && int64(n) == e.Size {
		rest, rerr := io.ReadAll(io.LimitReader(f, MaxReportSize+1-e.Size))
		if len(rest) > 0 {
			b = append(b, rest...)
			r, derr = Decode(b)
		}
		err = rerr
	}
	f.Close()
	if err != nil {
		return bad("cannot read: %v", err)
	}
	if len(b) > MaxReportSize {
		return bad("larger than the %d bytes a report may have", MaxReportSize)
	}
	err = derr
	if err != nil {
		return bad("%v", err)
	}
	if !strings.EqualFold(r.Host, h.Host) {
		return bad("it names host %q, not the host of its file name", r.Host)
	}
	h.Host, h.Report = r.Host, r
	return h
}

// gone marks a report removed between the listing and the read: it is
// left out, as if listed a moment later.
const gone State = ""

// openFor bounds the attempts to open a report. A writer's rename over it
// leaves the writer's handle (DELETE access, sharing nothing but delete)
// on the new file until the writer closes it, and an open in that window
// fails with a sharing violation; on a busy server the window lasts as
// long as the writer's connection takes to get to its close.
const openFor = 15 * time.Second

func openRetry(fsys vfs.FS, name string) (vfs.Reader, error) {
	deadline := time.Now().Add(openFor)
	pause := 2 * time.Millisecond
	for {
		f, err := fsys.Open(name)
		if err == nil || errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
			return f, err
		}
		time.Sleep(pause)
		pause = min(2*pause, 250*time.Millisecond)
	}
}

var versionPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$`)

// Decode parses and validates a report. Every name must be what robo's
// configuration allows; messages may hold anything (shown escaped).
func Decode(b []byte) (*Report, error) {
	var r Report
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("not a valid report: %s", shortErr(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not a valid report: data after the document")
	}
	switch {
	case r.FormatVersion == "":
		return nil, errors.New("not a valid report: no format_version")
	case r.FormatVersion != FormatVersion:
		return nil, fmt.Errorf("format version %s is not one this robo reads (%s): upgrade robo here", safetext.Name(r.FormatVersion), FormatVersion)
	case !schema.ValidHostName(r.Host):
		return nil, errors.New("not a valid report: the host is not a valid host name")
	case !versionPattern.MatchString(r.RoboVersion):
		return nil, errors.New("not a valid report: robo_version is not a version")
	case len(r.Sets) > MaxSets:
		return nil, fmt.Errorf("not a valid report: more than %d sets", MaxSets)
	case r.GeneratedAt.IsZero():
		return nil, errors.New("not a valid report: no generated_at")
	}
	names := map[string]bool{}
	for i := range r.Sets {
		s := &r.Sets[i]
		if !schema.ValidName(s.Name) || names[s.Name] {
			return nil, fmt.Errorf("not a valid report: set %d has an invalid or repeated name", i+1)
		}
		names[s.Name] = true
		switch s.Health {
		case watch.HealthOK, watch.HealthFailing, watch.HealthStale, watch.HealthNever, watch.HealthDisabled:
		default:
			return nil, fmt.Errorf("not a valid report: set %s has an unknown health", s.Name)
		}
		if s.StaleAfter < 0 {
			return nil, fmt.Errorf("not a valid report: set %s has a negative stale_after_ns", s.Name)
		}
		if lr := s.LastRun; lr != nil {
			lr.Message = Brief(lr.Message)
			if len(lr.Outcome) > 32 {
				return nil, fmt.Errorf("not a valid report: set %s has an invalid outcome", s.Name)
			}
			if lr.Duration < 0 {
				lr.Duration = 0
			}
		}
	}
	if len(r.ConfigDigest) > 100 {
		return nil, errors.New("not a valid report: config_digest is too long")
	}
	if len(r.OS) > 32 {
		r.OS = r.OS[:32]
	}
	r.Totals = totals(r.Sets) // recomputed: never trust the writer's sums
	return &r, nil
}

// shortErr keeps a JSON error brief (it may quote the input).
func shortErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = Brief(s[:120])
	}
	return s
}

// judge sets a valid report's host state at o.Now.
func judge(h *Host, o Options) {
	r := h.Report
	var stale, failing []string
	for _, s := range r.Sets {
		if !s.Enabled {
			continue
		}
		// The run due after the report should have produced a newer one.
		if s.NextRun != nil {
			grace := o.Margin
			if s.LastRun != nil {
				grace += s.LastRun.Duration
			}
			if due := s.NextRun.Add(grace); o.Now.After(due) {
				stale = append(stale, fmt.Sprintf("set %s: the run due %s was not reported (a new report was expected by %s)",
					s.Name, s.NextRun.UTC().Format(time.RFC3339), due.UTC().Format(time.RFC3339)))
				continue
			}
		}
		// No success within the stale limit, at the report's time or now.
		if s.StaleAfter > 0 {
			since := s.LastSuccess
			if since == nil && s.LastRun != nil {
				since = &s.LastRun.Started
			}
			if s.Health == watch.HealthStale || (since != nil && o.Now.Sub(*since) > s.StaleAfter) {
				stale = append(stale, fmt.Sprintf("set %s: no success within %s", s.Name, s.StaleAfter))
				continue
			}
		}
		switch {
		case s.LastRun != nil && (s.Health == watch.HealthFailing || s.LastRun.Outcome != "success"):
			msg := fmt.Sprintf("set %s: %s", s.Name, s.LastRun.Outcome)
			if s.LastRun.Message != "" {
				msg += ": " + s.LastRun.Message
			}
			failing = append(failing, msg)
		case s.Health == watch.HealthFailing:
			failing = append(failing, fmt.Sprintf("set %s: failing", s.Name))
		}
	}
	switch {
	case len(stale) > 0:
		h.State, h.Reasons = Stale, append(stale, failing...)
	case len(failing) > 0:
		h.State, h.Reasons = Failing, failing
	default:
		h.State = OK
	}
}

// newer reports whether version a is newer than b ("" is the oldest).
// Versions are semantic versions with or without a leading "v"; a version
// that is not one sorts before every one that is, and two such compare as
// strings.
func newer(a, b string) bool {
	if a == b || a == "" {
		return false
	}
	if b == "" {
		return true
	}
	va, vb := "v"+strings.TrimPrefix(a, "v"), "v"+strings.TrimPrefix(b, "v")
	oa, ob := semver.IsValid(va), semver.IsValid(vb)
	switch {
	case oa && ob:
		return semver.Compare(va, vb) > 0
	case oa != ob:
		return oa
	}
	return a > b
}
