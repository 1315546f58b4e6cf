package native

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// Apply implements engine.Engine.
func (e *Engine) Apply(ctx context.Context, job engine.Job, rep engine.Reporter) (*engine.Result, error) {
	start := time.Now()
	if rep == nil {
		rep = engine.Discard
	}
	src, err := e.Open(job.Spec.Source)
	if err != nil {
		return nil, &engine.SourceError{Path: job.Spec.Source, Err: err}
	}
	defer vfs.Close(src)
	dst, err := e.Open(job.Spec.Destination)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", job.Spec.Destination, err)
	}
	defer vfs.Close(dst)
	if job.Roots != nil {
		if err := checkRoot("source", job.Spec.Source, src, job.Roots.Source); err != nil {
			return nil, err
		}
		if err := checkRoot("destination", job.Spec.Destination, dst, job.Roots.Destination); err != nil {
			return nil, err
		}
	}
	a := &applier{e: e, ctx: ctx, spec: job.Spec, src: src, dst: dst, rep: rep, res: &engine.Result{}, touched: engine.NewDirSet(),
		tag: randomSuffix() + "-"}
	a.warnFn = a.warn
	defer func() {
		// The directory sets' spill files.
		a.touched.Close()
		a.dirMeta.Close()
	}()
	a.sec, _, _ = platformSec(&a.spec, src, dst)
	if ls, ok := src.(*vfs.Local); ok {
		if ld, ok := dst.(*vfs.Local); ok {
			a.lsrc, a.ldst = ls, ld
		}
	}
	if job.Spec.Versions != nil {
		a.stamp = engine.VersionStamp(start)
	}
	if job.Changes.Len() > 0 {
		if err := dst.MkdirAll(""); err != nil {
			return nil, fmt.Errorf("create destination %s: %w", job.Spec.Destination, err)
		}
	}
	// A malformed change (a plan edited by hand, or a bug) fails on its
	// own, before anything runs, and so keeps the set's deletions from
	// running; it never reaches the code below, which trusts its fields.
	// The list is read again for each phase (engine.ChangeList): what is
	// remembered across phases is one bit per change (ran).
	a.changes = job.Changes
	a.ran = newBits(job.Changes.Len())
	a.readFailed(job.Changes.Range(func(i int, c *engine.Change) error {
		if err := checkChange(c); err != nil {
			a.ran.set(i)
			a.res.Errors = append(a.res.Errors, engine.FileError{Path: c.Path, Op: "check planned change", Err: err.Error()})
			a.failCount(c)
			a.rep.Report(engine.Event{Change: c, Done: true, Err: err})
		}
		return nil
	}))
	a.phase(engine.PhaseCopy)
	a.retryChanging()
	failed := a.failed()
	if !failed {
		a.phase(engine.PhaseDelete)
		failed = a.failed()
	}
	if !failed {
		a.phase(engine.PhaseReplace)
		a.retryChanging()
	} else {
		why := "not attempted: an earlier operation of this set failed, so its deletions are skipped"
		if len(a.res.Errors) == 0 && !a.res.Interrupted {
			why = "not attempted: a file of this set kept changing while it was copied, so its deletions are skipped"
		}
		a.readFailed(job.Changes.RangeWhere(func(h engine.Head) bool { return h.Phase != engine.PhaseCopy }, func(i int, c *engine.Change) error {
			if !a.ran.get(i) {
				a.res.DeletesSkipped++
				a.skip(c, why)
			}
			return nil
		}))
	}
	a.restoreDirMeta()
	a.restoreDirTimes()
	a.finishWarnings()
	if a.res.FilesVersioned > 0 {
		a.res.VersionsFolder = engine.VersionsDir + "/" + a.stamp
	}
	if a.res.OK() {
		a.prune(job.PruneVersions)
	}
	totals(&a.res.Counters, job.Source)
	a.res.Duration = time.Since(start)
	return a.res, nil
}

type applier struct {
	e    *Engine
	ctx  context.Context
	spec engine.Spec
	src  vfs.FS
	dst  vfs.FS
	rep  engine.Reporter

	mu      sync.Mutex
	res     *engine.Result
	touched *engine.DirSet // destination dirs whose times to restore (bounded memory)
	// changes is the job's list; ran has a bit per change, set once the
	// change ran or failed its check (only the phases' producer touches
	// it).
	changes *engine.ChangeList
	ran     bits
	// stamp names this run's versions folder; "" when the set keeps no
	// versions.
	stamp string
	// lsrc and ldst are src and dst when both are local trees (the fast
	// copy path), else nil.
	lsrc, ldst *vfs.Local
	// sec: the Windows security descriptor parts copied (platformSec).
	sec uint8
	// tag and seq make temporary names unique: a random tag per run and
	// a counter.
	tag string
	seq atomic.Uint64
	// changing are the copies of the running phase whose source changed
	// while it was read, or was not as planned when the copy began, kept
	// for retryChanging.
	changing []pendingCopy
	// seen is what a failed source guard of a file saw, until run takes
	// it.
	seen map[*engine.Change]engine.Meta
	// dirMeta holds the destination directories whose metadata to set
	// after the phases (meta.go; nil until one is); warned counts per-file
	// warnings.
	dirMeta *engine.DirSet
	warned  int
	warnFn  func(path, msg string) // a.warn, bound once
}

// pendingCopy is a copy that retryChanging looks at again: seen is the
// source as it was last seen (nil: not known), sincePlan says it differed
// from the plan before its copy began and has not been seen changing
// since.
type pendingCopy struct {
	c         *engine.Change
	seen      *engine.Meta
	sincePlan bool
}

