package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// Outcome is what one run of one set came to.
type Outcome struct {
	Set string
	// Outcome is a state outcome (state.Success, state.Partial, ...).
	Outcome     string
	Message     string
	FilesCopied int64
	BytesCopied int64
	Duration    time.Duration
	// Snapshot names the snapshot the run read its source from ("btrfs
	// robo-..."); "" when it read the live source (docs/snapshots.md).
	Snapshot string
}

// OK reports whether the run succeeded.
func (o Outcome) OK() bool { return o.Outcome == state.Success }

// Runner runs sets now.
type Runner interface {
	// Run converges the named sets of cfg (a name may be a set that is only
	// in the state, to forget it) and returns one Outcome per name, in
	// order. It records every run in the state as robo apply does. When ctx
	// ends it MUST return promptly, leaving the state consistent; a set it
	// stopped has the outcome state.Interrupted.
	Run(ctx context.Context, cfg *schema.Config, sets []string) []Outcome
}

// RunnerFunc adapts a function to Runner.
type RunnerFunc func(ctx context.Context, cfg *schema.Config, sets []string) []Outcome

// Run implements Runner.
func (f RunnerFunc) Run(ctx context.Context, cfg *schema.Config, sets []string) []Outcome {
	return f(ctx, cfg, sets)
}

// Loader loads the configuration directory again. A configuration with
// errors returns a non-nil error; diagnostics is then the rendered,
// located diagnostics (file:line:col), and may hold warnings otherwise.
type Loader func() (cfg *schema.Config, diagnostics string, err error)

// Options configure a Watcher. Config, Load and Runner are required.
type Options struct {
	// Config is the configuration to start with (already loaded and
	// reported by the caller).
	Config *schema.Config
	Load   Loader
	Runner Runner
	Clock  Clock        // RealClock() when nil
	Log    hclog.Logger // hclog.NewNullLogger() when nil
	// Host names this machine for the jitter (os.Hostname() when empty).
	Host string
	// ReadState reads the state for catch-up decisions (the state file of
	// the configuration when nil).
	ReadState func(cfg *schema.Config) (*state.State, error)
	// ConfigDebounce is how long the configuration directory must be quiet
	// before a reload (500ms when zero).
	ConfigDebounce time.Duration
	// Tick is the longest wait between two looks at the clock, which bounds
	// how late a wake is noticed (30s when zero).
	Tick time.Duration
	// WakeThreshold is the unexplained wall-clock jump taken for a wake
	// (1m when zero).
	WakeThreshold time.Duration
	// WatchBudget is the most directories watched (below the system limit
	// when zero).
	WatchBudget int
	// OnStatus receives the status after every change. Calls are
	// serialized.
	OnStatus func(Status)
	// Stale is called, in its own goroutine, when a configured set becomes
	// stale (SetHealth): once per stale episode, and again only after the
	// set recovered and went stale again. lastSuccess is the zero time
	// when the set never succeeded. Run waits for the calls before it
	// returns.
	Stale func(ctx context.Context, cfg *schema.Config, set string, lastSuccess time.Time)
	// HealthEvery is how often the health of the sets is checked for
	// Stale, on the monotonic clock (1m when zero). It is also checked
	// once at start.
	HealthEvery time.Duration
}

// Status is what robo watch is doing, for robo service status.
type Status struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Since     time.Time `json:"since"`
	ConfigDir string    `json:"config_dir"`
	// ConfigLoaded is when the running configuration was loaded.
	ConfigLoaded time.Time `json:"config_loaded"`
	// ConfigError holds the diagnostics of the last change that was not
	// loaded because of errors; the previous configuration keeps running.
	// It is empty once a valid change is loaded.
	ConfigError   string      `json:"config_error,omitempty"`
	ConfigErrorAt *time.Time  `json:"config_error_at,omitempty"`
	Warnings      []string    `json:"warnings,omitempty"`
	WatchedDirs   int         `json:"watched_dirs"`
	Sets          []SetStatus `json:"sets"`
	Stopping      bool        `json:"stopping,omitempty"`
}

