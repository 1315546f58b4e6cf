package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/hooks"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/state"
)

// Options configure Run.
type Options struct {
	Store   *state.Store
	Engines plan.Engines
	// Progress returns the reporter for one set's file operations. A
	// reporter that implements [Finisher] is told when the engine returns.
	Progress func(set string) engine.Reporter
	// RunLog, when set, is called before a set's engine runs, with the
	// engine's name and the job. It returns a reporter that receives the
	// run's events as well as Progress's, and a function called with the
	// engine's result (or the error it returned) once it returns; a nil
	// reporter means no run log for this set (robo writes one for the
	// native engine; the robocopy engine keeps robocopy's own log).
	RunLog func(set, engineName string, job engine.Job) (engine.Reporter, func(*engine.Result, error))
	Logger hclog.Logger
	Now    func() time.Time
	// RoboVersion is recorded in the state as the last writer's version.
	RoboVersion string
	// Hooks runs the sets' before, after and on_failure commands; nil runs
	// none. See applySet for when each phase runs.
	Hooks Hooks
	// LockSet, when set, takes a set's own lock before its engine runs;
	// a set that cannot be locked fails without being touched.
	LockSet func(ctx context.Context, set string) (unlock func(), err error)
	// Verify, when set, checks a set whose spec asks for it
	// (verify_after_apply) after a successful engine run; a set that does
	// not match ends partial with the message.
	Verify func(ctx context.Context, spec engine.Spec) (ok bool, message string)
	// Commit, when set, records one set's new state entry (nil: remove it)
	// instead of writing the whole state through Store: a caller that does
	// not hold the state lock for the whole run (robo watch) re-reads and
	// writes the state under the lock for each set.
	Commit func(set string, rec *state.Set) error
}

// Finisher is implemented by a progress reporter that wants to know when
// the set's engine run ended.
type Finisher interface {
	Finish(res *engine.Result, err error)
}

// tee sends each event to every reporter.
type tee []engine.Reporter

func (t tee) Report(ev engine.Event) {
	for _, r := range t {
		r.Report(ev)
	}
}

// Hooks runs a set's hook commands (internal/hooks.Runner implements it).
// Run returns nil when the set has no command for the phase; otherwise it
// reports every failure (start, exit status, timeout) in the Result and
// never panics. It must stop the command when ctx ends.
type Hooks interface {
	Run(ctx context.Context, c hooks.Call) *hooks.Result
}

// SetResult is the outcome of one set.
type SetResult struct {
	Name    string         `json:"name"`
	Action  plan.Action    `json:"action"`
	Outcome string         `json:"outcome"`
	Message string         `json:"message,omitempty"`
	Result  *engine.Result `json:"result,omitempty"`
	// Hooks are the hook commands that ran, in order.
	Hooks []*hooks.Result `json:"hooks,omitempty"`
}

// OK reports whether the set converged.
func (r *SetResult) OK() bool { return r.Outcome == state.Success }

// Result is the outcome of a whole apply.
type Result struct {
	Sets []*SetResult `json:"sets"`
}

// OK reports whether every set converged.
func (r *Result) OK() bool {
	for _, s := range r.Sets {
		if !s.OK() {
			return false
		}
	}
	return true
}

// ErrInvalidPlan wraps the error Run returns for a plan that fails
// plan.Plan.Validate: nothing was run.
var ErrInvalidPlan = errors.New("the plan is not valid")

// Run applies p. st is the current state (nil when there is none; a new one
// is created) and is written through opts.Store after each set. It returns
// an error only when the state cannot be written, or, wrapping
// ErrInvalidPlan, when p is not valid (plan.Plan.Validate, checked again
// here whoever made the plan): then nothing ran, no hook, no engine, and
// the state is unchanged.
func Run(ctx context.Context, p *plan.Plan, st *state.State, opts Options) (*Result, *state.State, error) {
	if err := p.Validate(); err != nil {
		return &Result{Sets: []*SetResult{}}, st, fmt.Errorf("%w: %w", ErrInvalidPlan, err)
	}
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if st == nil {
		st = state.New()
	}
	if opts.RoboVersion != "" {
		st.RoboVersion = opts.RoboVersion
	}
	res := &Result{Sets: []*SetResult{}}
	for _, s := range p.Sets {
		r := &SetResult{Name: s.Name, Action: s.Action}
		res.Sets = append(res.Sets, r)
		changed := applySet(ctx, s, st, r, opts, log, now)
		if !changed {
			continue
		}
		var err error
		if opts.Commit != nil {
			err = opts.Commit(s.Name, st.Sets[s.Name])
			if err == nil && s.MovedFrom != "" && st.Sets[s.MovedFrom] == nil {
				// The old name goes once the new one is recorded.
				err = opts.Commit(s.MovedFrom, nil)
			}
		} else {
			err = opts.Store.Write(st)
		}
		if err != nil {
			return res, st, err
		}
	}
	return res, st, nil
}

