package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/kardianos/service"
	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/robo-backup/robo/internal/safetext"
)

// Defaults of the log file's rotation.
const (
	defaultLogFileMaxSizeMB = 10
	defaultLogFileKeep      = 5
)

// logOptions are robo's global logging options (-log-format, -log-level,
// -log-file and its rotation). The zero value logs text on standard error.
type logOptions struct {
	format    string
	level     string // "": the command's default (info)
	file      string
	maxSizeMB int
	keep      int

	mu  sync.Mutex
	out *lumberjack.Logger // the log file, once opened
}

func addLogFlags(g *flag.FlagSet) *logOptions {
	o := &logOptions{}
	g.StringVar(&o.format, "log-format", "text", "log format: text or json (one JSON object a line)")
	g.StringVar(&o.level, "log-level", "", "log level: trace, debug, info, warn or error (default info)")
	g.StringVar(&o.file, "log-file", "", "write the log to `FILE`, rotated by size, instead of standard error")
	g.IntVar(&o.maxSizeMB, "log-file-max-size", defaultLogFileMaxSizeMB, "rotate the log file when it would exceed this many megabytes")
	g.IntVar(&o.keep, "log-file-keep", defaultLogFileKeep, "how many rotated log files to keep")
	return o
}

// check validates the options, and makes the log file's path absolute (a
// relative path is relative to the working directory, not -chdir).
func (o *logOptions) check() error {
	switch o.format {
	case "", "text", "json":
	default:
		return fatalf("-log-format %s: not text or json", o.format)
	}
	if o.level != "" && hclog.LevelFromString(o.level) == hclog.NoLevel {
		return fatalf("-log-level %s: not one of trace, debug, info, warn, error", o.level)
	}
	if o.maxSizeMB < 1 {
		return fatalf("-log-file-max-size %d: at least 1 (megabytes)", o.maxSizeMB)
	}
	if o.keep < 0 {
		return fatalf("-log-file-keep %d: not a count", o.keep)
	}
	if o.file != "" {
		abs, err := filepath.Abs(o.file)
		if err != nil {
			return fatalf("-log-file %s: %v", o.file, err)
		}
		o.file = abs
	}
	return nil
}

// writer returns where logs go: the rotating log file, or stderr.
func (o *logOptions) writer(stderr io.Writer) io.Writer {
	if o == nil || o.file == "" {
		return stderr
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.out == nil {
		// lumberjack creates the file and its directory on the first write,
		// and rotates before a write that would pass MaxSize.
		o.out = &lumberjack.Logger{Filename: o.file, MaxSize: o.maxSizeMB, MaxBackups: o.keep}
	}
	return o.out
}

// close closes the log file, if one was opened.
func (o *logOptions) close() {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.out != nil {
		o.out.Close()
		o.out = nil
	}
}

// logger returns robo's logger for a command: level is the command's own
// -log-level ("" when not given), which wins over the global one; info by
// default. Loggers log names and outcomes, never a secret's value.
func (e *env) logger(level string) (hclog.InterceptLogger, error) {
	o := e.logOpts
	if level == "" && o != nil {
		level = o.level
	}
	if level == "" {
		level = "info"
	}
	format := "text"
	if o != nil && o.format != "" {
		format = o.format
	}
	return newLogger(o.writer(e.stderr), level, format)
}

// applyLogger is the logger of robo apply: none unless the user asked for
// logs (-log-level or -log-file), so that apply's output stays the plan and
// the results.
func (e *env) applyLogger() hclog.Logger {
	o := e.logOpts
	if o == nil || (o.level == "" && o.file == "") {
		return nil
	}
	l, err := e.logger("")
	if err != nil {
		return nil
	}
	return l
}

// newLogger returns an hclog logger on w in format "text" or "json".
func newLogger(w io.Writer, level, format string) (hclog.InterceptLogger, error) {
	l := hclog.LevelFromString(level)
	if l == hclog.NoLevel {
		return nil, fatalf("-log-level %s: not one of trace, debug, info, warn, error", level)
	}
	return hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "robo", Output: w, Level: l, IndependentLevels: true,
		JSONFormat: format == "json"}), nil
}

