package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robo-backup/robo/internal/robocopy"
	"github.com/robo-backup/robo/internal/runlog"
)

// LogFile is one file in the logs directory.
type LogFile struct {
	Name string `json:"file"`
	// Kind is native, robocopy or hook.
	Kind  string    `json:"kind"`
	Set   string    `json:"set,omitempty"`
	Phase string    `json:"phase,omitempty"`
	Time  time.Time `json:"time"`
	Size  int64     `json:"size"`
	// seq orders the logs of one set and second: a second run in the
	// same second writes NAME-1.log, a third NAME-2.log.
	seq int
}

// LogLine is one line of a run log as the dashboard shows it.
type LogLine struct {
	// N is the line's number among the log's lines (1-based, before any
	// filter), the anchor #LN of the log page.
	N int `json:"n"`
	// Level is info or error.
	Level string `json:"level"`
	Set   string `json:"set,omitempty"`
	Text  string `json:"text"`
}

// LogFilter selects lines; empty fields select everything.
type LogFilter struct {
	Level string
	Set   string
	// Query is a case-insensitive substring of the text.
	Query string
	// Order is "" (the log's order) or "errors" (error lines first, each
	// group in the log's order).
	Order string
}

// parseLogFilter reads a filter from a request's query (level, set, q,
// order), refusing values that select nothing on purpose.
func parseLogFilter(q url.Values) (LogFilter, error) {
	f := LogFilter{Level: q.Get("level"), Set: q.Get("set"), Query: q.Get("q"), Order: q.Get("order")}
	switch f.Level {
	case "", "info", "error":
	default:
		return f, errors.New("level is info or error")
	}
	switch f.Order {
	case "", "log", "errors":
	default:
		return f, errors.New("order is log or errors")
	}
	if len(f.Query) > 1024 {
		return f, errors.New("q is at most 1024 bytes")
	}
	return f, nil
}

var (
	runLogName  = regexp.MustCompile(`^(native|robocopy)-run-(.+)-(\d{8}T\d{6}Z)(?:-(\d+))?\.log$`)
	hookLogName = regexp.MustCompile(`^hook-(.+)-([a-z_]+)-(\d{8}T\d{6}Z)-[^-]+\.log$`)
)

// parseLogName describes a log file from its name; ok is false for a file
// that is not a run or hook log.
func parseLogName(name string) (LogFile, bool) {
	f := LogFile{Name: name}
	var ts string
	if m := runLogName.FindStringSubmatch(name); m != nil {
		f.Kind, f.Set, ts = m[1], m[2], m[3]
		if m[4] != "" {
			if n, err := strconv.Atoi(m[4]); err == nil && n > 0 {
				f.seq = n
			}
		}
	} else if m := hookLogName.FindStringSubmatch(name); m != nil {
		f.Kind, f.Set, f.Phase, ts = "hook", m[1], m[2], m[3]
	} else {
		ok := false
		for _, p := range runlog.Patterns {
			if m, _ := filepath.Match(p, name); m {
				ok = true
			}
		}
		if !ok {
			return f, false
		}
		f.Kind = strings.SplitN(name, "-", 2)[0]
	}
	if ts != "" {
		if t, err := time.Parse("20060102T150405Z", ts); err == nil {
			f.Time = t
		}
	}
	return f, true
}

// listLogs lists the run and hook logs in dir, newest first.
func listLogs(dir string) ([]LogFile, error) {
	if dir == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []LogFile
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		f, ok := parseLogName(e.Name())
		if !ok {
			continue
		}
		if info, err := e.Info(); err == nil {
			f.Size = info.Size()
			if f.Time.IsZero() {
				f.Time = info.ModTime().UTC()
			}
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return newerLog(out[i], out[j])
	})
	return out, nil
}

// newerLog orders logs newest first: by time, then (two runs of a set in
// one second) by their number, then by name.
func newerLog(a, b LogFile) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	if a.Set == b.Set && a.Kind == b.Kind && a.seq != b.seq {
		return a.seq > b.seq
	}
	return a.Name > b.Name
}

// errNoSuchLog is a log name that is not a log file of the directory.
var errNoSuchLog = errors.New("no such log file")

// maxLogBytes bounds what one log read parses.
const maxLogBytes = 32 << 20