// applySet converges one set and updates st; it reports whether st changed.
func applySet(ctx context.Context, s *plan.Set, st *state.State, r *SetResult, opts Options, log hclog.Logger, now func() time.Time) bool {
	// A renamed set (moved block) takes its old entry first, whatever
	// happens next, so its history is kept under the new name.
	moved := s.MovedFrom != "" && st.Move(s.MovedFrom, s.Name) == nil
	if moved {
		log.Info("moved set in the state", "from", s.MovedFrom, "to", s.Name)
	}
	// The outcome message embeds names and error texts, and travels to
	// the state, notifications, the dashboard and terminals: it is kept
	// free of control characters and bytes that are not UTF-8
	// (safetext.Line, which is idempotent) before anyone sees it.
	defer func() {
		r.Message = safetext.Line(r.Message)
		if rec := st.Sets[s.Name]; rec != nil && rec.LastRun != nil {
			rec.LastRun.Message = safetext.Line(rec.LastRun.Message)
		}
	}()
	rec := st.Sets[s.Name]
	switch {
	case s.Action == plan.Forget:
		delete(st.Sets, s.Name)
		r.Outcome, r.Message = state.Success, "removed from the state; "+s.Destination+" was not touched"
		log.Info("forgot set", "set", s.Name)
		return true
	case s.Refused != "":
		r.Outcome, r.Message = state.Refused, s.Refused
	case s.Error != "":
		r.Outcome, r.Message = state.Failed, s.Error
	case s.Spec == nil:
		r.Outcome, r.Message = state.Success, s.Reason
		return moved
	}
	if r.Outcome != "" {
		log.Warn("set not applied", "set", s.Name, "outcome", r.Outcome, "reason", safetext.Line(r.Message))
		runOnFailure(ctx, s, r, opts)
		if rec == nil {
			// Recorded without a config digest: the next plan still says
			// create, and status can show the failed run.
			rec = &state.Set{Name: s.Name, Source: s.Source, Destination: s.Destination, Mode: s.Mode}
			st.Sets[s.Name] = rec
		}
		rec.LastRun = &state.Run{Started: now().UTC(), Outcome: r.Outcome, Message: r.Message, ExitCode: engine.ExitFatal}
		return true
	}
	if err := ctx.Err(); err != nil {
		r.Outcome, r.Message = state.Interrupted, "not started: "+err.Error()
		return moved
	}
	if opts.LockSet != nil {
		unlock, err := opts.LockSet(ctx, s.Name)
		if err != nil {
			r.Outcome, r.Message = state.Failed, err.Error()
			log.Warn("set not applied", "set", s.Name, "reason", safetext.Line(r.Message))
			return moved
		}
		defer unlock()
	}
	started := now()
	if res := runHook(ctx, s, r, opts, hooks.Before); res != nil && !res.OK() {
		// A failed before hook (a database that could not be quiesced)
		// means the copy would not be consistent: the engine never runs,
		// nor does after, which undoes what before did.
		r.Outcome, r.Message = state.Failed, "before hook failed ("+res.Error+"): the set was not applied"
		if ctx.Err() != nil {
			r.Outcome = state.Interrupted
		}
		log.Error("set not applied: before hook failed", "set", s.Name, "error", safetext.Line(res.Error))
		runOnFailure(ctx, s, r, opts)
		if rec == nil {
			rec = &state.Set{Name: s.Name, Source: s.Source, Destination: s.Destination, Mode: s.Mode}
			st.Sets[s.Name] = rec
		}
		rec.LastRun = &state.Run{Started: started.UTC(), Duration: now().Sub(started), Outcome: r.Outcome, Message: r.Message, ExitCode: engine.ExitFatal}
		return true
	}
	log.Info("applying set", "set", s.Name, "engine", s.Engine, "changes", s.Changes.Len())
	eng, err := opts.Engines.Select(s.Engine)
	var er *engine.Result
	if err == nil {
		rep := engine.Discard
		if opts.Progress != nil {
			rep = opts.Progress(s.Name)
		}
		progress := rep
		job := engine.Job{Spec: *s.Spec, Changes: s.Changes, PruneVersions: s.PruneVersions, Roots: s.Roots}
		if s.Summary != nil {
			job.Source = engine.TreeStats{Exists: true, Files: s.Summary.SourceFiles, Dirs: s.Summary.SourceDirs, Bytes: s.Summary.SourceBytes}
		}
		var finishLog func(*engine.Result, error)
		if opts.RunLog != nil {
			if lr, fin := opts.RunLog(s.Name, eng.Name(), job); lr != nil {
				rep, finishLog = tee{rep, lr}, fin
			}
		}
		er, err = eng.Apply(ctx, job, rep)
		if finishLog != nil {
			finishLog(er, err)
		}
		if f, ok := progress.(Finisher); ok {
			f.Finish(er, err)
		}
	}
	run := &state.Run{Started: started.UTC(), Duration: now().Sub(started)}
	if err != nil {
		r.Outcome, r.Message = state.Failed, err.Error()
		log.Error("set failed", "set", s.Name, "error", safetext.Line(err.Error()))
		if runAfterHooks(ctx, s, r, opts) {
			run.Duration = now().Sub(started)
		}
		run.Outcome, run.Message, run.ExitCode = r.Outcome, r.Message, engine.ExitFatal
		if rec == nil {
			rec = &state.Set{Name: s.Name, Source: s.Source, Destination: s.Destination, Mode: s.Mode}
			st.Sets[s.Name] = rec
		}
		rec.LastRun = run
		return true
	}
	r.Result = er
	run.FilesCopied = er.Counters.Files.Copied
	run.BytesCopied = er.BytesCopied
	run.DirsCreated = er.Counters.Dirs.Copied
	run.FilesDeleted, run.DirsDeleted = er.DeletedFiles, er.DeletedDirs
	run.Skipped, run.Errors = int64(len(er.Skipped)), int64(len(er.Errors))
	run.Changing = int64(len(er.Changing))
	run.ExitCode = er.ExitCode()
	if sn := er.Snapshot; sn != nil {
		run.Snapshot = &state.Snapshot{Kind: sn.Kind, ID: sn.ID, Created: sn.Created}
	}
	warnChanging := len(er.Changing) > 0 && s.Spec.WarnsChanging()
	switch {
	case er.Interrupted:
		r.Outcome = state.Interrupted
		r.Message = "stopped before every change ran"
	case len(er.Errors) > 0:
		r.Outcome = state.Partial
		r.Message = fmt.Sprintf("%d %s failed", len(er.Errors), plural(len(er.Errors), "operation", "operations"))
		if len(er.Changing) > 0 {
			r.Message += "; " + changingMessage(er.Changing)
		}
		if er.DeletesSkipped > 0 {
			r.Message += fmt.Sprintf("; %d %s skipped because of the failure", er.DeletesSkipped, plural(int(er.DeletesSkipped), "deletion", "deletions"))
		}
	case len(er.Changing) > 0 && !warnChanging:
		r.Outcome = state.Partial
		r.Message = changingMessage(er.Changing)
		if er.DeletesSkipped > 0 {
			r.Message += fmt.Sprintf("; %d %s skipped because of it", er.DeletesSkipped, plural(int(er.DeletesSkipped), "deletion", "deletions"))
		}
	case len(s.ScanErrors) > 0:
		r.Outcome = state.Partial
		r.Message = fmt.Sprintf("%d %s could not be read while planning, so part of the source was not backed up and nothing was deleted",
			len(s.ScanErrors), plural(len(s.ScanErrors), "entry", "entries"))
	default:
		r.Outcome = state.Success
		if n := len(er.Skipped); n > 0 {
			r.Message = fmt.Sprintf("%d %s left alone because %s changed since the plan", n, plural(n, "entry", "entries"), plural(n, "it", "they"))
		}
		if warnChanging {
			w := "warning: " + changingMessage(er.Changing) + " (changing_files = \"warn\")"
			if r.Message != "" {
				w += "; " + r.Message
			}
			r.Message = w
		}
	}
	if len(er.Changing) > 0 {
		log.Warn("files kept changing while they were copied and were not backed up", "set", s.Name, "count", len(er.Changing),
			"first", safetext.Name(er.Changing[0].Path), "changing_files", changingChoice(s.Spec))
	}
	if r.Outcome == state.Success && s.Spec.VerifyAfterApply != "" && opts.Verify != nil && ctx.Err() == nil {
		if ok, msg := opts.Verify(ctx, *s.Spec); !ok {
			r.Outcome, r.Message = state.Partial, "verify after apply: "+msg
			log.Warn("verify after apply found differences", "set", s.Name, "message", safetext.Line(msg))
		}
	}
	if runAfterHooks(ctx, s, r, opts) {
		run.Duration = now().Sub(started)
	}
	run.Outcome, run.Message = r.Outcome, r.Message
	if rec == nil {
		rec = &state.Set{Name: s.Name}
		st.Sets[s.Name] = rec
	}
	rec.ConfigDigest, rec.Source, rec.Destination, rec.Mode, rec.Engine = s.ConfigDigest, s.Source, s.Destination, s.Mode, s.Engine
	at := started.UTC()
	rec.AppliedAt = &at
	rec.LastRun = run
	if r.Outcome == state.Success {
		t := now().UTC()
		rec.LastSuccess = &t
	}
	log.Info("set applied", "set", s.Name, "outcome", r.Outcome, "copied", run.FilesCopied, "bytes", run.BytesCopied,
		"deleted", run.FilesDeleted, "errors", run.Errors, "duration", run.Duration)
	return true
}

