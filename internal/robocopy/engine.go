package robocopy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/robo-backup/robo/internal/engine"
)

// Engine converges a backup set by running robocopy.exe. It implements
// engine.Engine: Scan runs robocopy with /L and reads the listing back into
// robo's change model; Apply re-lists, refuses when robocopy would now delete
// more than the plan showed, runs robocopy for real and reads its log into a
// Result.
type Engine struct {
	// Exe is the path of robocopy.exe.
	Exe string
	// LogDir, when set, keeps each real run's raw UTF-16 log there (the
	// set's run log, readable with robo robocopy parse); /L listings and,
	// without LogDir, every log go to a temporary file removed after parsing.
	LogDir string
	// Run executes robocopy; tests may replace it. It returns the exit code
	// and the tail of the console output, and calls onLine (when not nil)
	// with each console line as robocopy prints it.
	Run func(ctx context.Context, exe string, args []string, onLine func(string)) (code int, output []byte, err error)
	// Version is robocopy.exe's version (see [FileVersion]); arguments are
	// chosen for it and plans name what it cannot honour. The zero value
	// means a current build.
	Version Version
}

var _ engine.Engine = (*Engine)(nil)

// Find locates robocopy.exe: only on Windows, through PATH (it lives in
// %SystemRoot%\System32).
func Find() (string, error) {
	if runtime.GOOS != "windows" {
		return "", fmt.Errorf("robocopy.exe runs only on Windows, and this host runs %s: %w", runtime.GOOS, engine.ErrNotAvailable)
	}
	p, err := exec.LookPath("robocopy.exe")
	if err != nil {
		return "", fmt.Errorf("robocopy.exe was not found in PATH: %w", engine.ErrNotAvailable)
	}
	return p, nil
}

// New returns an engine for the robocopy.exe found on this host.
func New() (*Engine, error) {
	exe, err := Find()
	if err != nil {
		return nil, err
	}
	// An unreadable version resource leaves the version unknown: robo then
	// assumes a current build, and an older one answers the first listing
	// with "Invalid Parameter" (exit 16), which fails the plan.
	v, _ := FileVersion(exe)
	return &Engine{Exe: exe, Run: runExe, Version: v}, nil
}

// Name implements engine.Engine.
func (e *Engine) Name() string { return "robocopy" }

// Properties implements engine.Engine.
func (e *Engine) Properties() engine.Properties {
	return engine.Properties{ExactChanges: false, TimeResolution: engine.TimeUnit}
}

// options is OptionsFor with the engine's robocopy version; the warnings
// include what that version cannot honour.
func (e *Engine) options(spec engine.Spec) (Options, []string) {
	o, warns := OptionsFor(spec)
	o.Version = e.Version
	return o, append(warns, Limitations(o)...)
}

// ListingErrors are the reasons a /L listing cannot be trusted for
// deletions: a missing summary, an exit code of 8 or more, robocopy's own
// error lines (an unreadable source subdirectory is listed as an ERROR and
// skipped) and lines the parser could not read. Each becomes a scan error,
// so the planner withholds the set's deletions exactly as for an unreadable
// directory in the native engine.
func ListingErrors(job *Job, code ExitCode) []engine.FileError {
	var out []engine.FileError
	if job.Summary == nil {
		out = append(out, engine.FileError{Op: "list", Err: "robocopy /L wrote no summary: the listing is incomplete"})
	}
	if code.Failed() {
		out = append(out, engine.FileError{Op: "list", Err: fmt.Sprintf("robocopy /L ended with exit code %s: the listing is incomplete", code)})
	} else if s := job.Summary; s != nil && s.Files.Failed+s.Dirs.Failed > 0 {
		out = append(out, engine.FileError{Op: "list", Err: fmt.Sprintf("robocopy /L counted %d failed files and %d failed directories", s.Files.Failed, s.Dirs.Failed)})
	}
	for _, er := range job.Errors {
		out = append(out, engine.FileError{Path: er.Path, Op: "list: " + strings.TrimSpace(er.Action), Err: er.describe()})
	}
	for i, l := range job.Unrecognized {
		out = append(out, engine.FileError{Op: "read robocopy listing", Err: "unrecognized line " + strconv.Quote(l)})
		if i == 9 && job.UnrecognizedCount > 10 {
			out = append(out, engine.FileError{Op: "read robocopy listing", Err: fmt.Sprintf("and %d more unrecognized lines", job.UnrecognizedCount-10)})
			break
		}
	}
	return out
}

