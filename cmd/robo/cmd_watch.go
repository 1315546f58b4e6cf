package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gofrs/flock"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/watch"
	"github.com/robo-backup/robo/internal/web"
	"github.com/robo-backup/robo/schema"
)

// watchStateLockTimeout is how long a watch run waits for the state lock
// (held by a robo apply started by hand, or by another run of this watch).
const watchStateLockTimeout = 10 * time.Minute

func runWatch(e *env, args []string) error {
	fs := newFlags(e, "watch", "watch [-once] [-status] [-listen ADDR [-token-file FILE] [-auth] [-fleet PATH]] [-log-level LEVEL] [-var name=value]...")
	vars := addVarFlag(fs)
	once := fs.Bool("once", false, "run what is due now (missed scheduled runs and watched sets), then exit")
	status := fs.Bool("status", false, "print what the robo watch running on this configuration is doing, and exit")
	level := fs.String("log-level", "", "log level: trace, debug, info, warn or error (default: robo's -log-level, else info)")
	var uf uiFlags // dashboard (cmd_ui.go, docs/api.md)
	uf.register(fs, "", "also serve the dashboard, its API and metrics on ADDR (host:port, e.g. 127.0.0.1:8765)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fatalf("robo watch takes no arguments, got %q", fs.Arg(0))
	}
	if *status {
		return printWatchStatus(e, vars)
	}
	log, err := e.logger(*level)
	if err != nil {
		return err
	}
	return watchLoop(e.ctx, e, watchParams{vars: vars, once: *once, log: log, ui: uf})
}

type watchParams struct {
	vars varFlags
	once bool
	log  hclog.Logger
	// service: report configuration problems through the log (the event
	// log on Windows) rather than only on stderr.
	service bool
	// ui: the dashboard's flags; served when ui.listen is set.
	ui uiFlags
}

// newWatchLogger returns a text logger on w (e.logger is robo watch's,
// with the global logging options).
func newWatchLogger(w io.Writer, level string) (hclog.InterceptLogger, error) {
	return newLogger(w, level, "text")
}

// watchLoader loads the configuration directory for a reload, rendering
// the diagnostics as located text.
func watchLoader(e *env, vars varFlags) watch.Loader {
	return func() (*schema.Config, string, error) {
		cfg, diags := schema.Load(e.dir, schemaOptions(e, vars))
		var buf bytes.Buffer
		if len(diags) > 0 {
			hcl.NewDiagnosticTextWriter(&buf, cfg.Files, 0, false).WriteDiagnostics(diags)
		}
		if diags.HasErrors() {
			n := 0
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					n++
				}
			}
			return cfg, buf.String(), fmt.Errorf("the configuration has %d %s", n, pluralWord(n, "error", "errors"))
		}
		return cfg, buf.String(), nil
	}
}

// watchLoop is robo watch: the loop of robo watch and of the service.
func watchLoop(ctx context.Context, e *env, p watchParams) error {
	load := watchLoader(e, p.vars)
	cfg, diags, err := load()
	if diags != "" {
		fmt.Fprint(e.stderr, diags)
		if p.service {
			p.log.Warn("configuration diagnostics", "diagnostics", diags)
		}
	}
	if err != nil {
		if p.service {
			p.log.Error("robo watch cannot start", "error", err)
		}
		return exitErr(exitError)
	}
	store, err := openStore(cfg)
	if err != nil {
		return err
	}
	wl, err := lockWatch(store)
	if err != nil {
		if p.service {
			p.log.Error("robo watch cannot start", "error", err)
		}
		return err
	}
	defer wl.unlock()
	e.startFleet(cfg, p.log) // host key, first report (cmd_fleet.go)

	applyLog := p.log.Named("apply")
	if !p.log.IsDebug() && !p.log.IsTrace() {
		applyLog.SetLevel(hclog.Warn)
	}
	var dash *web.Server // the dashboard, with -listen: it records each run
	runner := watch.RunnerFunc(func(ctx context.Context, cfg *schema.Config, sets []string) []watch.Outcome {
		out := make([]watch.Outcome, 0, len(sets))
		for _, name := range sets {
			// With -listen the dashboard follows the run live and
			// records it with its own run log.
			live := newLiveRun(dash, name)
			o := convergeOne(ctx, e, cfg, name, applyLog, live.watchers())
			live.end(o)
			out = append(out, o)
		}
		return out
	})
	w := watch.New(watch.Options{Config: cfg, Load: load, Runner: runner, Log: p.log,
		OnStatus: func(s watch.Status) { wl.writeStatus(s, p.log) },
		Stale: func(ctx context.Context, cfg *schema.Config, set string, last time.Time) {
			e.notifyStale(ctx, cfg, set, last, p.log)
		}})
	wl.writeStatus(w.Status(), p.log)
	if p.ui.listen != "" && !p.once {
		var stop func()
		if dash, stop, err = startWatchUI(e, cfg, p, w); err != nil {
			return err
		}
		defer stop()
	}
	if p.once {
		outs := w.Once(ctx)
		failed := 0
		for _, o := range outs {
			if !o.OK() {
				failed++
			}
		}
		if failed > 0 {
			return exitErr(exitError)
		}
		return nil
	}
	p.log.Info("robo watch started", "config", cfg.Dir, "pid", os.Getpid(), "max_parallel", cfg.Settings.MaxParallel)
	return w.Run(ctx)
}