// SetStatus is one set in Status.
type SetStatus struct {
	Name        string     `json:"name"`
	Schedule    string     `json:"schedule,omitempty"`
	Next        *time.Time `json:"next,omitempty"`
	Watch       bool       `json:"watch,omitempty"`
	Running     bool       `json:"running,omitempty"`
	LastReason  string     `json:"last_reason,omitempty"`
	LastOutcome string     `json:"last_outcome,omitempty"`
	LastMessage string     `json:"last_message,omitempty"`
	LastEnd     *time.Time `json:"last_end,omitempty"`
}

// Watcher is the robo watch loop.
type Watcher struct {
	o Options

	mu       sync.Mutex
	cfg      *schema.Config
	sched    *Scheduler
	src      *sources
	srcKey   string
	q        *queue
	last     map[string]SetStatus
	status   Status
	warnings []string
	wake     wakeDetector
	tickT    Timer
	outcomes []Outcome
	// staleSent holds the sets whose current stale episode was reported.
	staleSent  map[string]bool
	lastHealth time.Duration // monotonic reading of the last health check
	runCtx     context.Context
	staleWG    sync.WaitGroup

	statusMu sync.Mutex
	tickC    chan struct{}
	reloadC  chan struct{}
}

// New returns a watcher; Run or Once starts it.
func New(o Options) *Watcher {
	if o.Clock == nil {
		o.Clock = RealClock()
	}
	if o.Log == nil {
		o.Log = hclog.NewNullLogger()
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.ReadState == nil {
		o.ReadState = func(cfg *schema.Config) (*state.State, error) {
			return (&state.Store{Path: cfg.Settings.StateFile}).Read()
		}
	}
	if o.ConfigDebounce <= 0 {
		o.ConfigDebounce = 500 * time.Millisecond
	}
	if o.Tick <= 0 {
		o.Tick = 30 * time.Second
	}
	if o.WakeThreshold <= 0 {
		o.WakeThreshold = time.Minute
	}
	if o.WatchBudget <= 0 {
		o.WatchBudget = watchBudget()
	}
	if o.HealthEvery <= 0 {
		o.HealthEvery = time.Minute
	}
	w := &Watcher{o: o, cfg: o.Config, last: map[string]SetStatus{}, tickC: make(chan struct{}, 1), reloadC: make(chan struct{}, 1),
		staleSent: map[string]bool{}, runCtx: context.Background()}
	w.wake.threshold = o.WakeThreshold
	w.status = Status{PID: os.Getpid(), Host: o.Host, Since: o.Clock.Now().UTC().Truncate(time.Second), ConfigDir: o.Config.Dir,
		ConfigLoaded: o.Clock.Now().UTC().Truncate(time.Second)}
	return w
}

// Run watches until ctx ends: it runs overdue and watched sets at once, then
// on their schedules and source changes, and reloads the configuration
// when it changes. When ctx ends, running sets are stopped (they see ctx
// end), waiting runs are dropped, and Run returns nil once every run has
// returned.
func (w *Watcher) Run(ctx context.Context) error {
	w.runCtx = ctx
	q := newQueue(ctx, w.cfg.Settings.MaxParallel, w.runOne)
	q.done = w.notify
	w.mu.Lock() // Trigger reads w.q from other goroutines
	w.q = q
	w.mu.Unlock()
	cw, err := w.watchConfig()
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.useConfig(w.cfg, true)
	w.mu.Unlock()
	w.startRuns("start")
	w.checkHealth()
	w.mu.Lock()
	w.wake.observe(w.o.Clock.Now(), w.o.Clock.Mono())
	w.arm()
	w.mu.Unlock()
	w.notify()
	for {
		select {
		case <-ctx.Done():
			w.o.Log.Info("stopping: running sets stop at a file boundary and record their state")
			w.mu.Lock()
			w.status.Stopping = true
			if w.tickT != nil {
				w.tickT.Stop()
			}
			src := w.src
			w.src = nil
			w.mu.Unlock()
			w.notify()
			cw.close()
			if src != nil {
				src.close()
			}
			w.q.close()
			w.staleWG.Wait()
			w.o.Log.Info("stopped")
			return nil
		case <-w.tickC:
			w.tick()
		case <-w.reloadC:
			w.reload()
		}
	}
}

// Once runs what is due now (every scheduled set that missed a run, every
// watched set), waits for the runs and returns their outcomes.
func (w *Watcher) Once(ctx context.Context) []Outcome {
	w.q = newQueue(ctx, w.cfg.Settings.MaxParallel, w.runOne)
	w.mu.Lock()
	w.sched, _ = w.schedule(w.cfg)
	w.mu.Unlock()
	w.startRuns("once")
	w.q.wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	sort.Slice(w.outcomes, func(i, j int) bool { return w.outcomes[i].Set < w.outcomes[j].Set })
	return w.outcomes
}

// Status returns the current status.
func (w *Watcher) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.snapshot()
}