// OptionsFor maps a set to robocopy options. Warnings say what robocopy
// cannot express exactly.
func OptionsFor(spec engine.Spec) (Options, []string) {
	var warns []string
	o := Options{
		Source: spec.Source, Destination: spec.Destination,
		Mirror: spec.Mirror, CopyEmptyDirs: spec.CopyEmptyDirs,
		Include: spec.Include, ExcludeFiles: spec.ExcludeFiles, ExcludeDirs: spec.ExcludeDirs,
		ExcludeOlder: spec.ExcludeOlder,
		SkipLinks:    !spec.CopySymlinks, CopyLinks: spec.CopySymlinks,
		// Threads unset: the machine's default (engine.AutoThreads), a
		// share counting as a network side.
		Threads: spec.ThreadsFor(runtime.NumCPU(), isUNC(spec.Source) || isUNC(spec.Destination)),
		Retries: spec.Retries, RetryWait: spec.RetryWait,
		Copy: spec.CopyLetters(), DirCopy: spec.DirCopyLetters(),
		// /IT: an attribute-only change is copied, as the native engine
		// applies it; /SECFIX: so is a security-only one (docs/robocopy.md).
		IncludeTweaked: spec.Copies('A', false),
		FixSecurity:    spec.Copies('S', false) || spec.Copies('O', false) || spec.Copies('U', false),
		ExtraArgs:      spec.RobocopyArgs,
	}
	// Patterns with a path are relative to the set's roots in robo; robocopy
	// matches a path in /XF and /XD only in full, so they are passed under
	// both roots (the destination's for extras).
	o.ExcludeFiles = rootedPatterns(spec.ExcludeFiles, spec.Source, spec.Destination)
	o.ExcludeDirs = rootedPatterns(spec.ExcludeDirs, spec.Source, spec.Destination)
	// The versions folder at the destination root is never listed, mirrored
	// or purged, whether or not the set keeps versions now; the name is
	// reserved at the source root too, as the native engine skips it there.
	o.ExcludeDirs = append(o.ExcludeDirs, fullPaths([]string{engine.VersionsDir}, spec.Source, spec.Destination)...)
	switch tol := spec.TimeTolerance; {
	case tol == 0:
	case tol == 2*time.Second:
		o.FATTimes = true
	default:
		o.FATTimes = true
		warns = append(warns, fmt.Sprintf("robocopy compares times exactly or with 2-second granularity (/FFT); time_tolerance = %s is run as /FFT", tol))
	}
	return o, warns
}