// phase runs the changes of one phase: structural changes (directories,
// deletions, replacements) one by one in plan order, then file and link
// copies on the worker pool. The list is read twice, once for each.
func (a *applier) phase(p engine.Phase) {
	inPhase := func(h engine.Head) bool { return h.Phase == p }
	stopped := false
	a.readFailed(a.changes.RangeWhere(inPhase, func(i int, c *engine.Change) error {
		if a.ran.get(i) || c.LinkTo != "" || isCopy(c) {
			return nil
		}
		if a.stopped() {
			stopped = true
			return errStop
		}
		a.ran.set(i)
		a.run(c)
		return nil
	}))
	if stopped {
		return
	}
	threads := a.threads()
	// Workers take whole runs of copies into one directory: creating and
	// renaming entries takes the directory's lock, and eight workers in
	// one directory spend much of their time waiting for it. A run is cut
	// after batchFiles files or batchBytes bytes, so a large directory or
	// large files still spread over the workers.
	work := make(chan []*engine.Change)
	var wg sync.WaitGroup
	workers := 0
	send := func(b []*engine.Change) bool {
		if a.stopped() {
			return false
		}
		if workers < threads {
			workers++
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range work {
					for _, c := range b {
						if a.stopped() {
							break
						}
						a.run(c)
					}
				}
			}()
		}
		work <- b
		return true
	}
	var batch batcher
	a.readFailed(a.changes.RangeWhere(func(h engine.Head) bool { return h.Phase == p && h.Kind != engine.KindDir && !h.Link }, func(i int, c *engine.Change) error {
		if a.ran.get(i) || !isCopy(c) {
			return nil
		}
		a.ran.set(i)
		if full := batch.add(c); full != nil && !send(full) {
			return errStop
		}
		return nil
	}))
	if b := batch.flush(); b != nil {
		send(b)
	}
	close(work)
	wg.Wait()
	a.runLinks(p)
}

// isCopy says whether c is a file or link copy (the worker pool's), not a
// structural change.
// threads is how many copies run at once: the set's threads, or the
// machine's default (engine.AutoThreads) for its CPUs and whether a side
// is reached over a network.
func (a *applier) threads() int {
	return a.spec.ThreadsFor(runtime.GOMAXPROCS(0), vfs.ListAhead(a.src) > 0 || vfs.ListAhead(a.dst) > 0)
}

func isCopy(c *engine.Change) bool {
	return c.Kind != engine.KindDir && (c.Action == engine.Create || c.Action == engine.Update)
}

// errStop ends a read of the change list early; it is no error.
var errStop = errors.New("stop")

// readFailed records an error reading the change list back (a spill file
// that cannot be read or was tampered with): an error of the set, which
// keeps its deletions from running.
func (a *applier) readFailed(err error) {
	if err == nil || err == errStop {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.res.Errors = append(a.res.Errors, engine.FileError{Path: "", Op: "read the planned changes", Err: err.Error()})
}

// bits is a set of change indexes.
type bits []uint64

func newBits(n int) bits      { return make(bits, (n+63)/64) }
func (b bits) get(i int) bool { return b[i>>6]&(1<<(i&63)) != 0 }
func (b bits) set(i int)      { b[i>>6] |= 1 << (i & 63) }

// runLinks makes a phase's hard links, once its copies are done (each
// links to a file the phase, or an earlier one, wrote). They are read
// again from the list (Head.Link), not held while the copies run; a phase
// without any is not read again.
func (a *applier) runLinks(p engine.Phase) {
	if a.changes.LinksInPhase(p) == 0 {
		return
	}
	a.readFailed(a.changes.RangeWhere(func(h engine.Head) bool { return h.Phase == p && h.Link }, func(i int, c *engine.Change) error {
		if a.ran.get(i) {
			return nil
		}
		if a.stopped() {
			return errStop
		}
		a.ran.set(i)
		a.run(c)
		return nil
	}))
}

// Limits of one worker's batch of copies into one directory.
const (
	batchFiles = 128
	batchBytes = 32 << 20
)

// batcher cuts the copies, in plan order, into runs of changes with the
// same parent directory.
type batcher struct {
	cur   []*engine.Change
	bytes int64
}

// add adds c, and returns the batch it ends, if any.
func (b *batcher) add(c *engine.Change) (full []*engine.Change) {
	if len(b.cur) > 0 && (parent(c.Path) != parent(b.cur[0].Path) || len(b.cur) >= batchFiles || b.bytes >= batchBytes) {
		full = b.flush()
	}
	b.cur = append(b.cur, c)
	b.bytes += c.Size
	return full
}

// flush returns the batch being built, nil when empty.
func (b *batcher) flush() []*engine.Change {
	out := b.cur
	b.cur, b.bytes = nil, 0
	if len(out) == 0 {
		return nil
	}
	return out
}

func (a *applier) stopped() bool {
	if a.ctx.Err() != nil {
		a.mu.Lock()
		a.res.Interrupted = true
		a.mu.Unlock()
		return true
	}
	return false
}

// run performs one change with retries for transient errors. A copy whose
// source changed while it was read waits for retryChanging.
func (a *applier) run(c *engine.Change) {
	skip, err := a.attempt(c)
	seen, saw := a.takeSeen(c)
	switch {
	case skip == reasonChanging:
		p := pendingCopy{c: c}
		if saw {
			p.seen = heapMeta(seen) // (only here: seen stays on the stack)
		}
		a.mu.Lock()
		a.changing = append(a.changing, p)
		a.mu.Unlock()
	case skip == reasonSourceChanged && saw:
		a.mu.Lock()
		a.changing = append(a.changing, pendingCopy{c: c, seen: heapMeta(seen), sincePlan: true})
		a.mu.Unlock()
	default:
		a.finish(c, skip, err)
	}
}

// sourceGuard is the source guard of a copy (guard), which also keeps what
// it saw of a file that is no longer as planned, for run.
func (a *applier) sourceGuard(c *engine.Change, now *engine.Meta) string {
	why := guard("source", c.Src, now)
	if why != "" && c.Kind == engine.KindFile && now != nil && now.Kind == engine.KindFile {
		a.noteSeen(c, *now)
	}
	return why
}

// noteSeen keeps what a failed check of c's source saw, for run.
func (a *applier) noteSeen(c *engine.Change, m engine.Meta) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil {
		a.seen = map[*engine.Change]engine.Meta{}
	}
	a.seen[c] = m
}