// startRuns triggers the sets to run at start (and after a wake): scheduled
// sets whose last success is older than one period, and watched sets,
// whose sources may have changed while robo was not looking.
func (w *Watcher) startRuns(why string, already ...string) {
	w.mu.Lock()
	cfg, sched := w.cfg, w.sched
	w.mu.Unlock()
	st, err := w.o.ReadState(cfg)
	if err != nil {
		w.o.Log.Warn("cannot read the state to find missed runs; running every scheduled set", "error", err)
		st = nil
	}
	now := w.o.Clock.Now()
	for _, set := range sched.Overdue(now, st) {
		if contains(already, set) {
			continue
		}
		last := "never"
		if st != nil && st.Sets[set] != nil && st.Sets[set].LastSuccess != nil {
			last = st.Sets[set].LastSuccess.Format(time.RFC3339)
		}
		w.o.Log.Info("catch-up: the last success is older than the schedule's period", "set", set, "last_success", last,
			"period", sched.Entry(set).Period(now))
		w.q.trigger(set, "catch-up ("+why+")")
	}
	for _, b := range cfg.Backups {
		if b.Watch && b.Enabled && !contains(already, b.Name) {
			w.q.trigger(b.Name, "watched set ("+why+")")
		}
	}
}

func (w *Watcher) runOne(ctx context.Context, set, reason string) {
	w.mu.Lock()
	cfg := w.cfg
	w.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	w.notify()
	w.o.Log.Info("run started", "set", set, "reason", reason)
	start := w.o.Clock.Now()
	outs := w.o.Runner.Run(ctx, cfg, []string{set})
	end := w.o.Clock.Now()
	for _, o := range outs {
		if o.Duration == 0 {
			o.Duration = end.Sub(start)
		}
		args := []any{"set", o.Set, "reason", reason, "outcome", o.Outcome, "files_copied", o.FilesCopied, "bytes", o.BytesCopied,
			"duration", o.Duration.Round(time.Millisecond)}
		if o.Message != "" {
			args = append(args, "message", o.Message)
		}
		switch o.Outcome {
		case state.Success, state.Interrupted:
			w.o.Log.Info("run finished", args...)
		default:
			w.o.Log.Error("run finished", args...)
		}
		w.mu.Lock()
		e := end.UTC().Truncate(time.Second)
		w.last[o.Set] = SetStatus{LastReason: reason, LastOutcome: o.Outcome, LastMessage: o.Message, LastEnd: &e}
		w.outcomes = append(w.outcomes, o)
		w.mu.Unlock()
	}
	// The queue notifies once the set no longer counts as running.
}