// openLog opens a log by its bare file name (never a path): a regular
// file of dir whose name is a run or hook log's.
func openLog(dir, name string) (LogFile, *os.File, error) {
	f, ok := parseLogName(name)
	if dir == "" || !ok || name != filepath.Base(name) || strings.ContainsAny(name, `/\`) {
		return f, nil, errNoSuchLog
	}
	fh, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return f, nil, errNoSuchLog
	}
	if info, err := fh.Stat(); err != nil || !info.Mode().IsRegular() {
		fh.Close()
		return f, nil, errNoSuchLog
	}
	return f, fh, nil
}

// readLogFile reads a log by its bare file name (never a path).
func readLogFile(dir, name string) (LogFile, []byte, error) {
	f, fh, err := openLog(dir, name)
	if err != nil {
		return f, nil, err
	}
	defer fh.Close()
	if info, err := fh.Stat(); err == nil {
		if !info.Mode().IsRegular() {
			return f, nil, errNoSuchLog
		}
		f.Size = info.Size()
		if f.Time.IsZero() {
			f.Time = info.ModTime().UTC()
		}
	}
	b, err := io.ReadAll(io.LimitReader(fh, maxLogBytes))
	if err != nil {
		return f, nil, err
	}
	return f, b, nil
}

// ReadLog reads and parses the log file name of dir into lines, filtered.
func ReadLog(dir, name string, filter LogFilter) ([]LogLine, error) {
	f, b, err := readLogFile(dir, name)
	if err != nil {
		return nil, err
	}
	return filterLines(logLines(f, b), filter), nil
}

// logLines turns a log into lines: run logs through the robocopy parser
// (any encoding, native or robocopy), hook logs as their text.
func logLines(f LogFile, b []byte) []LogLine {
	var out []LogLine
	add := func(level, text string) {
		out = append(out, LogLine{N: len(out) + 1, Level: level, Set: f.Set, Text: text})
	}
	lg := robocopy.ParseBytes(b)
	if f.Kind == "hook" || len(lg.Jobs) == 0 {
		text := strings.ReplaceAll(string(b), "\r\n", "\n")
		for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			if strings.TrimSpace(l) == "" {
				continue
			}
			level := "info"
			if strings.Contains(strings.ToLower(l), "error") {
				level = "error"
			}
			add(level, l)
		}
		return out
	}
	for _, j := range lg.Jobs {
		add("info", fmt.Sprintf("Job: %s -> %s (started %s)", j.Source, j.Destination, j.Started))
		if j.Options != "" {
			add("info", "Options: "+j.Options)
		}
		for _, d := range j.Dirs {
			if d.Class != "" {
				add("info", fmt.Sprintf("%s  %s", d.Class, d.Path))
			}
		}
		for _, fe := range j.Files {
			p := fe.FullPath
			if p == "" {
				p = fe.Path
			}
			class := fe.Class
			if class == "" {
				class = fe.RawTag
			}
			add("info", fmt.Sprintf("%s  %d  %s", class, fe.Size, p))
		}
		for _, e := range j.Errors {
			t := fmt.Sprintf("ERROR %d (%s) %s", e.Code, e.Action, e.Path)
			if e.Message != "" {
				t += ": " + e.Message
			}
			if e.RetryLimitExceeded {
				t += " (retry limit exceeded)"
			}
			add("error", strings.TrimSpace(t))
		}
		if s := j.Summary; s != nil {
			add("info", fmt.Sprintf("Summary: files %d total, %d copied, %d skipped, %d failed, %d extras; bytes %d copied",
				s.Files.Total, s.Files.Copied, s.Files.Skipped, s.Files.Failed, s.Files.Extras, s.Bytes.Copied))
			if s.Files.Failed > 0 || s.Dirs.Failed > 0 {
				add("error", fmt.Sprintf("%d files and %d directories failed", s.Files.Failed, s.Dirs.Failed))
			}
		}
		switch {
		case j.Fatal:
			add("error", "the run stopped on a fatal error")
		case j.Truncated:
			add("error", "the log ends mid-run (killed, interrupted or still running)")
		}
		if j.Ended != "" {
			add("info", "Ended: "+j.Ended)
		}
	}
	return out
}

func filterLines(lines []LogLine, f LogFilter) []LogLine {
	q := strings.ToLower(f.Query)
	out := []LogLine{}
	for _, l := range lines {
		if f.Level != "" && l.Level != f.Level {
			continue
		}
		if f.Set != "" && l.Set != f.Set {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(l.Text), q) {
			continue
		}
		out = append(out, l)
	}
	if f.Order == "errors" {
		sort.SliceStable(out, func(i, j int) bool { return out[i].Level == "error" && out[j].Level != "error" })
	}
	return out
}

// errorLines returns the error lines of lines.
func errorLines(lines []LogLine) []LogLine {
	var out []LogLine
	for _, l := range lines {
		if l.Level == "error" {
			out = append(out, l)
		}
	}
	return out
}

// logRun derives a run from its log: the outcome (failed on a fatal
// error or failed items, interrupted when the log ends mid-run, else
// success), the files and bytes copied and the duration from robocopy's
// summary table (absent when the log has none: countsUnknown).
// snapshotLine is the line a native run log has when the run read from a
// snapshot (internal/runlog): its kind and id.
var snapshotLine = regexp.MustCompile(`(?m)^robo: read from ([a-z]+) snapshot ([A-Za-z0-9._:{}-]+) of `)

func logRun(dir string, f LogFile) RunView {
	r := RunView{Set: f.Set, Started: f.Time, Outcome: "unknown", Log: f.Name, Source: "log", CountsUnknown: true}
	_, b, err := readLogFile(dir, f.Name)
	if err != nil {
		return r
	}
	if m := snapshotLine.FindSubmatch(b); m != nil {
		r.Snapshot = string(m[1]) + " " + string(m[2])
	}
	lg := robocopy.ParseBytes(b)
	if len(lg.Jobs) == 0 {
		return r
	}
	var failed, truncated, errs bool
	for _, j := range lg.Jobs {
		if s := j.Summary; s != nil {
			r.FilesCopied += s.Files.Copied
			r.BytesCopied += s.Bytes.Copied
			r.CountsUnknown = false
			failed = failed || s.Files.Failed > 0 || s.Dirs.Failed > 0
		}
		failed = failed || j.Fatal
		truncated = truncated || j.Truncated
		errs = errs || len(j.Errors) > 0
	}
	last := lg.Jobs[len(lg.Jobs)-1]
	if s := last.Summary; s != nil && s.Times != nil {
		if d, ok := robocopy.ParseElapsed(s.Times.Total); ok {
			r.Duration = d
		}
	}
	switch {
	case failed:
		r.Outcome = "failed"
	case truncated:
		r.Outcome = "interrupted"
	case errs:
		r.Outcome = "failed"
	default:
		r.Outcome = "success"
	}
	return r
}

// LogMatch is a line found by a search across run logs.
type LogMatch struct {
	File string    `json:"file"`
	Time time.Time `json:"time"`
	LogLine
}

// LogSearch is the result of a search across run logs.
type LogSearch struct {
	Matches []LogMatch `json:"matches"`
	// Files is how many logs were read; Truncated says the search stopped
	// at a limit (matches, files or bytes) before the oldest log.
	Files     int  `json:"files_searched"`
	Truncated bool `json:"truncated"`
	// Errors is how many matches are error lines (they come first).
	Errors int `json:"error_matches"`
}

// Bounds of one search across logs, so that a request cannot make the
// server read the whole logs directory: the newest logs are read first.
const (
	maxSearchFiles   = 500
	maxSearchBytes   = 256 << 20
	maxSearchMatches = 1000
)

// searchLogs finds the lines that f selects in the run and hook logs of
// dir (of f.Set only when set), newest log first; error lines come first
// unless f.Order is "log".
func searchLogs(dir string, f LogFilter) (*LogSearch, error) {
	files, err := listLogs(dir)
	if err != nil {
		return nil, err
	}
	res := &LogSearch{Matches: []LogMatch{}}
	var read int64
	for _, lf := range files {
		if f.Set != "" && lf.Set != f.Set {
			continue
		}
		if res.Files >= maxSearchFiles || read >= maxSearchBytes || len(res.Matches) >= maxSearchMatches {
			res.Truncated = true
			break
		}
		file, b, err := readLogFile(dir, lf.Name)
		if err != nil {
			continue // removed since the listing (retention)
		}
		res.Files++
		read += int64(len(b))
		file.Time = lf.Time
		for _, l := range filterLines(logLines(file, b), LogFilter{Level: f.Level, Query: f.Query}) {
			if len(res.Matches) >= maxSearchMatches {
				res.Truncated = true
				break
			}
			res.Matches = append(res.Matches, LogMatch{File: lf.Name, Time: lf.Time, LogLine: l})
		}
	}
	for _, m := range res.Matches {
		if m.Level == "error" {
			res.Errors++
		}
	}
	if f.Order != "log" {
		sort.SliceStable(res.Matches, func(i, j int) bool {
			return res.Matches[i].Level == "error" && res.Matches[j].Level != "error"
		})
	}
	return res, nil
}

// rawLog answers a log file as it is on disk (GET /logs/raw?file=F), as
// a download: the exact bytes (robocopy's UTF-16 logs included), typed
// application/octet-stream so that no browser renders it, with a
// Content-Disposition that names the file.
func (s *Server) rawLog(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("file")
	_, fh, err := openLog(s.o.LogDir, name)
	if err != nil {
		s.fail(w, r, false, http.StatusNotFound, err.Error())
		return
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		s.fail(w, r, false, http.StatusInternalServerError, err.Error())
		return
	}
	extendWrite(w, planWriteTimeout)
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	cd := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if cd == "" {
		cd = "attachment"
	}
	h.Set("Content-Disposition", cd)
	// ServeContent sets Content-Length, honours Range and HEAD.
	http.ServeContent(w, r, "", info.ModTime(), fh)
}
