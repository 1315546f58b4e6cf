package native

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	a := &applier{e: e, ctx: ctx, spec: job.Spec, src: src, dst: dst, rep: rep, res: &engine.Result{}, touched: map[string]bool{},
		tag: randomSuffix() + "-"}
	if ls, ok := src.(*vfs.Local); ok {
		if ld, ok := dst.(*vfs.Local); ok {
			a.lsrc, a.ldst = ls, ld
		}
	}
	if job.Spec.Versions != nil {
		a.stamp = engine.VersionStamp(start)
	}
	if len(job.Changes) > 0 {
		if err := dst.MkdirAll(""); err != nil {
			return nil, fmt.Errorf("create destination %s: %w", job.Spec.Destination, err)
		}
	}
	// A malformed change (a plan edited by hand, or a bug) fails on its
	// own, before anything runs, and so keeps the set's deletions from
	// running; it never reaches the code below, which trusts its fields.
	a.ran = map[*engine.Change]bool{}
	for i := range job.Changes {
		c := &job.Changes[i]
		if err := checkChange(c); err != nil {
			a.ran[c] = true
			a.res.Errors = append(a.res.Errors, engine.FileError{Path: c.Path, Op: "check planned change", Err: err.Error()})
			a.failCount(c)
			a.rep.Report(engine.Event{Change: c, Done: true, Err: err})
		}
	}
	a.phase(job.Changes, engine.PhaseCopy)
	failed := len(a.res.Errors) > 0 || a.res.Interrupted
	if !failed {
		a.phase(job.Changes, engine.PhaseDelete)
		failed = len(a.res.Errors) > 0 || a.res.Interrupted
	}
	if !failed {
		a.phase(job.Changes, engine.PhaseReplace)
	} else {
		for i := range job.Changes {
			c := &job.Changes[i]
			if c.Phase != engine.PhaseCopy && !a.ran[c] {
				a.res.DeletesSkipped++
				a.skip(c, "not attempted: an earlier operation of this set failed, so its deletions are skipped")
			}
		}
	}
	a.restoreDirTimes()
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
	touched map[string]bool // destination dirs whose times to restore
	ran     map[*engine.Change]bool
	// stamp names this run's versions folder; "" when the set keeps no
	// versions.
	stamp string
	// lsrc and ldst are src and dst when both are local trees (the fast
	// copy path), else nil.
	lsrc, ldst *vfs.Local
	// tag and seq make temporary names unique: a random tag per run and
	// a counter.
	tag string
	seq atomic.Uint64
}

// phase runs the changes of one phase: structural changes (directories,
// deletions, replacements) one by one in plan order, then file and link
// copies on the worker pool.
func (a *applier) phase(all []engine.Change, p engine.Phase) {
	if a.ran == nil {
		a.ran = map[*engine.Change]bool{}
	}
	var copies []*engine.Change
	for i := range all {
		c := &all[i]
		if c.Phase != p || a.ran[c] {
			continue
		}
		if c.Kind != engine.KindDir && (c.Action == engine.Create || c.Action == engine.Update) {
			copies = append(copies, c)
			continue
		}
		if a.stopped() {
			return
		}
		a.ran[c] = true
		a.run(c)
	}
	threads := a.spec.Threads
	if threads < 1 {
		threads = 1
	}
	// Workers take whole runs of copies into one directory: creating and
	// renaming entries takes the directory's lock, and eight workers in
	// one directory spend much of their time waiting for it. A run is cut
	// after batchFiles files or batchBytes bytes, so a large directory or
	// large files still spread over the workers.
	batches := batchByDir(copies)
	work := make(chan []*engine.Change)
	var wg sync.WaitGroup
	for range min(threads, len(batches)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				for _, c := range b {
					if a.stopped() {
						break
					}
					a.mu.Lock()
					a.ran[c] = true
					a.mu.Unlock()
					a.run(c)
				}
			}
		}()
	}
	for _, b := range batches {
		if a.stopped() {
			break
		}
		work <- b
	}
	close(work)
	wg.Wait()
}

// Limits of one worker's batch of copies into one directory.
const (
	batchFiles = 128
	batchBytes = 32 << 20
)