func (w *Watcher) tick() {
	now, mono := w.o.Clock.Now(), w.o.Clock.Mono()
	w.mu.Lock()
	gap, woke := w.wake.observe(now, mono)
	due := w.sched.Due(now)
	w.mu.Unlock()
	for _, set := range due {
		w.q.trigger(set, "schedule")
	}
	if woke {
		w.o.Log.Info("the wall clock jumped ahead: the machine woke from sleep (or the clock was set); catching up missed runs",
			"gap", gap.Round(time.Second))
		w.startRuns("wake", due...)
	}
	w.mu.Lock()
	health := mono-w.lastHealth >= w.o.HealthEvery
	w.arm()
	w.mu.Unlock()
	if health {
		w.checkHealth()
	}
	if len(due) > 0 || woke {
		w.notify()
	}
}

// checkHealth reads the state and reports, through Options.Stale, each
// configured set that became stale since the last check.
func (w *Watcher) checkHealth() {
	w.mu.Lock()
	cfg, sched := w.cfg, w.sched
	w.lastHealth = w.o.Clock.Mono()
	w.mu.Unlock()
	st, err := w.o.ReadState(cfg)
	if err != nil {
		w.o.Log.Warn("cannot read the state to check for stale sets", "error", err)
		return
	}
	now := w.o.Clock.Now()
	type stale struct {
		set   string
		last  time.Time
		after time.Duration
	}
	var newly []stale
	w.mu.Lock()
	for name := range w.staleSent {
		if cfg.Backup(name) == nil {
			delete(w.staleSent, name)
		}
	}
	for _, b := range cfg.Backups {
		var s *state.Set
		if st != nil {
			s = st.Sets[b.Name]
		}
		var e *Entry
		if sched != nil {
			e = sched.Entry(b.Name)
		}
		if SetHealth(b, e, s, now) != HealthStale {
			if w.staleSent[b.Name] {
				w.o.Log.Info("set is no longer stale", "set", b.Name)
			}
			delete(w.staleSent, b.Name)
			continue
		}
		if w.staleSent[b.Name] {
			continue
		}
		w.staleSent[b.Name] = true
		ns := stale{set: b.Name, after: StaleAfter(b, e, now)}
		if s.LastSuccess != nil {
			ns.last = *s.LastSuccess
		}
		newly = append(newly, ns)
	}
	w.mu.Unlock()
	for _, ns := range newly {
		last := "never"
		if !ns.last.IsZero() {
			last = ns.last.UTC().Format(time.RFC3339)
		}
		w.o.Log.Warn("set is stale: no successful run within its limit", "set", ns.set, "last_success", last, "stale_after", ns.after)
		if w.o.Stale == nil {
			continue
		}
		w.staleWG.Add(1)
		go func() {
			defer w.staleWG.Done()
			w.o.Stale(w.runCtx, cfg, ns.set, ns.last)
		}()
	}
}

// arm sets the timer for the next look at the clock. w.mu is held.
func (w *Watcher) arm() {
	if w.tickT != nil {
		w.tickT.Stop()
	}
	d := w.o.Tick
	if t, ok := w.sched.Earliest(); ok {
		if until := t.Sub(w.o.Clock.Now()); until < d {
			d = max(until, 0)
		}
	}
	w.tickT = w.o.Clock.AfterFunc(d, func() {
		select {
		case w.tickC <- struct{}{}:
		default:
		}
	})
}

// schedule builds the scheduler of cfg, logging sets it cannot schedule.
func (w *Watcher) schedule(cfg *schema.Config) (*Scheduler, []error) {
	s, errs := NewScheduler(cfg, w.o.Host, w.o.Clock.Now())
	for _, err := range errs {
		w.o.Log.Error("set not scheduled", "error", err)
	}
	return s, errs
}