// notifyStale sends a stale event of set to the notifiers that want it,
// recording each send in the audit trail; a failed send is a warning on log.
func (e *env) notifyStale(ctx context.Context, cfg *schema.Config, set string, lastSuccess time.Time, log hclog.Logger) {
	if len(cfg.Notifiers) == 0 {
		return
	}
	d, done := e.dispatcher(cfg, "")
	defer done()
	for _, r := range d.Stale(ctx, set, lastSuccess) {
		e.recordNotify(r)
		if r.Err != nil {
			log.Warn("notification failed", "notifier", r.Notifier, "set", r.Set, "event", r.Event, "target", r.Target, "error", r.Err)
		}
	}
}

// convergeOne is one watch run: plan+apply of one set under the state lock,
// exactly robo apply -auto-approve -target NAME; w follows it (the
// dashboard's live progress).
func convergeOne(ctx context.Context, e *env, cfg *schema.Config, name string, log hclog.Logger, w runWatchers) watch.Outcome {
	start := time.Now()
	p, res, err := convergeWith(ctx, e, cfg, []string{name}, "watch", watchStateLockTimeout, log, w)
	// A long-running watch makes a plan per run: its change lists' spill
	// files go now, not when the collector finds them.
	p.Close()
	return outcomeOf(name, start, res, err, ctx)
}

// outcomeOf is the outcome of set in an apply that started at start.
func outcomeOf(name string, start time.Time, res *apply.Result, err error, ctx context.Context) watch.Outcome {
	o := watch.Outcome{Set: name, Outcome: state.Success, Message: "nothing to do"}
	if res != nil {
		for _, r := range res.Sets {
			if r.Name != name {
				continue
			}
			o.Outcome, o.Message = r.Outcome, r.Message
			if r.Result != nil {
				o.FilesCopied, o.BytesCopied = r.Result.Counters.Files.Copied, r.Result.BytesCopied
				if sn := r.Result.Snapshot; sn != nil {
					o.Snapshot = sn.Kind + " " + sn.ID
				}
			}
		}
	}
	switch {
	case err != nil && ctx.Err() != nil && res == nil:
		o.Outcome, o.Message = state.Interrupted, "stopped before it started: "+err.Error()
	case err != nil:
		o.Outcome, o.Message = state.Failed, err.Error()
	}
	o.Duration = time.Since(start)
	return o
}

// watchLock keeps a second robo watch off the same configuration. It is a
// lock file beside the state (not the state lock, which each run takes,
// so robo apply by hand still works between runs), and a status file that
// says who holds it and what it is doing.
type watchLock struct {
	fl         *flock.Flock
	statusPath string
}

func watchLockPath(store *state.Store) string   { return store.Path + ".watch.lock" }
func watchStatusPath(store *state.Store) string { return store.Path + ".watch.json" }

