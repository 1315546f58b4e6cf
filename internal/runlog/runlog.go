package runlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/robocopy"
	"github.com/robo-backup/robo/internal/safetext"
)

// FilePrefix starts the name of every native run log.
const FilePrefix = "native-run-"

const (
	banner   = "   ROBOCOPY     ::     robo native engine (robocopy log layout)"
	dashes79 = "-------------------------------------------------------------------------------"
	dashes78 = "------------------------------------------------------------------------------"
	nl       = "\r\n"
)

// Log is the run log of one engine run. Report and Finish are safe for
// concurrent use; write errors are kept and returned by Finish.
type Log struct {
	mu     sync.Mutex
	w      *bufio.Writer
	closer io.Closer
	spec   engine.Spec
	now    func() time.Time
	// counts is the number of planned file copies per source directory
	// (slash-separated, relative), for the "New Dir" lines: one entry per
	// directory, in sorted runs spilled to a file past a bound
	// (engine.SortedStrings), looked up in plan order.
	counts   *engine.SortedStrings
	err      error
	finished bool
	// flushed is when body lines were last written out: they are flushed
	// at most every flushEvery (and at Finish), not one write per file.
	flushed time.Time
}

// flushEvery bounds how long a finished change's line waits in the buffer
// before someone reading the log sees it.
const flushEvery = 500 * time.Millisecond

// Options tune a Log.
type Options struct {
	// Now is the clock (time.Now when nil); timestamps are printed in its
	// location.
	Now func() time.Time
}

// New starts a run log of job on w and writes its header. Close w after
// Finish (Create's logs close their file themselves).
func New(w io.Writer, job engine.Job, opts Options) *Log {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	l := &Log{w: bufio.NewWriter(w), spec: job.Spec, now: now, counts: engine.NewSortedStrings(strings.Compare, checkDir)}
	// One count per directory, not per change. A list that cannot be
	// read fails the apply itself; the log only counts less.
	_ = job.Changes.RangeWhere(func(h engine.Head) bool { return h.Kind != engine.KindDir && h.Action != engine.Delete }, func(_ int, c *engine.Change) error {
		l.counts.Add(path.Dir(c.Path), 1)
		return nil
	})
	l.counts.Freeze()
	l.header()
	l.flush()
	return l
}

// FileName is the run log's file name for a set run started at t:
// native-run-<set>-<UTC time>.log.
func FileName(set string, t time.Time) string {
	return FilePrefix + set + "-" + t.UTC().Format("20060102T150405Z") + ".log"
}

// Create starts a run log in dir (created when missing) named by
// [FileName]; a second run of the same set in the same second gets a
// numbered name. It returns the log and its path. The log lists private
// paths: the file is created 0600 and a missing dir 0700.
func Create(dir, set string, job engine.Job, opts Options) (*Log, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	name := FileName(set, now())
	p := filepath.Join(dir, name)
	var f *os.File
	var err error
	for i := 1; ; i++ {
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, os.ErrExist) || i > 100 {
			break
		}
		p = filepath.Join(dir, strings.TrimSuffix(name, ".log")+fmt.Sprintf("-%d.log", i))
	}
	if err != nil {
		return nil, "", err
	}
	l := New(f, job, opts)
	l.closer = f
	return l, p, nil
}

func (l *Log) printf(format string, args ...any) {
	if l.err != nil {
		return
	}
	if _, err := fmt.Fprintf(l.w, format, args...); err != nil {
		l.err = err
	}
}

func (l *Log) line(s string) { l.printf("%s"+nl, s) }

func (l *Log) flush() {
	if l.err == nil {
		l.err = l.w.Flush()
	}
}

// longDate is robocopy's en-US "Started" and "Ended" date.
const longDate = "Monday, January 2, 2006 3:04:05 PM"