// rootedPatterns passes name patterns and turns each relative-path pattern
// into the same path under each root. Leading and trailing separators are
// trimmed exactly as internal/filter trims them for the native engine, so
// `cache\` means the name `cache` in both engines (and never reaches
// robocopy as a trailing backslash before a closing quote).
func rootedPatterns(pats []string, roots ...string) []string {
	var out []string
	for _, p := range pats {
		q := strings.Trim(strings.ReplaceAll(p, "/", `\`), `\`)
		if q == "" {
			continue
		}
		if !strings.Contains(q, `\`) {
			out = append(out, q)
			continue
		}
		for _, r := range roots {
			out = append(out, strings.TrimRight(strings.ReplaceAll(r, "/", `\`), `\`)+`\`+q)
		}
	}
	return out
}

// Scan implements engine.Engine with robocopy /L.
func (e *Engine) Scan(ctx context.Context, spec engine.Spec) (*engine.ScanResult, error) {
	fi, err := os.Stat(spec.Source)
	if err != nil {
		return nil, &engine.SourceError{Path: spec.Source, Err: err}
	}
	if !fi.IsDir() {
		return nil, &engine.SourceError{Path: spec.Source, Err: errors.New("not a directory")}
	}
	o, warns := e.options(spec)
	o.ListOnly = true
	// The listing runs single-threaded: under /MT robocopy prints no
	// directory lines, so new (empty) directories would be missing from
	// the plan, and /L copies nothing that threads could speed up.
	o.Threads = 0
	job, code, err := e.exec(ctx, o, "list", nil)
	if err != nil {
		return nil, err
	}
	if code.Fatal() {
		return nil, privilegeHint(fatalError(job, code), spec)
	}
	res := ChangesFromJob(job, spec)
	res.Warnings = append(res.Warnings, warns...)
	res.Errors = append(res.Errors, ListingErrors(job, code)...)
	if spec.Mirror {
		e.expandExtraDirs(spec, res)
	}
	if _, err := os.Stat(spec.Destination); err == nil {
		res.Dest.Exists = true
	}
	return res, nil
}

// exec runs robocopy with a UTF-16 log and parses it.
func (e *Engine) exec(ctx context.Context, o Options, what string, onLine func(string)) (*Job, ExitCode, error) {
	keep := e.LogDir != "" && !o.ListOnly
	dir := os.TempDir()
	if keep {
		dir = e.LogDir
		// The logs list private paths: 0700 when robo creates the dir,
		// as for the native run logs (docs/safety.md, "Files robo writes").
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, 0, err
		}
	}
	f, err := os.CreateTemp(dir, "robocopy-"+what+"-*.log")
	if err != nil {
		return nil, 0, fmt.Errorf("robocopy log: %w", err)
	}
	logPath := f.Name()
	f.Close()
	if !keep {
		defer os.Remove(logPath)
	}
	o.UnilogPath = logPath
	args, err := BuildArgs(o)
	if err != nil {
		return nil, 0, err
	}
	run := e.Run
	if run == nil {
		run = runExe
	}
	code, out, err := run(ctx, e.Exe, args, onLine)
	if err != nil {
		return nil, 0, fmt.Errorf("run robocopy: %w", err)
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		return nil, ExitCode(code), fmt.Errorf("read robocopy log %s: %w", logPath, err)
	}
	log := ParseBytes(b)
	if len(log.Jobs) == 0 {
		// Usage errors go to the console only.
		log = ParseBytes(out)
	}
	if len(log.Jobs) == 0 {
		return &Job{Fatal: true}, ExitCode(code), nil
	}
	j := log.Jobs[len(log.Jobs)-1]
	return &j, ExitCode(code), nil
}

func fatalError(job *Job, code ExitCode) error {
	var msgs []string
	for _, er := range job.Errors {
		m := strings.TrimSpace(fmt.Sprintf("%s %s: %s", er.Action, er.Path, er.Message))
		if er.HasCode {
			m = fmt.Sprintf("error %d (%s)", er.Code, m)
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return fmt.Errorf("robocopy failed: exit code %s", code)
	}
	return fmt.Errorf("robocopy failed: exit code %s: %s", code, strings.Join(msgs, "; "))
}

// privilegeHint adds to a fatal robocopy error what the set's copy letters
// need: robocopy stops the whole job, in the display language, when the
// account lacks the auditing right for U ("You do not have the Manage
// Auditing user right"), so the hint is given whatever the words.
func privilegeHint(err error, spec engine.Spec) error {
	if !spec.Copies('U', false) {
		return err
	}
	return fmt.Errorf("%w (the set's copy = %q includes U, auditing information, which needs the \"Manage auditing and security log\" right: run robo as SYSTEM or an elevated administrator, or leave U out of copy)", err, spec.CopyLetters())
}

// runExe runs robocopy without a shell; each argument is passed as is.
func runExe(ctx context.Context, exe string, args []string, onLine func(string)) (int, []byte, error) {
	cmd := exec.CommandContext(ctx, exe, args...)
	var out limitedBuffer
	out.max = 1 << 16
	cmd.Stdout = &lineWriter{w: &out, onLine: onLine}
	cmd.Stderr = &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.Bytes(), nil
	}
	if err != nil {
		return 0, out.Bytes(), err
	}
	return 0, out.Bytes(), nil
}

// lineWriter passes writes through and calls onLine for each complete
// line (CR or LF ended; robocopy's console uses both).
type lineWriter struct {
	w      io.Writer
	onLine func(string)
	buf    []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	if l.onLine != nil {
		for _, b := range p {
			if b == '\n' || b == '\r' {
				if len(l.buf) > 0 {
					l.onLine(string(l.buf))
					l.buf = l.buf[:0]
				}
				continue
			}
			if len(l.buf) < 1<<16 {
				l.buf = append(l.buf, b)
			}
		}
	}
	return l.w.Write(p)
}

// progress turns console file lines into progress events: each copied
// file, as robocopy reports it, with its size.
func progress(rep engine.Reporter, spec engine.Spec) func(string) {
	return func(line string) {
		f, ok := parseFileTab(line)
		if !ok {
			return
		}
		var c engine.Change
		switch f.Class {
		case "New File":
			c = engine.Change{Action: engine.Create, Class: engine.New}
		case "Newer":
			c = engine.Change{Action: engine.Update, Class: engine.Newer}
		case "Older":
			c = engine.Change{Action: engine.Update, Class: engine.Older}
		case "Changed":
			c = engine.Change{Action: engine.Update, Class: engine.Changed}
		case "*EXTRA File":
			if !spec.Mirror {
				return
			}
			c = engine.Change{Action: engine.Delete, Class: engine.Extra}
		default:
			return
		}
		c.Kind, c.Size = engine.KindFile, max(f.Size, 0)
		c.Path = f.Path
		if rel, ok := relPath(spec.Source, f.Path); ok {
			c.Path = rel
		} else if rel, ok := relPath(spec.Destination, f.Path); ok {
			c.Path = rel
		}
		rep.Report(engine.Event{Change: &c, Bytes: c.Size, Done: true})
	}
}

// limitedBuffer keeps the last max bytes written.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	b.Buffer.Write(p)
	if over := b.Len() - b.max; over > 0 {
		b.Next(over)
	}
	return n, nil
}

// relPath turns a path printed by robocopy into a slash-separated path
// relative to root, comparing case-insensitively as Windows does.
func relPath(root, p string) (string, bool) {
	root = strings.TrimRight(strings.ReplaceAll(root, "/", `\`), `\`)
	p = strings.TrimRight(strings.ReplaceAll(p, "/", `\`), `\`)
	if strings.EqualFold(p, root) {
		return "", true
	}
	if len(p) > len(root) && strings.EqualFold(p[:len(root)], root) && p[len(root)] == '\\' {
		return strings.ReplaceAll(p[len(root)+1:], `\`, "/"), true
	}
	return "", false
}

// ChangesFromJob reads a robocopy /L listing (made with /FP) into robo's
// change model. Entries it cannot place or classify become scan errors,
// which make the planner drop every deletion: an unreadable listing must
// never delete.
func ChangesFromJob(job *Job, spec engine.Spec) *engine.ScanResult {
	res := &engine.ScanResult{Source: engine.TreeStats{Exists: true}}
	// robocopy's listing is in memory already (Job): so is the list
	// made from it until it is done.
	var changes []engine.Change
	defer func() { res.Changes = engine.ChangeListOf(changes) }()
	place := func(p string, roots ...string) (string, bool) {
		for _, r := range roots {
			if rel, ok := relPath(r, p); ok {
				return rel, true
			}
		}
		return "", false
	}
	unknown := func(what, p string) {
		res.Errors = append(res.Errors, engine.FileError{Path: p, Op: "read robocopy listing", Err: what})
	}
	for _, d := range job.Dirs {
		switch d.Class {
		case "New Dir":
			rel, ok := place(d.Path, spec.Source)
			if !ok {
				unknown("new directory outside the source", d.Path)
				continue
			}
			changes = append(changes, engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindDir, Path: rel, Phase: engine.PhaseCopy})
		case "*EXTRA Dir":
			rel, ok := place(d.Path, spec.Destination)
			if !ok {
				unknown("extra directory outside the destination", d.Path)
				continue
			}
			res.ExtraDirs++
			if spec.Mirror {
				changes = append(changes, engine.Change{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindDir, Path: rel, Phase: engine.PhaseDelete})
			}
		case "*MISMATCH":
			res.Mismatches++
		}
	}
	for _, f := range job.Files {
		p := f.FullPath
		if p == "" {
			p = f.Path
		}
		size := max(f.Size, 0)
		switch f.Class {
		case "New File", "Newer", "Older", "Changed", "Tweaked", "Same", "Modified":
			rel, ok := place(p, spec.Source)
			if !ok {
				unknown("file outside the source", p)
				continue
			}
			c := engine.Change{Action: engine.Update, Kind: engine.KindFile, Path: rel, Phase: engine.PhaseCopy, Size: size}
			switch f.Class {
			case "New File":
				c.Action, c.Class = engine.Create, engine.New
			case "Newer":
				c.Class = engine.Newer
			case "Older":
				c.Class = engine.Older
			case "Tweaked":
				// Listed with /IT (a set that copies A): same size and
				// time, other attributes. robocopy copies the file again.
				c.Class = engine.Tweaked
			default:
				c.Class = engine.Changed
			}
			changes = append(changes, c)
		case "*EXTRA File":
			rel, ok := place(p, spec.Destination)
			if !ok {
				unknown("extra file outside the destination", p)
				continue
			}
			res.ExtraFiles++
			res.Dest.Files++
			res.Dest.Bytes += size
			if spec.Mirror {
				changes = append(changes, engine.Change{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: rel, Phase: engine.PhaseDelete, Size: size})
			}
		case "*MISMATCH":
			res.Mismatches++
			if rel, ok := place(p, spec.Source); ok && spec.Mirror {
				changes = append(changes, engine.Change{Action: engine.Replace, Class: engine.Mismatch, Kind: engine.KindFile, Path: rel, Phase: engine.PhaseReplace, Size: size})
			}
		case "":
			unknown(UnknownTagError(job, f.RawTag), p)
		default:
			// Lowercase classes are skipped entries (/V); nothing to do.
		}
	}
	if s := job.Summary; s != nil {
		res.Source.Files = s.Files.Total
		res.Source.Bytes = s.Bytes.Total
		res.Source.Dirs = max(s.Dirs.Total-1, 0) // robocopy counts the root
		// Destination files that match a source file, plus the extras.
		var created int64
		for _, c := range changes {
			if c.Action == engine.Create && c.Kind == engine.KindFile {
				created++
			}
		}
		res.Dest.Files += max(s.Files.Total-created, 0)
	}
	return res
}

// expandExtraDirs lists each extra directory robocopy will purge, so that
// the plan names every file it deletes (robocopy's listing shows only the
// directory) and max_delete counts them. Files go before their directory.
func (e *Engine) expandExtraDirs(spec engine.Spec, res *engine.ScanResult) {
	var out []engine.Change
	for _, c := range res.Changes.Slice() {
		if c.Action != engine.Delete || c.Kind != engine.KindDir {
			out = append(out, c)
			continue
		}
		root := filepath.Join(spec.Destination, filepath.FromSlash(c.Path))
		var inner []engine.Change
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(spec.Destination, p)
			rel = filepath.ToSlash(rel)
			info, err := d.Info()
			if err != nil {
				return err
			}
			m := &engine.Meta{Size: info.Size(), MTime: info.ModTime().UnixNano()}
			switch {
			case d.IsDir():
				m.Kind, m.Size = engine.KindDir, 0
				if p != root {
					res.ExtraDirs++
				}
				inner = append(inner, engine.Change{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindDir, Path: rel, Phase: engine.PhaseDelete, Dst: m})
			default:
				m.Kind = engine.KindFile
				res.ExtraFiles++
				res.Dest.Files++
				res.Dest.Bytes += m.Size
				inner = append(inner, engine.Change{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: rel, Phase: engine.PhaseDelete, Size: m.Size, Dst: m})
			}
			return nil
		})
		if err != nil {
			res.Errors = append(res.Errors, engine.FileError{Path: c.Path, Op: "read destination dir", Err: err.Error()})
			continue
		}
		// Deepest first: reverse the directories' pre-order.
		for i := len(inner) - 1; i >= 0; i-- {
			out = append(out, inner[i])
		}
	}
	res.Changes.Close()
	res.Changes = engine.ChangeListOf(out)
}

// Apply implements engine.Engine: it runs robocopy for the whole set.
func (e *Engine) Apply(ctx context.Context, job engine.Job, rep engine.Reporter) (*engine.Result, error) {
	start := time.Now()
	// robocopy converges the set itself: the list only checks it, and is
	// as long as robocopy's own listing, which is in memory.
	changes := job.Changes.Slice()
	planned := deletions(changes)
	if job.Spec.Mirror {
		now, err := e.Scan(ctx, job.Spec)
		if err != nil {
			return nil, err
		}
		if len(now.Errors) > 0 {
			return nil, fmt.Errorf("robocopy's listing could not be read completely (%s); nothing was run", now.Errors[0])
		}
		if n := deletions(now.Changes.Slice()); n > planned {
			return nil, fmt.Errorf("robocopy would now delete %d entries, the plan showed %d: refusing to run it; make a new plan", n, planned)
		}
	}
	o, warns := e.options(job.Spec)
	if rep == nil {
		rep = engine.Discard
	}
	var kept victims
	stamp := ""
	if job.Spec.Versions != nil {
		stamp = engine.VersionStamp(start)
		kept = moveVictims(job.Spec.Destination, stamp, changes)
		// What could not be kept is left exactly as it is.
		o.ExcludeFiles = append(o.ExcludeFiles, fullPaths(kept.Kept, job.Spec.Source, job.Spec.Destination)...)
		if len(kept.Errors) > 0 {
			o.Mirror = false
			warns = append(warns, "a file that would be overwritten could not be kept in the versions folder, so robocopy ran without /MIR: nothing was deleted")
		}
	}
	j, code, err := e.exec(ctx, o, "run", progress(rep, job.Spec))
	if err != nil {
		return nil, err
	}
	if code.Fatal() {
		return nil, privilegeHint(fatalError(j, code), job.Spec)
	}
	res := ResultFromJob(j, code, job.Spec.Mirror)
	res.Warnings = append(warns, res.Warnings...)
	if o.Threads > 1 && o.Version.Release() != ReleaseXP {
		correctMTDirs(res, changes)
	}
	if stamp != "" {
		res.Errors = append(res.Errors, kept.Errors...)
		res.Skipped = append(res.Skipped, kept.Skips...)
		res.DeletesSkipped += kept.DeletesSkipped
		res.FilesVersioned, res.BytesVersioned = kept.Files, kept.Bytes
		if kept.Files > 0 {
			res.VersionsFolder = engine.VersionsDir + "/" + stamp
		}
		if len(kept.Errors) > 0 && res.ExitCodeRaw != nil {
			*res.ExitCodeRaw |= engine.ExitFailed
		}
	}
	if ctx.Err() != nil {
		res.Interrupted = true
	}
	if copied, want := res.Counters.Files.Copied, copies(changes); copied > want {
		res.Warnings = append(res.Warnings, fmt.Sprintf("robocopy copied %d files, the plan listed %d: the source changed since the plan", copied, want))
	}
	if stamp != "" && res.OK() && len(job.PruneVersions) > 0 {
		pruned, errs := pruneVersions(job.Spec.Destination, stamp, job.PruneVersions)
		res.VersionsPruned, res.Errors = pruned, append(res.Errors, errs...)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// fullPaths places each slash-separated relative path under each root, as
// robocopy's /XF matches a path in full.
func fullPaths(rels []string, roots ...string) []string {
	var out []string
	for _, rel := range rels {
		for _, r := range roots {
			out = append(out, strings.TrimRight(strings.ReplaceAll(r, "/", `\`), `\`)+`\`+strings.ReplaceAll(rel, "/", `\`))
		}
	}
	return out
}

// ResultFromJob turns a parsed robocopy run and its exit code into a Result.
// A run without a summary is reported as unknown (an error), never as zero.
//
// Success is decided by the exit code and the FAILED column, not by ERROR
// lines: robocopy prints an ERROR line for every failed attempt, and an
// item that succeeded on a retry leaves its ERROR lines behind in a run that
// ends with exit code 1 and FAILED 0. Such errors become warnings (with
// their codes). In a failed run, the items robocopy gave up on ("RETRY
// LIMIT EXCEEDED") are the errors, one per path; the rest are warnings.
// NOTE lines ("Security may not be copied") are warnings.
func ResultFromJob(j *Job, code ExitCode, mirror bool) *engine.Result {
	raw := int(code)
	res := &engine.Result{ExitCodeRaw: &raw}
	failed := code.Failed()
	if s := j.Summary; s != nil && s.Files.Failed+s.Dirs.Failed > 0 {
		failed = true
	}
	gaveUp := map[string]bool{}
	anyGaveUp := false
	for _, er := range j.Errors {
		if er.RetryLimitExceeded || er.Fatal {
			gaveUp[er.Path], anyGaveUp = true, true
		}
	}
	seen := map[string]bool{}
	for _, er := range j.Errors {
		fe := engine.FileError{Path: er.Path, Op: strings.TrimSpace(er.Action), Err: er.describe()}
		isErr := failed && (!anyGaveUp || gaveUp[er.Path])
		if !isErr {
			res.Warnings = append(res.Warnings, fmt.Sprintf("robocopy reported %s on %s %s and went on (retried or skipped; the run did not fail)", er.describe(), fe.Op, er.Path))
			continue
		}
		if seen[er.Path] && er.Path != "" {
			continue // the same item's earlier attempts
		}
		seen[er.Path] = true
		if inUse(j, er) {
			res.Changing = append(res.Changing, fe)
			continue
		}
		res.Errors = append(res.Errors, fe)
	}
	for _, n := range j.Notes {
		res.Warnings = append(res.Warnings, "robocopy: "+n)
	}
	if s := j.Summary; s != nil {
		res.Counters = engine.Counters{Dirs: s.Dirs, Files: s.Files, Bytes: s.Bytes}
		res.BytesCopied = s.Bytes.Copied
		res.Done = s.Files.Copied + s.Dirs.Copied
		if mirror {
			res.DeletedFiles, res.DeletedDirs = s.Files.Extras, s.Dirs.Extras
		}
	} else {
		res.Errors = append(res.Errors, engine.FileError{Op: "read robocopy log", Err: fmt.Sprintf("robocopy wrote no summary (exit code %s): what it did is unknown", code)})
	}
	if failed && len(res.Errors) == 0 && len(res.Changing) == 0 {
		// Some builds fail files without an error line (SEMANTICS.md §4).
		msg := fmt.Sprintf("exit code %s", code)
		if s := j.Summary; s != nil {
			msg += fmt.Sprintf(", %d files and %d directories failed", s.Files.Failed, s.Dirs.Failed)
		}
		res.Errors = append(res.Errors, engine.FileError{Op: "robocopy", Err: msg})
	}
	return res
}

// inUse reports whether er is robocopy giving up on a source file that
// another process holds open: ERROR 32 (ERROR_SHARING_VIOLATION, "being
// used by another process") or 33 (ERROR_LOCK_VIOLATION, "another process
// has locked a portion of the file") on a path under the job's source.
// That is robocopy's form of a file that keeps changing while it is
// copied (a live database, a mailbox open in its program), reported in
// Result.Changing (docs/state.md). The path, not the localized action
// phrase, says it was being read.
func inUse(j *Job, er Error) bool {
	if !er.HasCode || (er.Code != 32 && er.Code != 33) || j.Source == "" {
		return false
	}
	root := strings.ToLower(strings.TrimRight(j.Source, `\`)) + `\`
	return strings.HasPrefix(strings.ToLower(er.Path), root)
}

// correctMTDirs replaces the directory count of a /MT run: robocopy
// counts every directory it walked as copied under /MT (FORMAT.md §5), which
// would inflate what the run reports as done. The run created at most the
// directories the plan listed as new.
func correctMTDirs(res *engine.Result, planned []engine.Change) {
	var dirs int64
	for _, c := range planned {
		if c.Action == engine.Create && c.Kind == engine.KindDir {
			dirs++
		}
	}
	d := &res.Counters.Dirs
	if d.Copied > dirs {
		d.Skipped += d.Copied - dirs
		d.Copied = dirs
	}
	res.Done = res.Counters.Files.Copied + d.Copied
}

func deletions(cs []engine.Change) int {
	n := 0
	for _, c := range cs {
		if c.Action == engine.Delete || c.Action == engine.Replace {
			n++
		}
	}
	return n
}

func copies(cs []engine.Change) int64 {
	var n int64
	for _, c := range cs {
		if c.Kind != engine.KindDir && (c.Action == engine.Create || c.Action == engine.Update || c.Action == engine.Replace) {
			n++
		}
	}
	return n
}

var _ io.Writer = (*limitedBuffer)(nil)

// isUNC reports whether p is a UNC path (\\server\share or //server/share).
func isUNC(p string) bool {
	return len(p) > 2 && (p[0] == '\\' || p[0] == '/') && p[1] == p[0]
}