func lockWatch(store *state.Store) (*watchLock, error) {
	if err := os.MkdirAll(filepath.Dir(store.Path), 0o700); err != nil {
		return nil, fatalf("watch lock: %v", err)
	}
	fl := flock.New(watchLockPath(store))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fatalf("watch lock %s: %v", watchLockPath(store), err)
	}
	if !ok {
		msg := "another robo watch is running on this configuration"
		if s, err := readWatchStatus(store); err == nil {
			msg = fmt.Sprintf("another robo watch is running on this configuration: pid %d on %s, since %s", s.PID, s.Host, s.Since.Format(time.RFC3339))
		}
		return nil, fatalf("%s", msg).hint("stop it first (robo service stop, or interrupt it); robo plan and robo apply work while it runs").
			hint("lock file: " + watchLockPath(store))
	}
	return &watchLock{fl: fl, statusPath: watchStatusPath(store)}, nil
}

func (l *watchLock) unlock() {
	os.Remove(l.statusPath)
	l.fl.Unlock()
}

// writeStatus replaces the status file (temp file and rename, retried on
// Windows while a reader holds it: state.ReplaceFile).
func (l *watchLock) writeStatus(s watch.Status, log hclog.Logger) {
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := state.ReplaceFile(l.statusPath, append(b, '\n')); err != nil {
		log.Warn("cannot write the watch status file", "error", err)
	}
}

func readWatchStatus(store *state.Store) (*watch.Status, error) {
	b, err := state.ReadFile(watchStatusPath(store)) // lets the watch replace it meanwhile
	if err != nil {
		return nil, err
	}
	var s watch.Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// watchRunning reports whether a robo watch holds the watch lock.
func watchRunning(store *state.Store) bool {
	fl := flock.New(watchLockPath(store))
	ok, err := fl.TryLock()
	if err != nil {
		return false
	}
	if ok {
		fl.Unlock()
		return false
	}
	return true
}

func printWatchStatus(e *env, vars varFlags) error {
	_, store, err := loadWithStore(e, vars)
	if err != nil {
		return err
	}
	if !writeWatchStatus(e.stdout, store) {
		return exitErr(exitError)
	}
	return nil
}

// writeWatchStatus prints the status of the robo watch on store; it
// reports whether one is running.
func writeWatchStatus(w io.Writer, store *state.Store) bool {
	if !watchRunning(store) {
		fmt.Fprintf(w, "robo watch is not running on this configuration.\n")
		return false
	}
	s, err := readWatchStatus(store)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(w, "robo watch is running (starting up).\n")
		} else {
			fmt.Fprintf(w, "robo watch is running; its status file cannot be read: %v\n", err)
		}
		return true
	}
	fmt.Fprintf(w, "robo watch is running: pid %d on %s, since %s.\n", s.PID, s.Host, s.Since.Format(time.RFC3339))
	fmt.Fprintf(w, "Configuration %s, loaded %s.\n", s.ConfigDir, s.ConfigLoaded.Format(time.RFC3339))
	if s.ConfigError != "" {
		fmt.Fprintf(w, "\nThe configuration changed at %s but has errors, so the previous one keeps running:\n%s\n",
			s.ConfigErrorAt.Format(time.RFC3339), indent(s.ConfigError))
	}
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warn)
	}
	if s.WatchedDirs > 0 {
		fmt.Fprintf(w, "Watching %d source %s.\n", s.WatchedDirs, pluralWord(s.WatchedDirs, "directory", "directories"))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SET\tTRIGGERS\tNEXT\tLAST\tOUTCOME")
	for _, ss := range s.Sets {
		var trig []string
		if ss.Schedule != "" {
			trig = append(trig, ss.Schedule)
		}
		if ss.Watch {
			trig = append(trig, "watch")
		}
		if len(trig) == 0 {
			trig = append(trig, "-")
		}
		next, last, outcome := "-", "-", "-"
		if ss.Next != nil {
			next = ss.Next.Local().Format("2006-01-02 15:04")
		}
		if ss.LastEnd != nil {
			last = ss.LastEnd.Local().Format("2006-01-02 15:04:05")
			outcome = ss.LastOutcome
			if ss.LastMessage != "" {
				outcome += ": " + ss.LastMessage
			}
		}
		if ss.Running {
			outcome = "running"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ss.Name, strings.Join(trig, ", "), next, last, outcome)
	}
	tw.Flush()
	return true
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}