// takeSeen returns and forgets what a failed check of c's source saw.
func (a *applier) takeSeen(c *engine.Change) (engine.Meta, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m, ok := a.seen[c]
	delete(a.seen, c)
	return m, ok
}

// attempt performs one change, retrying transient errors. It returns a
// skip reason when a guard fails, or the last error.
func (a *applier) attempt(c *engine.Change) (skip string, err error) {
	for attempt := 0; ; attempt++ {
		skip, err = a.do(c)
		if skip == "" && errors.Is(err, vfs.ErrNotFollowed) {
			// A directory on the way was swapped for a link (or a file)
			// since the plan: nothing was read or written through it.
			skip, err = "changed since the plan was made: "+vfs.ErrNotFollowed.Error(), nil
		}
		if skip != "" {
			return skip, nil
		}
		if err == nil || !transient(err) || attempt >= a.spec.Retries || a.ctx.Err() != nil {
			return "", err
		}
		a.wait(a.spec.RetryWait)
	}
}

// finish records the outcome of a change: skipped, failed or done.
func (a *applier) finish(c *engine.Change, skip string, err error) {
	if skip != "" {
		a.skip(c, skip)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if errors.Is(err, errInterrupted) {
		// Stopped mid-file: the temporary file is gone and the
		// destination keeps its old version. Not an error of the set.
		a.res.Interrupted = true
		return
	}
	if err != nil {
		err = a.explainFlags(c, err)
		op := opName(c)
		var ve *versionError
		if errors.As(err, &ve) {
			op, err = "keep old version of", ve.err
		}
		a.res.Errors = append(a.res.Errors, engine.FileError{Path: c.Path, Op: op, Err: errText(err)})
		a.failCount(c)
		a.rep.Report(engine.Event{Change: c, Done: true, Err: err})
		return
	}
	a.res.Done++
	a.count(c)
	a.touched.Add(parent(c.Path))
	if c.Kind == engine.KindDir && c.Action != engine.Delete {
		a.touched.Add(c.Path)
	}
	a.rep.Report(engine.Event{Change: c, Bytes: c.Size, Done: true})
}

// failed reports whether the set's deletions must not run: an operation
// failed, the run was stopped, or (changing_files = "fail") a file kept
// changing while it was copied.
func (a *applier) failed() bool {
	return len(a.res.Errors) > 0 || a.res.Interrupted || (len(a.res.Changing) > 0 && !a.spec.WarnsChanging())
}

// Files whose source changes while they are copied are not given up at
// once: a file being saved, downloaded or rotated is usually complete a
// moment later. Once the other copies of the phase are done, robo waits
// changingWait and looks at each such file again: if it held still since
// it was last seen, it is copied from the source as it is now (its current
// size and time become the copy's source guard; the destination guard
// stays the plan's); if it changed again, or changes during that copy, it
// is looked at again after the next wait, changingRetries waits in all.
// One still changing after the last ends in Result.Changing. Requiring a
// file to hold still for a wait before it is copied again is what makes
// a file rewritten in a loop (or emptied and refilled, as a shell's > does)
// a changing file, whatever the scheduling, instead of a lucky copy of a
// moment at which it was empty.
//
// A source that was not as planned when its copy began is told apart by
// the same look: if it is still as the guard saw it, it changed since the
// plan and holds still, and stays a guard skip (the next plan picks it
// up); if it changed again, it is being written during the run, and is
// handled as above.
const (
	changingRetries = 2
	changingWait    = time.Second
)

// reasonChanging is the skip reason of a copy whose source changed while
// it was read (the After checks of copyFile and localChecks).
const reasonChanging = "source file changed while it was copied"

// reasonSourceChanged is the source guard's reason for a file that is not
// as it was seen.
var reasonSourceChanged = guard("source", &engine.Meta{Kind: engine.KindFile}, &engine.Meta{Kind: engine.KindFile, Size: 1})

// sourceChanging reports whether a retried copy found its source changing
// again: while it was read, or between the look that gave the retry its
// guard and the open.
func sourceChanging(skip string) bool {
	return skip == reasonChanging || skip == reasonSourceChanged
}

// retryChanging looks again at the copies of the phase whose source
// changed while they were read (or differed from the plan), in rounds:
// one wait, then every file still pending, on the phase's workers.
func (a *applier) retryChanging() {
	pending := a.changing
	a.changing = nil
	order := map[*engine.Change]int{}
	for i, p := range pending {
		order[p.c] = i
	}
	for round := 1; round <= changingRetries && len(pending) > 0; round++ {
		a.wait(changingWait)
		if a.stopped() {
			return
		}
		var (
			mu    sync.Mutex
			still []pendingCopy
		)
		work := make(chan pendingCopy)
		var wg sync.WaitGroup
		for range min(a.threads(), len(pending)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range work {
					if next, again := a.retry(p); again {
						mu.Lock()
						still = append(still, next)
						mu.Unlock()
					}
				}
			}()
		}
		for _, p := range pending {
			if a.stopped() {
				break
			}
			work <- p
		}
		close(work)
		wg.Wait()
		// Keep plan order for the results.
		sort.Slice(still, func(i, j int) bool { return order[still[i].c] < order[still[j].c] })
		pending = still
	}
	for _, p := range pending {
		last := *p.c
		if p.seen != nil {
			last.Size = p.seen.Size
		}
		a.mu.Lock()
		a.res.Changing = append(a.res.Changing, engine.FileError{Path: p.c.Path, Op: opName(p.c),
			Err: fmt.Sprintf("%v, and still after %d waits of %s; the destination keeps what it had", engine.ErrChanging, changingRetries, changingWait)})
		a.failCount(&last)
		a.mu.Unlock()
		a.rep.Report(engine.Event{Change: &last, Done: true, Err: engine.ErrChanging})
	}
}