// batchByDir cuts the copies, in plan order, into runs of changes with the
// same parent directory.
func batchByDir(copies []*engine.Change) [][]*engine.Change {
	var out [][]*engine.Change
	start, bytes := 0, int64(0)
	for i, c := range copies {
		if i > start && (parent(c.Path) != parent(copies[start].Path) || i-start >= batchFiles || bytes >= batchBytes) {
			out = append(out, copies[start:i])
			start, bytes = i, 0
		}
		bytes += c.Size
	}
	if start < len(copies) {
		out = append(out, copies[start:])
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

// run performs one change with retries for transient errors.
func (a *applier) run(c *engine.Change) {
	var err error
	for attempt := 0; ; attempt++ {
		var skip string
		skip, err = a.do(c)
		if skip == "" && errors.Is(err, vfs.ErrNotFollowed) {
			// A directory on the way was swapped for a link (or a file)
			// since the plan: nothing was read or written through it.
			skip, err = "changed since the plan was made: "+vfs.ErrNotFollowed.Error(), nil
		}
		if skip != "" {
			a.skip(c, skip)
			return
		}
		if err == nil || !transient(err) || attempt >= a.spec.Retries || a.ctx.Err() != nil {
			break
		}
		a.wait(a.spec.RetryWait)
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
	a.touched[parent(c.Path)] = true
	if c.Kind == engine.KindDir && c.Action != engine.Delete {
		a.touched[c.Path] = true
	}
	a.rep.Report(engine.Event{Change: c, Bytes: c.Size, Done: true})
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
		return "", a.dst.Mkdir(c.Path, fs.FileMode(c.Src.Mode)|0o700)
	}
	if c.Action == engine.Create && c.Kind == engine.KindFile && c.Dst == nil && a.lsrc != nil && a.ldst != nil {
		skip, err := a.createLocal(c)
		if !errors.Is(err, vfs.ErrNoFastCopy) {
			return skip, err
		}
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

// createLocal copies a new file between two local trees without a
// temporary name: the copy is written into an anonymous file and linked at
// its name when complete (vfs.CopyNewFile), and the link refuses a name
// that exists. That is the destination guard of a create made atomic, so
// the lstat before it is not needed. It returns vfs.ErrNoFastCopy, having
// changed nothing, where the file systems do not allow it.
func (a *applier) createLocal(c *engine.Change) (skip string, err error) {
	skip, err = a.ldst.CopyNewFile(a.lsrc, c.Path, fs.FileMode(c.Src.Mode)&fs.ModePerm|0o600, c.Src.Time(), a.localChecks(c))
	if errors.Is(err, fs.ErrExist) {
		now, cerr := current(a.dst, c.Path)
		if cerr != nil {
			return "", cerr
		}
		if why := guard("destination", nil, now); why != "" {
			return why, nil
		}
	}
	return skip, err
}

// create writes the source entry of c at its path through a temporary name.
func (a *applier) create(c *engine.Change) (skip string, err error) {
	if c.Kind == engine.KindFile && a.lsrc != nil && a.ldst != nil {
		// The source guard runs on the open descriptor.
		skip, err := a.copyLocal(c)
		if !errors.Is(err, vfs.ErrNoFastCopy) {
			return skip, err
		}
	}
	srcNow, err := current(a.src, c.Path)
	if err != nil {
		return "", err
	}
	if why := guard("source", c.Src, srcNow); why != "" {
		return why, nil
	}
	switch c.Kind {
	case engine.KindDir:
		return "", a.dst.Mkdir(c.Path, fs.FileMode(c.Src.Mode)|0o700)
	case engine.KindSymlink:
		tmp := a.tempName(c.Path)
		if err := a.dst.Symlink(srcNow.Target, tmp); err != nil {
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
	return a.copyFile(c)
}

func (a *applier) copyFile(c *engine.Change) (skip string, err error) {
	if ac, ok := a.dst.(vfs.AtomicCreator); ok {
		return a.copyFinal(c, ac)
	}
	r, err := a.src.Open(c.Path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	w, tmp, err := a.dst.CreateTemp(parent(c.Path), tempPrefix+tempStem(base(c.Path))+".", fs.FileMode(c.Src.Mode)&fs.ModePerm|0o600)
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
	n, err := copyChunks(a.ctx, w, r)
	if err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	// The source must not have changed while it was read.
	fi, err := r.Stat()
	if err != nil {
		return "", err
	}
	if n != c.Src.Size || fi.Size() != c.Src.Size || !engine.TimesEqual(fi.ModTime(), c.Src.Time(), 0) {
		a.dst.Remove(tmp)
		ok = true
		return "source file changed while it was copied", nil
	}
	if err := a.dst.Chtimes(tmp, c.Src.Time()); err != nil {
		return "", err
	}
	if skip, err := a.versionUpdate(c); skip != "" || err != nil {
		if skip != "" {
			a.dst.Remove(tmp)
			ok = true
		}
		return skip, err
	}
	if err := a.dst.Rename(tmp, c.Path); err != nil {
		return "", err
	}
	ok = true
	return "", nil
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
	n, err := copyChunks(a.ctx, w, r)
	if err != nil {
		return "", err
	}
	fi, err := r.Stat()
	if err != nil {
		return "", err
	}
	if n != c.Src.Size || fi.Size() != c.Src.Size || !engine.TimesEqual(fi.ModTime(), c.Src.Time(), 0) {
		return "source file changed while it was copied", nil
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
// before the rename. It returns vfs.ErrNoFastCopy, having changed nothing,
// when the source is no longer a regular file or cannot be opened: the
// portable path then reports it through its own guard.
func (a *applier) copyLocal(c *engine.Change) (skip string, err error) {
	checks := a.localChecks(c)
	perm := fs.FileMode(c.Src.Mode)&fs.ModePerm | 0o600
	var tmp string
	for try := 0; ; try++ {
		tmp = a.tempName(c.Path)
		skip, err = a.ldst.CopyFile(a.lsrc, c.Path, tmp, perm, c.Src.Time(), checks)
		if try < 3 && errors.Is(err, fs.ErrExist) {
			continue // a name collision with a file robo did not make
		}
		if skip != "" || err != nil {
			return skip, err
		}
		break
	}
	if skip, err := a.versionUpdate(c); skip != "" || err != nil {
		a.dst.Remove(tmp)
		return skip, err
	}
	if err := a.ldst.RenameFile(tmp, c.Path); err != nil {
		a.dst.Remove(tmp)
		return "", err
	}
	return "", nil
}

// localChecks are the source guards of a local copy, run on the open
// source descriptor, and the stop check between chunks.
func (a *applier) localChecks(c *engine.Change) vfs.CopyChecks {
	return vfs.CopyChecks{
		Before: func(en vfs.Entry) string { return guard("source", c.Src, metaOf(en)) },
		After: func(n int64, en vfs.Entry) string {
			if n != c.Src.Size || en.Size != c.Src.Size || !engine.TimesEqual(en.ModTime, c.Src.Time(), 0) {
				return "source file changed while it was copied"
			}
			return ""
		},
		Stop: func() error {
			if a.ctx.Err() != nil {
				return errInterrupted
			}
			return nil
		},
		Chunk: copyChunk,
	}
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

// restoreDirTimes gives every destination directory that was created or
// changed the modification time of its source directory, deepest first.
func (a *applier) restoreDirTimes() {
	dirs := make([]string, 0, len(a.touched))
	for d := range a.touched {
		dirs = append(dirs, d)
	}
	sort.Slice(dirs, func(i, j int) bool {
		return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") || (strings.Count(dirs[i], "/") == strings.Count(dirs[j], "/") && dirs[i] > dirs[j])
	})
	for _, d := range dirs {
		s, err := a.src.Stat(d)
		if err != nil || s.Kind != vfs.Dir {
			continue
		}
		if dd, err := a.dst.Stat(d); err != nil || dd.Kind != vfs.Dir {
			continue
		}
		if err := a.dst.Chtimes(d, s.ModTime); err != nil {
			a.res.Errors = append(a.res.Errors, engine.FileError{Path: d, Op: "set dir time", Err: errText(err)})
		}
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