// Windows event log IDs. The service copies robo's log to the Application
// event log (source robo) with a stable event ID for each kind of message,
// so that Windows Event Forwarding subscriptions and monitoring rules can
// select them by ID. docs/fleet.md ("Event IDs") lists them; a test keeps
// that table, this one and every log message in robo's code in step. An ID
// never changes meaning: a new kind of message gets a new ID. IDs stay in
// 1-1000, the range EventCreate.exe's message file (registered for the
// source) has texts for. 1, 2 and 3 are for information, warnings and
// errors without an ID of their own.
const (
	eventInfo    = 1
	eventWarning = 2
	eventError   = 3
)

// eventKey is a log message at a level: "run finished" is an information
// when the run succeeded and an error when it failed.
type eventKey struct {
	level hclog.Level
	msg   string
}

var eventIDs = map[eventKey]uint32{
	// 100-199: the service and its runs (information).
	{hclog.Info, "robo watch started"}:                                                    100,
	{hclog.Info, "stopping: running sets stop at a file boundary and record their state"}: 101,
	{hclog.Info, "stopped"}:                                                               102,
	{hclog.Info, "configuration reloaded"}:                                                103,
	{hclog.Info, "watching sources"}:                                                      104,
	{hclog.Info, "run started"}:                                                           110,
	{hclog.Info, "run finished"}:                                                          111,
	{hclog.Info, "catch-up: the last success is older than the schedule's period"}:        112,
	{hclog.Info, "the wall clock jumped ahead: the machine woke from sleep (or the clock was set); catching up missed runs"}: 113,
	{hclog.Info, "set is no longer stale"}:           114,
	{hclog.Info, "applying set"}:                     120,
	{hclog.Info, "set applied"}:                      121,
	{hclog.Info, "moved set in the state"}:           122,
	{hclog.Info, "forgot set"}:                       123,
	{hclog.Info, "running hook"}:                     130,
	{hclog.Info, "hook finished"}:                    131,
	{hclog.Info, "dashboard listening"}:              140,
	{hclog.Info, "created this host's identity"}:     150,
	{hclog.Info, "published this host's public key"}: 151,
	{hclog.Info, "snapshot taken"}:                   160,
	{hclog.Info, "snapshot removed"}:                 161,
	// 200-299: warnings.
	{hclog.Warn, "set is stale: no successful run within its limit"}:                                        200,
	{hclog.Warn, "set not applied"}:                                                                         201,
	{hclog.Warn, "verify after apply found differences"}:                                                    202,
	{hclog.Warn, "notification failed"}:                                                                     203,
	{hclog.Warn, "files kept changing while they were copied and were not backed up"}:                       204,
	{hclog.Warn, "configuration diagnostics"}:                                                               210,
	{hclog.Warn, "configuration warnings"}:                                                                  211,
	{hclog.Warn, "source is not a local path: not watched, rescanned only"}:                                 220,
	{hclog.Warn, "too many file changes at once: the event queue overflowed; rescanning every watched set"}: 221,
	{hclog.Warn, "source watching"}:                                                                         222,
	{hclog.Warn, "watching the configuration directory"}:                                                    223,
	{hclog.Warn, "cannot read the state to find missed runs; running every scheduled set"}:                  230,
	{hclog.Warn, "cannot read the state to check for stale sets"}:                                           231,
	{hclog.Warn, "cannot write the watch status file"}:                                                      232,
	{hclog.Warn, "cannot write the set's run log"}:                                                          233,
	{hclog.Warn, "cannot prune old run logs"}:                                                               234,
	{hclog.Warn, "cannot tighten the permissions of the logs directory"}:                                    236,
	{hclog.Warn, "cannot write the hook's run log"}:                                                         235,
	{hclog.Warn, "removed a leftover snapshot"}:                                                             240,
	// 300-399: errors.
	{hclog.Error, "robo watch cannot start"}: 300,
	{hclog.Error, "robo watch ended without a stop request; exiting with a failure so that the service manager restarts it"}: 301,
	{hclog.Error, "robo watch stopped with an error"}:                                                                        302,
	{hclog.Error, "robo watch did not stop in time"}:                                                                         303,
	{hclog.Error, "the changed configuration has errors: it is not used, the running configuration stays"}:                   310,
	{hclog.Error, "run finished"}:                                          311,
	{hclog.Error, "set failed"}:                                            312,
	{hclog.Error, "set not applied: before hook failed"}:                   313,
	{hclog.Error, "hook failed"}:                                           314,
	{hclog.Error, "set not scheduled"}:                                     320,
	{hclog.Error, "cannot watch sources; watched sets are rescanned only"}: 321,
	{hclog.Error, "the dashboard stopped"}:                                 340,
	{hclog.Error, "cannot create or read this host's identity"}:            350,
	{hclog.Error, "cannot remove a leftover snapshot"}:                     360,
	{hclog.Error, "cannot remove a snapshot"}:                              361,
}