// useConfig makes cfg the running configuration: schedules, source
// watches, max_parallel. w.mu is held.
func (w *Watcher) useConfig(cfg *schema.Config, first bool) {
	w.cfg = cfg
	w.sched, _ = w.schedule(cfg)
	w.q.setLimit(cfg.Settings.MaxParallel)
	var sets []*watchedSet
	var key strings.Builder
	for _, b := range cfg.Backups {
		if !b.Watch || !b.Enabled {
			continue
		}
		root := filepath.Clean(b.Source)
		if !filepath.IsAbs(root) {
			w.o.Log.Warn("source is not a local path: not watched, rescanned only", "set", b.Name, "source", b.Source)
		}
		ws := &watchedSet{name: b.Name, root: root, debounce: b.Debounce, rescan: b.Rescan}
		if ws.debounce <= 0 {
			ws.debounce = schema.DefaultDebounce
		}
		if ws.rescan <= 0 {
			ws.rescan = schema.DefaultRescan
		}
		sets = append(sets, ws)
		fmt.Fprintf(&key, "%s\x00%s\x00%v\x00%v\n", ws.name, ws.root, ws.debounce, ws.rescan)
	}
	if !first && key.String() == w.srcKey {
		return
	}
	if w.src != nil {
		// The sources never take w.mu, so they can be stopped under it.
		w.src.close()
		w.src = nil
	}
	w.srcKey = key.String()
	w.statusMu.Lock()
	w.warnings = nil
	w.statusMu.Unlock()
	if len(sets) == 0 {
		return
	}
	src, err := newSources(w.o.Log, w.o.Clock, sets, w.o.WatchBudget, w.q.trigger, w.warn)
	if err != nil {
		w.o.Log.Error("cannot watch sources; watched sets are rescanned only", "error", err)
		return
	}
	w.src = src
	w.o.Log.Info("watching sources", "sets", strings.Join(sortedNames(sets), ","), "directories", src.count())
}

// warn logs a warning and keeps it in the status. It takes only statusMu,
// so the sources may call it while w.mu is held.
func (w *Watcher) warn(msg string) {
	w.o.Log.Warn(msg)
	w.statusMu.Lock()
	w.warnings = append(w.warnings, msg)
	w.statusMu.Unlock()
}

