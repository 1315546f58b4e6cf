package main

import (
	"flag"
	"io"
	"path/filepath"
	"sync"

	"github.com/hashicorp/go-hclog"
	"gopkg.in/natefinch/lumberjack.v2"
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