// eventLevel is the event log's level of an hclog level: error, warning or
// information.
func eventLevel(level hclog.Level) hclog.Level {
	switch {
	case level >= hclog.Error:
		return hclog.Error
	case level == hclog.Warn:
		return hclog.Warn
	}
	return hclog.Info
}

// eventID is the event ID of msg logged at level.
func eventID(level hclog.Level, msg string) uint32 {
	l := eventLevel(level)
	if id, ok := eventIDs[eventKey{l, msg}]; ok {
		return id
	}
	switch l {
	case hclog.Error:
		return eventError
	case hclog.Warn:
		return eventWarning
	}
	return eventInfo
}

// eventText is the text of an event: the message, then key=value pairs.
// Values hold names and paths from hostile trees: control characters
// (newlines too) and bytes that are not UTF-8 are escaped (safetext.Line),
// so that no value can forge a line of its own. Configuration diagnostics
// (robo's own located text) keep their lines, each escaped, so that they
// stay readable in Event Viewer.
func eventText(msg string, args []any) string {
	var b strings.Builder
	b.WriteString(safetext.Line(msg))
	for i := 0; i+1 < len(args); i += 2 {
		k, v := fmt.Sprint(args[i]), fmt.Sprint(args[i+1])
		if k == "diagnostics" {
			lines := strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n")
			for j, l := range lines {
				lines[j] = safetext.Line(l)
			}
			v = strings.Join(lines, "\r\n")
		} else {
			v = safetext.Line(v)
		}
		fmt.Fprintf(&b, " %s=%s", safetext.Line(k), v)
	}
	return b.String()
}

// eventLogger is the part of kardianos/service's Windows logger
// (service.WindowsLogger) that takes an event ID.
type eventLogger interface {
	NError(eventID uint32, v ...any) error
	NWarning(eventID uint32, v ...any) error
	NInfo(eventID uint32, v ...any) error
}

// eventSink copies log lines at level and above (and never below info) to
// the Windows event log with their event IDs.
type eventSink struct {
	l     eventLogger
	level hclog.Level
}

var _ hclog.SinkAdapter = (*eventSink)(nil)

// Accept implements hclog.SinkAdapter.
func (s *eventSink) Accept(name string, level hclog.Level, msg string, args ...any) {
	if level < s.level || level < hclog.Info {
		return
	}
	id, text := eventID(level, msg), eventText(msg, args)
	switch eventLevel(level) {
	case hclog.Error:
		s.l.NError(id, text)
	case hclog.Warn:
		s.l.NWarning(id, text)
	default:
		s.l.NInfo(id, text)
	}
}

// newServiceSink is the sink of the service's logger l (the Windows event
// log): with event IDs when l takes them, as kardianos/service's Windows
// logger does.
func newServiceSink(l service.Logger, level hclog.Level) hclog.SinkAdapter {
	if el, ok := l.(eventLogger); ok {
		return &eventSink{l: el, level: level}
	}
	return &serviceSink{l: l, level: level}
}