// reload loads the configuration again; a configuration with errors is
// not used and its diagnostics go to the log and the status.
func (w *Watcher) reload() {
	cfg, diags, err := w.o.Load()
	now := w.o.Clock.Now().UTC().Truncate(time.Second)
	if err != nil {
		w.o.Log.Error("the changed configuration has errors: it is not used, the running configuration stays",
			"error", err, "diagnostics", diags)
		w.mu.Lock()
		w.status.ConfigError, w.status.ConfigErrorAt = strings.TrimSpace(diags), &now
		if w.status.ConfigError == "" {
			w.status.ConfigError = err.Error()
		}
		w.mu.Unlock()
		w.notify()
		return
	}
	if strings.TrimSpace(diags) != "" {
		w.o.Log.Warn("configuration warnings", "diagnostics", diags)
	}
	w.mu.Lock()
	old := w.cfg
	changed := changedSets(old, cfg)
	w.status.ConfigError, w.status.ConfigErrorAt, w.status.ConfigLoaded = "", nil, now
	w.useConfig(cfg, false)
	w.arm()
	w.mu.Unlock()
	var st *state.State
	var removed []string
	for _, name := range changed {
		if cfg.Backup(name) != nil {
			continue
		}
		if st == nil {
			st, _ = w.o.ReadState(cfg)
		}
		if st != nil && st.Sets[name] != nil {
			removed = append(removed, name)
		}
	}
	w.o.Log.Info("configuration reloaded", "changed_sets", strings.Join(changed, ","))
	for _, name := range changed {
		b := cfg.Backup(name)
		if (b != nil && b.Enabled) || contains(removed, name) {
			w.q.trigger(name, "configuration changed")
		}
	}
	w.notify()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// changedSets returns, in name order, the sets whose configuration differs
// between old and new: added, removed and changed sets, and every set when
// a setting or share that all sets depend on changed. Source positions do
// not count.
func changedSets(old, new *schema.Config) []string {
	all := map[string]bool{}
	for _, b := range old.Backups {
		all[b.Name] = true
	}
	for _, b := range new.Backups {
		all[b.Name] = true
	}
	global := !reflect.DeepEqual(normSettings(old.Settings), normSettings(new.Settings)) || !reflect.DeepEqual(normShares(old.Shares), normShares(new.Shares))
	var out []string
	for name := range all {
		a, b := old.Backup(name), new.Backup(name)
		if global || a == nil || b == nil || !reflect.DeepEqual(normBackup(a), normBackup(b)) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func normBackup(b *schema.Backup) schema.Backup {
	c := *b
	c.DeclRange, c.Ranges = schema.Backup{}.DeclRange, nil
	return c
}

func normSettings(s schema.Settings) schema.Settings {
	s.DeclRange, s.SecretsFileRange, s.MaxParallel = schema.Settings{}.DeclRange, nil, 0
	return s
}

func normShares(m map[string]*schema.Share) map[string]schema.Share {
	out := map[string]schema.Share{}
	for k, s := range m {
		c := *s
		c.DeclRange = schema.Share{}.DeclRange
		out[k] = c
	}
	return out
}

// snapshot builds the status. w.mu is held.
func (w *Watcher) snapshot() Status {
	s := w.status
	s.ConfigDir = w.cfg.Dir
	w.statusMu.Lock()
	s.Warnings = append([]string(nil), w.warnings...)
	w.statusMu.Unlock()
	if w.src != nil {
		s.WatchedDirs = w.src.count()
	}
	s.Sets = nil
	for _, b := range w.cfg.Backups {
		ss := w.last[b.Name]
		ss.Name, ss.Schedule, ss.Watch = b.Name, b.Schedule, b.Watch && b.Enabled
		if w.sched != nil {
			if n := w.sched.NextOf(b.Name); !n.IsZero() {
				n = n.UTC()
				ss.Next = &n
			}
		}
		if w.q != nil {
			ss.Running = w.q.isRunning(b.Name)
		}
		s.Sets = append(s.Sets, ss)
	}
	return s
}

func (w *Watcher) notify() {
	if w.o.OnStatus == nil {
		return
	}
	w.mu.Lock()
	s := w.snapshot()
	w.mu.Unlock()
	w.statusMu.Lock()
	defer w.statusMu.Unlock()
	w.o.OnStatus(s)
}

// configWatcher reports changes of the configuration files, debounced.
type configWatcher struct {
	fw   *fsnotify.Watcher
	done chan struct{}
	mu   sync.Mutex
	t    Timer
}

func (w *Watcher) watchConfig() (*configWatcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch the configuration directory: %w", err)
	}
	if err := fw.Add(w.cfg.Dir); err != nil {
		fw.Close()
		return nil, fmt.Errorf("watch the configuration directory %s: %w", w.cfg.Dir, err)
	}
	cw := &configWatcher{fw: fw, done: make(chan struct{})}
	secrets := filepath.Base(w.cfg.Settings.SecretsFile)
	go func() {
		defer close(cw.done)
		for {
			select {
			case ev, ok := <-fw.Events:
				if !ok {
					return
				}
				name := filepath.Base(ev.Name)
				if ev.Op == fsnotify.Chmod || !(strings.HasSuffix(name, ".hcl") || name == secrets) {
					continue
				}
				cw.mu.Lock()
				if cw.t != nil {
					cw.t.Stop()
				}
				cw.t = w.o.Clock.AfterFunc(w.o.ConfigDebounce, func() {
					select {
					case w.reloadC <- struct{}{}:
					default:
					}
				})
				cw.mu.Unlock()
			case err, ok := <-fw.Errors:
				if !ok {
					return
				}
				if !errors.Is(err, fsnotify.ErrEventOverflow) {
					w.o.Log.Warn("watching the configuration directory", "error", err)
				}
			}
		}
	}()
	return cw, nil
}

func (cw *configWatcher) close() {
	cw.fw.Close()
	<-cw.done
	cw.mu.Lock()
	if cw.t != nil {
		cw.t.Stop()
	}
	cw.mu.Unlock()
}