func (l *Log) header() {
	l.line("")
	l.line(dashes79)
	l.line(banner)
	l.line(dashes79)
	l.line("")
	l.line("  Started : " + l.now().Format(longDate))
	l.line("   Source : " + safetext.Name(withSep(l.spec.Source)))
	l.line("     Dest : " + safetext.Name(withSep(l.spec.Destination)))
	l.line("")
	list := func(label string, vals []string) {
		for i, v := range vals {
			v = safetext.Name(v)
			if i == 0 {
				l.line(label + " : " + v)
			} else {
				l.line("\t    " + v)
			}
		}
		l.line("\t    ")
	}
	inc := l.spec.Include
	if len(inc) == 0 {
		inc = []string{"*.*"}
	}
	list("    Files", inc)
	if len(l.spec.ExcludeFiles) > 0 {
		list("Exc Files", l.spec.ExcludeFiles)
	}
	if len(l.spec.ExcludeDirs) > 0 {
		list(" Exc Dirs", l.spec.ExcludeDirs)
	}
	l.line("  Options : " + options(l.spec) + " ")
	l.line("")
	l.line(dashes78)
	l.line("")
}

// options is the robocopy option line equivalent to the set (as the
// robocopy engine would run it, with /NP /BYTES /FP, the layout of this
// log), without the source and destination.
func options(spec engine.Spec) string {
	o, _ := robocopy.OptionsFor(spec)
	// BuildArgs checks Windows paths; the option switches do not depend on
	// them, so neutral roots are used.
	o.Source, o.Destination = `C:\src`, `C:\dst`
	o.ExtraArgs = nil
	o.ExcludeFiles, o.ExcludeDirs = spec.ExcludeFiles, spec.ExcludeDirs
	args, err := robocopy.BuildArgs(o)
	if err != nil {
		return "*.* /S /E /NP /BYTES /FP"
	}
	args = args[2:]
	out := make([]string, 0, len(args)+1)
	if len(spec.Include) == 0 {
		out = append(out, "*.*")
	}
	for _, a := range args {
		if strings.ContainsAny(a, " \t") {
			a = `"` + a + `"`
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

// sep is the separator of a root: a backslash for Windows paths, else '/'.
func sep(root string) string {
	if strings.Contains(root, `\`) && !strings.Contains(root, "/") {
		return `\`
	}
	if len(root) >= 2 && root[1] == ':' {
		return `\`
	}
	return "/"
}

func withSep(root string) string {
	s := sep(root)
	if strings.HasSuffix(root, s) {
		return root
	}
	return root + s
}

// full joins a change path to a root with the root's separator.
func full(root, rel string) string {
	s := sep(root)
	if s != "/" {
		rel = strings.ReplaceAll(rel, "/", s)
	}
	return withSep(root) + rel
}

// Report implements engine.Reporter: it writes a body line for each
// finished change.
func (l *Log) Report(ev engine.Event) {
	if !ev.Done || ev.Change == nil {
		return
	}
	c := ev.Change
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return
	}
	switch {
	case ev.Err != nil:
		l.errorLine(c, ev.Err)
	case ev.Skip != "":
		l.skipLine(c)
	default:
		l.doneLine(c)
	}
	if t := time.Now(); t.Sub(l.flushed) >= flushEvery {
		l.flush()
		l.flushed = t
	}
}

// fileTag pads a class tag to robocopy's 14-character field.
func fileTag(tag string) string {
	if strings.HasPrefix(tag, "*") {
		return fmt.Sprintf("  %-12s", tag)
	}
	return fmt.Sprintf("    %-10s", tag)
}

var copyTags = map[engine.Class]string{engine.New: "New File", engine.Newer: "Newer", engine.Older: "Older", engine.Changed: "Changed", engine.Mismatch: "*Mismatch"}

// skipTags are robocopy's lowercase /V tags for files it left alone.
var skipTags = map[engine.Class]string{engine.New: "lonely", engine.Newer: "newer", engine.Older: "older", engine.Changed: "changed",
	engine.Same: "same", engine.Extra: "extra", engine.StaleTemp: "extra", engine.Mismatch: "mismatch"}

// Names in the log (hostile input: docs/safety.md) are written through
// safetext.Name, so that no CR, LF or TAB of a name can end a line or a
// column: each name stays inside its own line's last field, quoted when
// it holds such characters or bytes that are not UTF-8.

func (l *Log) fileLine(tag string, size int64, p string) {
	l.printf("\t%s\t\t%8d\t%s"+nl, fileTag(tag), size, safetext.Name(p))
}

// checkDir validates a directory read back from the counts' spill file.
func checkDir(d string) error {
	if d == "." {
		return nil
	}
	return engine.CheckPath(d)
}

// count returns the planned file copies into dir (0 when the counts
// cannot be read: the log only counts less).
func (l *Log) count(dir string) int64 {
	n, _, _ := l.counts.Lookup(dir)
	return n
}

func (l *Log) dirLine(tag string, count int64, p string) {
	l.printf("\t%-9s%11d\t%s"+nl, tag, count, safetext.Name(p))
}

func (l *Log) doneLine(c *engine.Change) {
	src, dst := full(l.spec.Source, c.Path), full(l.spec.Destination, c.Path)
	switch {
	case c.Action == engine.Delete && c.Kind == engine.KindDir:
		l.printf("\t%-10s%10d\t%s"+nl, "*EXTRA Dir", -1, safetext.Name(withSep(dst)))
	case c.Action == engine.Delete:
		l.fileLine("*EXTRA File", c.Size, dst)
	case c.Kind == engine.KindDir:
		l.dirLine("  New Dir", l.count(c.Path), withSep(src))
	default:
		tag := copyTags[c.Class]
		if tag == "" || c.Action == engine.Create {
			tag = "New File"
		}
		if c.Action == engine.Replace {
			tag = "*Mismatch"
		}
		l.fileLine(tag, c.Size, src)
	}
}

func (l *Log) skipLine(c *engine.Change) {
	tag := skipTags[c.Class]
	if tag == "" {
		tag = "same"
	}
	p := full(l.spec.Source, c.Path)
	if c.Action == engine.Delete {
		p = full(l.spec.Destination, c.Path)
	}
	if c.Kind == engine.KindDir {
		l.dirLine("  "+tag, l.count(c.Path), withSep(p))
		return
	}
	l.fileLine(tag, c.Size, p)
}

// errorLine writes robocopy's two-line error: "<time> ERROR n (0x...)
// <action> <path>" and the message.
func (l *Log) errorLine(c *engine.Change, err error) {
	action, p := "Copying File", full(l.spec.Source, c.Path)
	switch {
	case c.Action == engine.Delete && c.Kind == engine.KindDir:
		action, p = "Deleting Extra Directory", withSep(full(l.spec.Destination, c.Path))
	case c.Action == engine.Delete:
		action, p = "Deleting Extra File", full(l.spec.Destination, c.Path)
	case c.Kind == engine.KindDir:
		action, p = "Creating Destination Directory", withSep(full(l.spec.Destination, c.Path))
	}
	l.errLines(action, p, err)
}

func (l *Log) errLines(action, p string, err error) {
	code := Code(err)
	l.printf("%s ERROR %d (0x%08X) %s %s"+nl, l.now().Format("2006/01/02 15:04:05"), code, code, action, safetext.Name(p))
	l.line(inert(strings.Join(strings.Fields(err.Error()), " "), true))
}

// errorProbe is an error line that inert puts above the text it checks.
const errorProbe = "2000/01/01 00:00:00 ERROR 5 (0x00000005) Copying File C:\\x" + nl

// inert returns free text (an error message, a warning: text that may
// embed a name) as a line that log readers cannot take for anything else:
// escaped with safetext.Line, then read back with robo's robocopy parser.
// asMessage says the line follows an error line and must read as its
// message; otherwise it must read as nothing (no error, entry, summary or
// retry). A line that fails is written TAB-indented and quoted, which no
// error, message or summary line can be, and if even that reads as
// something, replaced by a notice.
func inert(text string, asMessage bool) string {
	text = safetext.Line(text)
	ok := func(l string, message bool) bool {
		probe := errorProbe
		if !asMessage {
			probe += "message" + nl
		}
		lg := robocopy.ParseBytes([]byte(probe + l + nl))
		if len(lg.Jobs) != 1 {
			return false
		}
		j := lg.Jobs[0]
		if len(j.Errors) != 1 || len(j.Files) != 0 || len(j.Dirs) != 0 || j.Summary != nil || j.Retries != 0 {
			return false
		}
		return !message || j.Errors[0].Message == strings.TrimSpace(l)
	}
	if ok(text, asMessage) {
		return text
	}
	if q := "\t" + strconv.Quote(text); ok(q, false) {
		return q
	}
	return "robo: (text left out: it would read as a log entry)"
}

// Finish writes the summary from res, or, when the engine could not run
// (err), a fatal error and no summary, as robocopy does; it then flushes
// and closes a log made by Create. It returns the first write error.
// Events reported after Finish are dropped.
func (l *Log) Finish(res *engine.Result, err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return l.err
	}
	l.finished = true
	switch {
	case err != nil:
		l.line("")
		l.errLines("Accessing Source Directory", withSep(l.spec.Source), err)
		l.line("")
	case res != nil:
		l.summary(res)
	}
	l.flush()
	l.counts.Close()
	if l.closer != nil {
		if cerr := l.closer.Close(); l.err == nil {
			l.err = cerr
		}
	}
	return l.err
}

func (l *Log) summary(res *engine.Result) {
	if res.Interrupted {
		l.line("")
		l.line("robo: the run was stopped before every change ran; the counts below are what was done.")
	}
	if sn := res.Snapshot; sn != nil {
		l.line(inert(fmt.Sprintf("robo: read from %s snapshot %s of %s, taken %s (docs/snapshots.md)", sn.Kind, sn.ID, sn.Volume, sn.Created.Local().Format(longDate)), false))
	}
	for _, w := range res.Warnings {
		l.line(inert("robo: warning: "+w, false))
	}
	// Files that kept changing while they were copied (docs/state.md):
	// each has its ERROR line above; the summary names them again.
	for i, c := range res.Changing {
		if i == 20 {
			l.line(inert(fmt.Sprintf("robo: ... and %d more files kept changing", len(res.Changing)-20), false))
			break
		}
		l.line(inert("robo: not backed up, kept changing while it was copied: "+safetext.Name(full(l.spec.Source, c.Path)), false))
	}
	l.line("")
	l.line(dashes78)
	l.line("")
	l.printf("%10s%10s%10s%10s%10s%10s%10s"+nl, "", "Total", "Copied", "Skipped", "Mismatch", "FAILED", "Extras")
	// Each count is right-aligned in robocopy's 10-character column but
	// keeps a space before it, so that a count of 10 digits or more (a
	// run past 953 MiB, in bytes) does not run into its neighbour and
	// the row still parses.
	row := func(label string, r engine.Row) {
		l.printf("%10s %9d %9d %9d %9d %9d %9d"+nl, label, r.Total, r.Copied, r.Skipped, r.Mismatch, r.Failed, r.Extras)
	}
	row("Dirs :", res.Counters.Dirs)
	row("Files :", res.Counters.Files)
	row("Bytes :", res.Counters.Bytes)
	d := hms(res.Duration)
	l.printf("%10s%10s%10s%20s%10s%10s"+nl, "Times :", d, d, "", "0:00:00", "0:00:00")
	l.line("")
	l.line("")
	if secs := res.Duration.Seconds(); res.BytesCopied > 0 && secs > 0 {
		bps := float64(res.BytesCopied) / secs
		l.printf("   Speed :%20d Bytes/sec."+nl, int64(bps))
		l.printf("   Speed :%20.3f MegaBytes/min."+nl, bps*60/(1<<20))
	}
	l.line("   Ended : " + l.now().Format(longDate))
	l.line("")
}

// hms is robocopy's H:MM:SS.
func hms(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
