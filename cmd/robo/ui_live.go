package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/watch"
	"github.com/robo-backup/robo/internal/web"
)

// The dashboard's live runs and reviewed applies (docs/api.md, "Live runs"
// and "Run now: review, then apply"). Progress is in-process only: the
// dashboard shows the progress of the runs its own process makes (robo
// ui's Run now and reviewed applies; every run of robo watch -listen's
// loop). A run by another process (robo apply by hand, a service without
// -listen) shows as running, from the set lock, without progress.

// liveInterval is the least time between two progress reports of a run.
const liveInterval = 200 * time.Millisecond

// testOnlyLiveDelay slows each file operation's report, so that a test can
// watch a run of a few files advance (a slow disk, made deterministic).
var testOnlyLiveDelay time.Duration

// liveRun follows one run of a set for the dashboard; srv may be nil (no
// dashboard), and then it only remembers the run log.
type liveRun struct {
	srv     *web.Server
	set     string
	started time.Time

	mu   sync.Mutex
	p    web.Progress
	sent time.Time
	log  string // the run log's file name
}

// newLiveRun starts following set's run, in phase planning.
func newLiveRun(srv *web.Server, set string) *liveRun {
	l := &liveRun{srv: srv, set: set, started: time.Now()}
	l.p = web.Progress{Set: set, Phase: "planning", Started: l.started}
	l.report(true)
	return l
}

// report sends the progress, at most every liveInterval unless forced.
// Called with l.mu held, or before l is shared.
func (l *liveRun) report(force bool) {
	if l.srv == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(l.sent) < liveInterval {
		return
	}
	l.sent = now
	p := l.p
	p.Updated = now
	l.srv.ReportProgress(p)
}

// planned takes the totals from the set's plan.
func (l *liveRun) planned(p *plan.Plan) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p.FilesTotal, l.p.BytesTotal = 0, 0
	if s := p.Set(l.set); s != nil {
		_ = s.Changes.Range(func(_ int, c *engine.Change) error {
			if counted(c) {
				l.p.FilesTotal++
				l.p.BytesTotal += c.Size
			}
			return nil
		})
	}
}

// watchers are the hooks converge and applyPlanned call.
func (l *liveRun) watchers() runWatchers {
	return runWatchers{planned: l.planned, progress: l.progress, runLog: func(set, path string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.log = filepath.Base(path)
	}}
}

// progress is apply.Options.Progress: the engine starts copying.
func (l *liveRun) progress(set string) engine.Reporter {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p.Phase, l.p.CopyingSince = "copying", time.Now()
	l.report(true)
	return l
}

// Report implements engine.Reporter.
func (l *liveRun) Report(ev engine.Event) {
	if !ev.Done || ev.Change == nil {
		return
	}
	if testOnlyLiveDelay > 0 {
		time.Sleep(testOnlyLiveDelay)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ev.Err != nil {
		l.p.Errors++
	}
	if counted(ev.Change) {
		l.p.FilesDone++
		l.p.BytesDone += ev.Change.Size
	}
	l.report(false)
}

// Finish implements apply.Finisher: the engine returned; hooks,
// verification and the state follow.
func (l *liveRun) Finish(*engine.Result, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p.Phase = "finishing"
	l.report(true)
}

// end records the run with the dashboard, which ends its progress.
func (l *liveRun) end(o watch.Outcome) {
	if l.srv == nil {
		return
	}
	r := runView(l.started, o)
	l.mu.Lock()
	r.Log = l.log
	l.mu.Unlock()
	l.srv.RecordRun(r)
}

var (
	_ engine.Reporter = (*liveRun)(nil)
	_ apply.Finisher  = (*liveRun)(nil)
)

// claim marks set busy (a run of this process), or says it is.
func (b *uiBackend) claim(set string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.busy[set] {
		return fmt.Errorf("%w: set %s is already running", web.ErrBusy, set)
	}
	b.busy[set] = true
	return nil
}

func (b *uiBackend) release(set string) {
	b.mu.Lock()
	delete(b.busy, set)
	b.mu.Unlock()
}

// PlanSet implements web.Backend: robo plan -target set, against the state
// as it is now (created when missing, so that the reviewed plan and the
// apply name one lineage).
func (b *uiBackend) PlanSet(ctx context.Context, set string) (*plan.Plan, error) {
	cfg := b.config()
	if cfg.Backup(set) == nil {
		return nil, fmt.Errorf("%w: %s", web.ErrUnknownSet, set)
	}
	store, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	le := *b.e
	le.ctx = ctx
	unlock, st, err := lockAndRead(&le, store, "ui plan", watchStateLockTimeout)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if st == nil {
		st = state.New()
		st.RoboVersion = version
		if err := store.Write(st); err != nil {
			return nil, err
		}
	}
	eng := newEngines(&le, cfg, "")
	defer eng.Close()
	return buildPlan(ctx, cfg, st, []string{set}, true, false, eng)
}

// ApplyPlan implements web.Backend. Under the state lock it checks p as
// robo apply checks a saved plan (apply.CheckSaved: the configuration and
// the state), then plans again and compares the file operations
// (apply.CheckFresh: the trees, which CheckSaved does not look at); a plan
// that fails either is refused, wrapping web.ErrStale, and nothing runs.
// Then it applies exactly p in the background, as robo watch applies a
// plan (set locks, per-set commits), with live progress. The engines'
// guards cover what changes between the check and each file's copy.
//
// It calls done when the run no longer reads p (the dashboard then closes
// it); it does not call done when it returns an error.
func (b *uiBackend) ApplyPlan(ctx context.Context, p *plan.Plan, done func()) error {
	if len(p.Targets) != 1 {
		return fmt.Errorf("%w: a reviewed plan targets one set", web.ErrStale)
	}
	set := p.Targets[0]
	cfg := b.config()
	if cfg.Backup(set) == nil {
		return fmt.Errorf("%w: %s", web.ErrUnknownSet, set)
	}
	if err := b.claim(set); err != nil {
		return err
	}
	store, err := openStore(cfg)
	if err != nil {
		b.release(set)
		return err
	}
	le := *b.e
	le.ctx = ctx
	unlock, st, err := lockAndRead(&le, store, "ui apply", watchStateLockTimeout)
	if err != nil {
		b.release(set)
		return err
	}
	ae := *b.e // the run outlives the request
	eng := newEngines(&ae, cfg, "")
	err = apply.CheckSaved(ctx, p, cfg, st, eng, p.AllowDeletes) // p never left this process: its flag is robo's own
	if err == nil {
		var fresh *plan.Plan
		if fresh, err = buildPlan(ctx, cfg, st, p.Targets, true, p.AllowDeletes, eng); err == nil {
			err = apply.CheckFresh(p, fresh)
			fresh.Close()
		}
	}
	unlock()
	if err != nil {
		eng.Close()
		b.release(set)
		var se *apply.StaleError
		if errors.As(err, &se) {
			b.e.record("apply.refused", map[string]string{"targets": set, "operation": "ui apply", "error": err.Error()})
			return fmt.Errorf("%w: %s", web.ErrStale, se.Reason)
		}
		return err
	}
	live := newLiveRun(b.srv, set)
	live.planned(p)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer b.release(set)
		defer eng.Close()
		defer done()
		start := time.Now()
		res, err := applyPlanned(b.e.ctx, &ae, cfg, store, eng, p, st, p.Targets, "ui apply", watchStateLockTimeout, b.log.Named("apply"), live.watchers())
		live.end(outcomeOf(set, start, res, err, b.e.ctx))
	}()
	return nil
}