// retry looks at the source of p again, after a wait. A file that held
// still since it was last seen is copied as it is now (or, when it only
// differed from the plan, skipped as such); one that changed again, or
// changes during that copy, is returned to be looked at after the next
// wait. Anything else (done, gone, failed) is finished here.
func (a *applier) retry(p pendingCopy) (next pendingCopy, again bool) {
	c := p.c
	now, err := current(a.src, c.Path)
	switch {
	case err != nil:
		a.finish(c, "", err)
		return p, false
	case now == nil || now.Kind != c.Kind:
		// Gone, or another kind of entry: a change since the plan.
		a.finish(c, guard("source", c.Src, now), nil)
		return p, false
	case p.seen == nil || !p.seen.Matches(*now):
		return pendingCopy{c: c, seen: now}, true
	case p.sincePlan:
		a.finish(c, reasonSourceChanged, nil)
		return p, false
	}
	r := *c
	r.Src, r.Size = now, now.Size
	skip, err := a.attempt(&r)
	seen, saw := a.takeSeen(&r)
	if err == nil && sourceChanging(skip) {
		next = pendingCopy{c: c}
		if saw {
			next.seen = &seen
		}
		return next, true
	}
	a.finish(&r, skip, err)
	return p, false
}

// wait sleeps between retries, ending early when the run is stopped.
func (a *applier) wait(d time.Duration) {
	if a.e.Sleep != nil {
		a.e.Sleep(d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-a.ctx.Done():
	}
}

func (a *applier) skip(c *engine.Change, why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.res.Skipped = append(a.res.Skipped, engine.Skip{Path: c.Path, Action: c.Action, Reason: why})
	if c.Kind == engine.KindDir {
		a.res.Counters.Dirs.Skipped++
	} else {
		a.res.Counters.Files.Skipped++
	}
	a.rep.Report(engine.Event{Change: c, Done: true, Skip: why})
}

func (a *applier) count(c *engine.Change) {
	row := &a.res.Counters.Files
	if c.Kind == engine.KindDir {
		row = &a.res.Counters.Dirs
	}
	switch c.Action {
	case engine.Delete:
		if c.Class == engine.StaleTemp {
			return
		}
		row.Extras++
		if c.Kind == engine.KindDir {
			a.res.DeletedDirs++
		} else {
			a.res.DeletedFiles++
			a.res.Counters.Bytes.Extras += c.Size
		}
	case engine.Replace:
		row.Mismatch++
		row.Copied++
		if c.Dst != nil && c.Dst.Kind == engine.KindDir {
			a.res.DeletedDirs++
		} else {
			a.res.DeletedFiles++
		}
		if c.Kind != engine.KindDir {
			a.res.Counters.Bytes.Copied += c.Size
			a.res.BytesCopied += c.Size
		}
	default:
		row.Copied++
		if c.Kind != engine.KindDir {
			a.res.Counters.Bytes.Copied += c.Size
			a.res.BytesCopied += c.Size
		}
	}
}

// totals fills robocopy's Total and Skipped columns: everything the source
// holds, and what of it was not copied and did not fail.
func totals(c *engine.Counters, src engine.TreeStats) {
	fill := func(r *engine.Row, total int64) {
		r.Total = total
		r.Skipped = max(0, total-r.Copied-r.Failed)
	}
	fill(&c.Files, src.Files)
	fill(&c.Dirs, src.Dirs)
	fill(&c.Bytes, src.Bytes)
}

func (a *applier) failCount(c *engine.Change) {
	if c.Kind == engine.KindDir {
		a.res.Counters.Dirs.Failed++
		return
	}
	a.res.Counters.Files.Failed++
	if c.Action != engine.Delete {
		a.res.Counters.Bytes.Failed += c.Size
	}
}

func opName(c *engine.Change) string {
	switch {
	case c.Action == engine.Delete:
		return "delete"
	case c.Kind == engine.KindDir:
		return "create dir"
	case c.Action == engine.Replace:
		return "replace"
	}
	return "copy"
}

// current returns the metadata of an entry now, or nil when it is absent.
func current(fsys vfs.FS, rel string) (*engine.Meta, error) {
	en, err := fsys.Stat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m := metaOf(en)
	if m.Kind == engine.KindSymlink {
		if m.Target, err = fsys.Readlink(rel); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// guard compares what is there now with what the plan saw. It returns a
// reason to skip, or "".
func guard(side string, planned, now *engine.Meta) string {
	switch {
	case planned == nil && now == nil:
		return ""
	case planned == nil:
		return fmt.Sprintf("%s now has a %s here that the plan did not see", side, now.Kind)
	case now == nil:
		return fmt.Sprintf("%s %s is gone since the plan was made", side, planned.Kind)
	case planned.Kind == engine.KindDir && now.Kind == engine.KindDir:
		return ""
	case !planned.Matches(*now):
		return fmt.Sprintf("%s %s changed since the plan was made", side, planned.Kind)
	}
	return ""
}

// do performs one change once. It returns a skip reason when a guard fails.
func (a *applier) do(c *engine.Change) (skip string, err error) {
	if c.Class == engine.Tweaked {
		return a.tweakEntry(c)
	}
	switch c.Action {
	case engine.Delete:
		now, err := current(a.dst, c.Path)
		if err != nil {
			return "", err
		}
		if why := guard("destination", c.Dst, now); why != "" {
			return why, nil
		}
		if a.keeps(c) {
			return "", a.version(c)
		}
		if err := a.dst.Remove(c.Path); err != nil {
			if c.Kind == engine.KindDir && notEmpty(err) {
				return "destination directory is not empty: something appeared in it since the plan was made", nil
			}
			return "", err
		}
		return "", nil
	case engine.Replace:
		now, err := current(a.dst, c.Path)
		if err != nil {
			return "", err
		}
		if why := guard("destination", c.Dst, now); why != "" {
			return why, nil
		}
		if a.keeps(c) && now != nil && now.Kind != engine.KindDir {
			if err := a.version(c); err != nil {
				return "", err
			}
			return a.create(c)
		}
		if err := a.dst.Remove(c.Path); err != nil {
			if notEmpty(err) {
				return "destination directory is not empty: something appeared in it since the plan was made", nil
			}
			return "", err
		}
		return a.create(c)
	}
	if c.Kind == engine.KindDir {
		now, err := current(a.dst, c.Path)
		if err != nil {
			return "", err
		}
		if now != nil && now.Kind != engine.KindDir {
			return fmt.Sprintf("destination now has a %s here that the plan did not see", now.Kind), nil
		}
		if err := a.mkdir(c); err != nil {
			return "", err
		}
		a.markDirMeta(c.Path)
		return "", nil
	}
	if c.Action == engine.Create && c.Kind == engine.KindFile && c.Dst == nil && c.LinkTo == "" && a.lsrc != nil && a.ldst != nil {
		skip, err := a.createLocal(c)
		if !errors.Is(err, vfs.ErrNoFastCopy) {
			return skip, err
		}
	}
	if vfs.FastCopy && c.Kind == engine.KindFile && c.LinkTo == "" && a.lsrc != nil && a.ldst != nil && (c.Dst == nil || c.Dst.Kind == engine.KindFile) {
		// The destination guard runs on the directory the copy resolves
		// anyway (vfs.ReplaceFile), before anything is written.
		skip, err := a.copyLocal(c, true)
		if !errors.Is(err, vfs.ErrNoFastCopy) {
			return skip, err
		}
	}
	if fr, ok := a.dst.(vfs.FreshRenamer); ok && c.Action == engine.Create && c.Kind == engine.KindFile && c.Dst == nil && c.LinkTo == "" {
		return a.createFresh(c, fr)
	}
	now, err := current(a.dst, c.Path)
	if err != nil {
		return "", err
	}
	if why := guard("destination", c.Dst, now); why != "" {
		return why, nil
	}
	return a.create(c)
}

// createFresh copies a new file to a destination whose rename refuses a
// name that is taken (vfs.FreshRenamer: an SMB share): the destination
// guard is the rename itself, so there is no look at the name before the
// copy. A refused rename is the guard's skip, the copy under its temporary
// name removed.
func (a *applier) createFresh(c *engine.Change, fr vfs.FreshRenamer) (skip string, err error) {
	srcNow, err := current(a.src, c.Path)
	if err != nil {
		return "", err
	}
	if why := a.sourceGuard(c, srcNow); why != "" {
		return why, nil
	}
	skip, err = a.copyFile(c, fr)
	return a.refusedCreate(c, skip, err)
}

// createLocal copies a new file between two local trees without a
// temporary name: the copy is written into an anonymous file and linked at
// its name when complete (vfs.CopyNewFile), and the link refuses a name
// that exists. That is the destination guard of a create made atomic, so
// the lstat before it is not needed. It returns vfs.ErrNoFastCopy, having
// changed nothing, where the file systems do not allow it.
func (a *applier) createLocal(c *engine.Change) (skip string, err error) {
	skip, err = a.ldst.CopyNewFile(a.lsrc, c.Path, a.createPerm(c), c.Src.Time(), a.localChecks(c))
	return a.refusedCreate(c, skip, err)
}

// refusedCreate is the destination guard of a create whose last step
// refuses a name that is taken (err is fs.ErrExist): the name is looked at
// again, and what is there now is the guard's skip. Other results pass.
func (a *applier) refusedCreate(c *engine.Change, skip string, err error) (string, error) {
	if !errors.Is(err, fs.ErrExist) {
		return skip, err
	}
	now, cerr := current(a.dst, c.Path)
	if cerr != nil {
		return "", cerr
	}
	if why := guard("destination", nil, now); why != "" {
		return why, nil
	}
	return skip, err
}

// create writes the source entry of c at its path through a temporary name.
func (a *applier) create(c *engine.Change) (skip string, err error) {
	if c.LinkTo != "" {
		return a.link(c)
	}
	if c.Kind == engine.KindFile && a.lsrc != nil && a.ldst != nil {
		// The source guard runs on the open descriptor.
		skip, err := a.copyLocal(c, false)
		if !errors.Is(err, vfs.ErrNoFastCopy) {
			return skip, err
		}
	}
	srcNow, err := current(a.src, c.Path)
	if err != nil {
		return "", err
	}
	if why := a.sourceGuard(c, srcNow); why != "" {
		return why, nil
	}
	switch c.Kind {
	case engine.KindDir:
		if err := a.mkdir(c); err != nil {
			return "", err
		}
		a.markDirMeta(c.Path)
		return "", nil
	case engine.KindSymlink:
		tmp := a.tempName(c.Path)
		if err := a.dst.Symlink(srcNow.Target, tmp); err != nil {
			return "", err
		}
		if err := a.copyMeta(c, tmp); err != nil {
			a.dst.Remove(tmp)
			return "", err
		}
		if skip, err := a.versionUpdate(c); skip != "" || err != nil {
			a.dst.Remove(tmp)
			return skip, err
		}
		if err := a.dst.Rename(tmp, c.Path); err != nil {
			a.dst.Remove(tmp)
			return "", err
		}
		return "", nil
	}
	return a.copyFile(c, nil)
}

// copyFile copies the source file of c through a temporary name. With
// fresh set (a new file, see createFresh), the last step refuses a name
// that is taken, with an error that matches fs.ErrExist.
func (a *applier) copyFile(c *engine.Change, fresh vfs.FreshRenamer) (skip string, err error) {
	if ac, ok := a.dst.(vfs.AtomicCreator); ok {
		return a.copyFinal(c, ac)
	}
	r, err := a.src.Open(c.Path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	w, tmp, n, err := a.writeTemp(c, r)
	if err != nil {
		return "", err
	}
	ok := false
	defer func() {
		if !ok {
			w.Close()
			a.dst.Remove(tmp)
		}
	}()
	if n < 0 {
		// A source with holes keeps them (vfs.CopySparse); any other file,
		// or a side that cannot, is copied byte for byte.
		n, err = vfs.CopySparse(w, r, c.Src.Size, copyChunk, a.stopErr)
		if errors.Is(err, vfs.ErrNotSparse) {
			n, err = copyChunks(a.ctx, w, r)
		}
		if err != nil {
			return "", err
		}
	}
	// A Writer that can finish the file (time, rename, close) in one
	// request stays open until then (an SMB share, issue 22).
	var fin func(mtime time.Time, newname string) error
	if fresh == nil {
		if f, ok := w.(vfs.Finisher); ok {
			fin = f.Finish
		}
	} else if f, ok := w.(vfs.FreshFinisher); ok {
		fin = f.FinishFresh
	}
	finish := fin != nil
	if !finish {
		if err := w.Close(); err != nil {
			return "", err
		}
	}
	// The source must not have changed while it was read.
	fi, err := r.Stat()
	if err != nil {
		return "", err
	}
	if n != c.Src.Size || fi.Size() != c.Src.Size || !engine.TimesEqual(fi.ModTime(), c.Src.Time(), 0) {
		if finish {
			w.Close()
		}
		a.dst.Remove(tmp)
		ok = true
		a.noteSeen(c, engine.Meta{Kind: engine.KindFile, Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Mode: c.Src.Mode})
		return reasonChanging, nil
	}
	if err := a.copyStreams(c, tmp); err != nil {
		return "", err
	}
	if !finish {
		if err := a.dst.Chtimes(tmp, c.Src.Time()); err != nil {
			return "", err
		}
	}
	if err := a.copyMeta(c, tmp); err != nil {
		return "", err
	}
	if skip, err := a.versionUpdate(c); skip != "" || err != nil {
		if skip != "" {
			if finish {
				w.Close()
			}
			a.dst.Remove(tmp)
			ok = true
		}
		return skip, err
	}
	switch {
	case finish:
		err = fin(c.Src.Time(), c.Path)
	case fresh != nil:
		err = fresh.RenameFresh(tmp, c.Path)
	default:
		err = a.dst.Rename(tmp, c.Path)
	}
	if err != nil {
		return "", err
	}
	ok = true
	return "", nil
}

// smallFile is the largest source file read whole before its temporary
// file is made, where the destination can create and write it in one
// request (vfs.TempWriter: an SMB share).
const smallFile = 256 << 10

// writeTemp makes the temporary file of c. A small file, where the
// destination is a vfs.TempWriter, is read whole and the file made with
// its data (n is what was read: one byte more than the plan's size when the
// source grew, which copyFile then reports); otherwise the file is created
// empty and n is -1: the caller copies.
func (a *applier) writeTemp(c *engine.Change, r io.Reader) (w vfs.Writer, tmp string, n int64, err error) {
	dir, prefix, perm := parent(c.Path), tempPrefix+tempStem(base(c.Path))+".", a.createPerm(c)
	if tw, ok := a.dst.(vfs.TempWriter); ok && c.Src.Size <= smallFile {
		if a.ctx.Err() != nil {
			return nil, "", 0, errInterrupted
		}
		buf := make([]byte, c.Src.Size+1)
		k, err := io.ReadFull(r, buf)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, "", 0, err
		}
		w, tmp, err = tw.WriteTemp(dir, prefix, perm, buf[:k])
		return w, tmp, int64(k), err
	}
	w, tmp, err = a.dst.CreateTemp(dir, prefix, perm)
	return w, tmp, -1, err
}

// copyFinal is copyFile to a destination without rename (an object
// store): the file is written under its final name by a writer that makes
// it visible only on Commit. The source guard runs after reading as in
// copyFile; the destination guard runs inside Commit, against the entry
// there just before the store (nothing when the old file was moved into
// the versions folder or removed by a replace).
func (a *applier) copyFinal(c *engine.Change, ac vfs.AtomicCreator) (skip string, err error) {
	r, err := a.src.Open(c.Path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	w, err := ac.CreateFinal(c.Path, fs.FileMode(c.Src.Mode)&fs.ModePerm|0o600, c.Src.Time())
	if err != nil {
		return "", err
	}
	defer w.Abort()
	if h, ok := w.(vfs.SizeHinter); ok {
		h.SizeHint(c.Src.Size)
	}
	n, err := copyChunks(a.ctx, w, r)
	if err != nil {
		return "", err
	}
	fi, err := r.Stat()
	if err != nil {
		return "", err
	}
	if n != c.Src.Size || fi.Size() != c.Src.Size || !engine.TimesEqual(fi.ModTime(), c.Src.Time(), 0) {
		a.noteSeen(c, engine.Meta{Kind: engine.KindFile, Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Mode: c.Src.Mode})
		return reasonChanging, nil
	}
	if skip, err := a.versionUpdate(c); skip != "" || err != nil {
		return skip, err
	}
	want := c.Dst
	if c.Action != engine.Update || a.keeps(c) {
		want = nil
	}
	return w.Commit(func(now *vfs.Entry) string {
		if now == nil {
			return guard("destination", want, nil)
		}
		return guard("destination", want, metaOf(*now))
	})
}

// copyLocal is copyFile between two local trees: the source guard runs on
// the open source descriptor's fstat (the metadata lstat would return for
// the regular file opened without following links), the temporary file is
// created exclusively with its final mode and gets its time by futimens
// before the rename, all on one descriptor of the file's directory
// (vfs.ReplaceFile). With guarded, the destination guard (what do() checks
// before every copy) runs there too, before anything is written, and a
// create takes its name with a rename that cannot replace, so an entry
// that appears after the guard is not overwritten either. It returns
// vfs.ErrNoFastCopy, having changed nothing, when the source is no longer
// a regular file or cannot be opened: the portable path then reports it
// through its own guard.
func (a *applier) copyLocal(c *engine.Change, guarded bool) (skip string, err error) {
	checks := a.localChecks(c)
	perm := a.createPerm(c)
	steps := vfs.ReplaceSteps{Ready: func() (string, error) { return a.versionUpdate(c) }}
	if guarded {
		steps.Guard = func(now *vfs.Entry) string {
			if now == nil {
				return guard("destination", c.Dst, nil)
			}
			return guard("destination", c.Dst, metaOf(*now))
		}
		steps.NoReplace = c.Dst == nil
	}
	for try := 0; ; try++ {
		skip, err = a.ldst.ReplaceFile(a.lsrc, c.Path, a.tempName(c.Path), perm, c.Src.Time(), checks, steps)
		if try < 3 && errors.Is(err, fs.ErrExist) && !isRename(err) {
			continue // a temporary name collision with a file robo did not make
		}
		return skip, err
	}
}

// isRename reports whether err is the failure of a rename (an entry that
// took the name meanwhile), not of creating the temporary file.
func isRename(err error) bool {
	var le *os.LinkError
	return errors.As(err, &le)
}

// localChecks are the source guards of a local copy, run on the open
// source descriptor, and the stop check between chunks.
func (a *applier) localChecks(c *engine.Change) vfs.CopyChecks {
	return vfs.CopyChecks{
		Before: func(en vfs.Entry) string { return a.sourceGuard(c, metaOf(en)) },
		After: func(n int64, en vfs.Entry) string {
			if n != c.Src.Size || en.Size != c.Src.Size || !engine.TimesEqual(en.ModTime, c.Src.Time(), 0) {
				a.noteSeen(c, *metaOf(en))
				return reasonChanging
			}
			return ""
		},
		Stop:  a.stopErr,
		Chunk: copyChunk,
		Meta:  a.metaCopy(c.Kind),
		Warn:  a.warnFn,
	}
}

// stopErr is asked between the chunks of a copy: errInterrupted once the
// run is stopped.
func (a *applier) stopErr() error {
	if a.ctx.Err() != nil {
		return errInterrupted
	}
	return nil
}

// tempName returns a new temporary name beside rel: robo's temp prefix, the
// file's name (shortened by tempStem), this run's random tag and a
// counter.
func (a *applier) tempName(rel string) string {
	return vfs.Join(parent(rel), tempPrefix+tempStem(base(rel))+"."+a.tag+strconv.FormatUint(a.seq.Add(1), 36)+tempSuffix)
}

// versionError is a failure to move a destination entry into the run's
// versions folder: the entry stays where it is, neither overwritten nor
// deleted.
type versionError struct{ err error }

func (e *versionError) Error() string { return "keep old version: " + e.err.Error() }
func (e *versionError) Unwrap() error { return e.err }

// keeps reports whether c moves the destination entry it replaces into the
// versions folder.
func (a *applier) keeps(c *engine.Change) bool {
	return a.stamp != "" && engine.Versioned(c)
}

// versionUpdate moves the file an update is about to overwrite into the
// versions folder, once the new content is ready under its temporary name.
// The guard already checked the entry is the one the plan saw; one more
// look here keeps a file that changed during the copy from being versioned
// and replaced unseen.
func (a *applier) versionUpdate(c *engine.Change) (skip string, err error) {
	if c.Action != engine.Update || !a.keeps(c) {
		return "", nil
	}
	now, err := current(a.dst, c.Path)
	if err != nil {
		return "", &versionError{err}
	}
	if why := guard("destination", c.Dst, now); why != "" {
		return why, nil
	}
	return "", a.version(c)
}

// version moves the destination entry at c.Path to the same path under the
// run's versions folder: a rename within the destination, so it is cheap
// and atomic per file. An entry already kept there (a second change to the
// same path in one run) is not overwritten.
func (a *applier) version(c *engine.Change) error {
	to := engine.VersionPath(a.stamp, c.Path)
	if err := a.dst.MkdirAll(parent(to)); err != nil {
		return &versionError{err}
	}
	if there, err := current(a.dst, to); err != nil || there != nil {
		if err == nil {
			err = fmt.Errorf("%s already exists", to)
		}
		return &versionError{err}
	}
	if err := a.dst.Rename(c.Path, to); err != nil {
		return &versionError{err}
	}
	a.mu.Lock()
	a.res.FilesVersioned++
	a.res.BytesVersioned += engine.VersionedSize(c)
	a.mu.Unlock()
	return nil
}

// prune removes the old run folders the plan listed, after a run in which
// every change succeeded. Only names that are run folders, other than this
// run's, are touched.
func (a *applier) prune(names []string) {
	for _, n := range names {
		if _, ok := engine.ParseVersionStamp(n); !ok || n == a.stamp {
			continue
		}
		rel := engine.VersionsDir + "/" + n
		if err := removeAll(a.dst, rel); err != nil {
			a.res.Errors = append(a.res.Errors, engine.FileError{Path: rel, Op: "prune old versions", Err: errText(err)})
			continue
		}
		a.res.VersionsPruned = append(a.res.VersionsPruned, n)
	}
}

// removeAll removes rel and everything under it, without following links.
// A folder already gone is not an error.
func removeAll(fsys vfs.FS, rel string) error {
	en, err := fsys.Stat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if en.Kind == vfs.Dir {
		list, err := fsys.ReadDir(rel)
		if err != nil {
			return err
		}
		for _, c := range list {
			if err := removeAll(fsys, vfs.Join(rel, c.Name)); err != nil {
				return err
			}
		}
	}
	return fsys.Remove(rel)
}

// copyChunk is how much copyChunks copies between two looks at the context:
// it bounds how long a stop waits for a large file (one chunk per copy
// thread), and is large enough to keep the kernel's copy fast paths.
const copyChunk = 64 << 20

// errInterrupted ends a copy whose context ended; the caller removes the
// temporary file and the set is reported as interrupted, not as failed.
var errInterrupted = errors.New("interrupted")

// copyChunks copies r to w in chunks of copyChunk bytes and stops between
// chunks once ctx ends. io.CopyN hands an *io.LimitedReader to w's ReadFrom,
// which *os.File unwraps for copy_file_range and sendfile.
func copyChunks(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	var n int64
	for {
		if ctx.Err() != nil {
			return n, errInterrupted
		}
		k, err := io.CopyN(w, r, copyChunk)
		n += k
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// mkdir makes the directory of c, with its source's time where the
// destination keeps a directory's time in what making it writes
// (vfs.TimedMkdirer: an object store's folder marker, one PUT instead of
// two). A run killed before the directory's contents are in leaves it
// with that time, which is the time it is to have: the next plan still
// finds the missing contents.
func (a *applier) mkdir(c *engine.Change) error {
	perm := fs.FileMode(c.Src.Mode) | 0o700
	if tm, ok := a.dst.(vfs.TimedMkdirer); ok {
		return tm.MkdirTime(c.Path, perm, c.Src.Time())
	}
	return a.dst.Mkdir(c.Path, perm)
}

// restoreDirTimes gives every destination directory that was created or
// changed the modification time of its source directory, deepest first.
func (a *applier) restoreDirTimes() {
	err := a.touched.Each(func(d string) error {
		s, err := a.src.Stat(d)
		if err != nil || s.Kind != vfs.Dir {
			return nil
		}
		if dd, err := a.dst.Stat(d); err != nil || dd.Kind != vfs.Dir {
			return nil
		}
		if err := a.dst.Chtimes(d, s.ModTime); err != nil {
			a.res.Errors = append(a.res.Errors, engine.FileError{Path: d, Op: "set dir time", Err: errText(err)})
		}
		return nil
	})
	if err != nil {
		a.res.Errors = append(a.res.Errors, engine.FileError{Path: "", Op: "set dir times", Err: err.Error()})
	}
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func notEmpty(err error) bool {
	return errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) || strings.Contains(err.Error(), "not empty")
}

// transient reports whether an error may go away on a retry. Missing files,
// permission problems and a full or read-only disk do not; a file another
// program holds open on Windows does (osBusy).
func transient(err error) bool {
	if osBusy(err) {
		return true
	}
	switch {
	case errors.Is(err, vfs.ErrUnreachable):
		return false // a dead share: every retry would fail the same way
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrExist),
		errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS), errors.Is(err, syscall.ENAMETOOLONG),
		errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EINVAL):
		return false
	}
	return true
}
