package web

import (
	"errors"
	"fmt"
	"io"
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

// readLogFile reads a log by its bare file name (never a path).
func readLogFile(dir, name string) (LogFile, []byte, error) {
	f, ok := parseLogName(name)
	if dir == "" || !ok || name != filepath.Base(name) || strings.ContainsAny(name, `/\`) {
		return f, nil, errNoSuchLog
	}
	fh, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return f, nil, errNoSuchLog
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
	add := func(level, text string) { out = append(out, LogLine{Level: level, Set: f.Set, Text: text}) }
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
	return out
}

// logRun derives a run from its log: the outcome (failed on a fatal
// error or failed items, interrupted when the log ends mid-run, else
// success), the files and bytes copied and the duration from robocopy's
// summary table (absent when the log has none: countsUnknown).
func logRun(dir string, f LogFile) RunView {
	r := RunView{Set: f.Set, Started: f.Time, Outcome: "unknown", Log: f.Name, Source: "log", CountsUnknown: true}
	_, b, err := readLogFile(dir, f.Name)
	if err != nil {
		return r
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