// changingMessage says how many files kept changing while they were
// copied, naming the first (safetext.Name: a name is hostile input).
func changingMessage(ch []engine.FileError) string {
	if len(ch) == 1 {
		return "1 file kept changing while it was copied and was not backed up: " + safetext.Name(ch[0].Path)
	}
	return fmt.Sprintf("%d files kept changing while they were copied and were not backed up (the first: %s)", len(ch), safetext.Name(ch[0].Path))
}

// changingChoice is the set's changing_files as configured.
func changingChoice(spec *engine.Spec) string {
	if spec.WarnsChanging() {
		return engine.ChangingWarn
	}
	return engine.ChangingFail
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Hook phases. before runs first (with ctx: an interrupt stops it); when it
// fails the set is failed and not applied. after runs once the engine step
// was attempted, whatever its outcome, since it undoes what before did; a
// failed after turns a success into partial. on_failure runs last whenever
// the set's final outcome is not success (including a refused set or a plan
// error, where before and after never ran), but not for a set an interrupt
// kept from starting. after and on_failure run even when ctx has ended (robo
// is being stopped), bounded by their own timeout, so that a quiesced
// database is always resumed.

// runHook runs one phase and records it in r; nil when there is no command.
func runHook(ctx context.Context, s *plan.Set, r *SetResult, opts Options, phase string) *hooks.Result {
	if opts.Hooks == nil {
		return nil
	}
	if phase != hooks.Before {
		ctx = context.WithoutCancel(ctx)
	}
	res := opts.Hooks.Run(ctx, hooks.Call{Set: s.Name, Source: s.Source, Destination: s.Destination, Phase: phase, Outcome: r.Outcome})
	if res != nil {
		r.Hooks = append(r.Hooks, res)
	}
	return res
}

// runAfterHooks runs after, then on_failure when the outcome is not
// success. It reports whether a command ran.
func runAfterHooks(ctx context.Context, s *plan.Set, r *SetResult, opts Options) bool {
	n := len(r.Hooks)
	if res := runHook(ctx, s, r, opts, hooks.After); res != nil && !res.OK() {
		if r.Outcome == state.Success {
			r.Outcome = state.Partial
		}
		r.Message = joinMessage(r.Message, "after hook failed ("+res.Error+")")
	}
	runOnFailure(ctx, s, r, opts)
	return len(r.Hooks) > n
}

// runOnFailure runs on_failure when the outcome is not success. Its own
// failure is reported in the message; the outcome stays.
func runOnFailure(ctx context.Context, s *plan.Set, r *SetResult, opts Options) {
	if r.Outcome == state.Success {
		return
	}
	if res := runHook(ctx, s, r, opts, hooks.OnFailure); res != nil && !res.OK() {
		r.Message = joinMessage(r.Message, "on_failure hook failed ("+res.Error+")")
	}
}

func joinMessage(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
