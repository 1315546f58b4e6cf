package robocopy

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// WriteText prints a human-readable report of the log: per job the source,
// destination, options, start and end, the summary rows (or a line saying
// the summary is unknown) and the errors. It is meant for
// `robo robocopy parse FILE...`; JSON output is encoding/json of the Log.
func (l *Log) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	for i, j := range l.Jobs {
		if i > 0 {
			p("\n")
		}
		p("job %d of %d (log encoding %s)\n", i+1, len(l.Jobs), l.Encoding)
		p("  source:      %s\n", orUnknown(j.Source))
		p("  destination: %s\n", orUnknown(j.Destination))
		p("  options:     %s\n", orUnknown(j.Options))
		p("  started:     %s\n", orUnknown(j.Started))
		p("  ended:       %s\n", orUnknown(j.Ended))
		p("  entries:     %d files, %d dirs listed; %d retries\n", len(j.Files), len(j.Dirs), j.Retries)
		if j.Summary == nil {
			p("  summary: unknown (no summary in log: killed or fatal run)\n")
		} else {
			s := j.Summary
			p("  %-8s %12s %12s %12s %12s %12s %12s\n", "", "Total", "Copied", "Skipped", "Mismatch", "FAILED", "Extras")
			for _, r := range []struct {
				name string
				row  Row
			}{{"Dirs", s.Dirs}, {"Files", s.Files}, {"Bytes", s.Bytes}} {
				p("  %-8s %12d %12d %12d %12d %12d %12d\n", r.name+":", r.row.Total, r.row.Copied, r.row.Skipped, r.row.Mismatch, r.row.Failed, r.row.Extras)
			}
			if s.Times != nil {
				p("  %-8s %12s %12s %12s %12s %12s %12s\n", "Times:", s.Times.Total, s.Times.Copied, "", "", s.Times.Failed, s.Times.Extras)
			}
			if s.SpeedBytesPerSec != nil {
				p("  speed:    %d bytes/s\n", *s.SpeedBytesPerSec)
			}
		}
		if j.Fatal {
			p("  FATAL: the job stopped on an error\n")
		}
		if j.Truncated {
			p("  TRUNCATED: the log ends before the job's summary\n")
		}
		if len(j.Errors) > 0 {
			p("  errors (%d):\n", len(j.Errors))
			for _, e := range j.Errors {
				code := "fatal error (no code)"
				if e.HasCode {
					code = "error " + strconv.Itoa(e.Code) + fmt.Sprintf(" (0x%08X)", e.Code)
				}
				p("    %s%s:%s%s\n", prefixTime(e.Time), code, prefixSpace(e.Action), prefixSpace(e.Path))
				if e.Message != "" {
					p("      %s\n", e.Message)
				}
				if e.RetryLimitExceeded {
					p("      retry limit exceeded: robocopy gave up\n")
				}
			}
		}
		for _, n := range j.Notes {
			p("  note: %s\n", n)
		}
		if j.UnrecognizedCount > 0 {
			p("  unrecognized lines: %d (not parsed; first shown quoted)\n", j.UnrecognizedCount)
			for i, u := range j.Unrecognized {
				if i == 5 {
					break
				}
				p("    %q\n", u)
			}
		}
	}
	if len(l.Jobs) == 0 {
		p("no robocopy job found (log encoding %s)\n", l.Encoding)
	}
	return bw.Flush()
}

func orUnknown(s string) string {
	if s == "" {
		return "(not in log)"
	}
	return s
}

func prefixSpace(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

func prefixTime(t string) string {
	if t == "" {
		return ""
	}
	return t + " "
}
