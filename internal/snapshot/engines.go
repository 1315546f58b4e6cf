package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// Engines reads the sets of one run from snapshots: Wrap decorates each
// engine so that a set whose policy is Auto or Required is scanned and
// applied from its volume's snapshot (taken on first use, shared by the
// sets on the volume), Verify does the same for verify_after_apply, and
// Close removes what is left. A set with policy Never passes through
// untouched.
//
// Root identity (docs/snapshots.md): a plan records, and apply checks, the
// identity of the live source root, whether or not the plan was made from
// a snapshot; the engine is then given the snapshot root's own identity to
// pin while it reads. So a plan made from a snapshot, or made live and
// applied from one, keeps its guard against the source root being
// replaced by another directory.
type Engines struct {
	M *Manager
	// Policy returns a set's policy (Never, Auto or Required).
	Policy func(set string) string
}

// Wrap returns eng reading through the run's snapshots.
func (e *Engines) Wrap(eng engine.Engine) engine.Engine {
	if e == nil {
		return eng
	}
	return &snapEngine{Engine: eng, e: e}
}

// Close removes every snapshot the run still holds.
func (e *Engines) Close() error {
	if e == nil {
		return nil
	}
	return e.M.Close()
}

func (e *Engines) policy(set string) string {
	if e.Policy == nil {
		return Never
	}
	return e.Policy(set)
}

type snapEngine struct {
	engine.Engine
	e *Engines
}

// mapped is spec reading from l.
func mapped(spec engine.Spec, l *Lease, engineName string) engine.Spec {
	spec.Source = l.Path
	if engineName == "robocopy" && l.LinkPath != "" {
		// robocopy.exe does not take \\?\GLOBALROOT\Device\... sources:
		// it reads through a directory link to the snapshot.
		spec.Source = l.LinkPath
	}
	if len(l.ExcludeDirs) > 0 {
		spec.ExcludeDirs = append(slices.Clip(spec.ExcludeDirs), l.ExcludeDirs...)
	}
	return spec
}

// liveWarning is the plan's and the run's note for a set copied live.
func liveWarning(l *Lease) string {
	return "snapshot = \"auto\": the source is copied live, not from a snapshot (" + l.Live + ")"
}

func (s *snapEngine) Scan(ctx context.Context, spec engine.Spec) (*engine.ScanResult, error) {
	pol := s.e.policy(spec.Name)
	if pol == Never {
		return s.Engine.Scan(ctx, spec)
	}
	l, err := s.e.M.Acquire(ctx, spec.Name, spec.Source, pol)
	if err != nil {
		return nil, err
	}
	if l.Snapshot == nil {
		res, err := s.Engine.Scan(ctx, spec)
		if res != nil {
			res.Warnings = append(res.Warnings, liveWarning(l))
		}
		return res, err
	}
	live := RootID(spec.Source)
	res, err := s.Engine.Scan(ctx, mapped(spec, l, s.Name()))
	if res != nil && res.Roots != nil && res.Roots.Source != nil {
		// The plan records the live root, which apply checks.
		res.Roots.Source = live
	}
	return res, err
}

func (s *snapEngine) Apply(ctx context.Context, job engine.Job, r engine.Reporter) (*engine.Result, error) {
	spec := job.Spec
	pol := s.e.policy(spec.Name)
	if pol == Never {
		return s.Engine.Apply(ctx, job, r)
	}
	l, err := s.e.M.Acquire(ctx, spec.Name, spec.Source, pol)
	if err != nil {
		return nil, err
	}
	keep := false // held on for verify_after_apply
	defer func() {
		if !keep {
			s.e.M.Release(spec.Name)
		}
	}()
	if l.Snapshot == nil {
		res, err := s.Engine.Apply(ctx, job, r)
		if res != nil {
			res.Warnings = append(res.Warnings, liveWarning(l))
		}
		return res, err
	}
	if job.Roots != nil && job.Roots.Source != nil {
		if err := checkLive(spec.Source, *job.Roots.Source); err != nil {
			return nil, err
		}
		roots := *job.Roots
		// The engine pins the snapshot's root; robocopy reads through a
		// link robo made in its own directory, which is not pinned.
		roots.Source = nil
		if mapped(spec, l, s.Name()).Source == l.Path {
			roots.Source = RootID(l.Path)
		}
		job.Roots = &roots
	}
	job.Spec = mapped(spec, l, s.Name())
	res, err := s.Engine.Apply(ctx, job, r)
	if res != nil {
		sn := l.Snapshot
		res.Snapshot = &engine.SnapshotRef{Kind: sn.Kind, ID: sn.ID, Created: sn.Created, Volume: sn.Volume, Source: job.Spec.Source}
		keep = err == nil && spec.VerifyAfterApply != "" && res.OK()
	}
	return res, err
}

// Verify wraps a verify_after_apply function so that it compares the
// destination with the snapshot the set was applied from, then releases
// the set's hold.
func (e *Engines) Verify(verify func(context.Context, engine.Spec) (bool, string)) func(context.Context, engine.Spec) (bool, string) {
	if e == nil || verify == nil {
		return verify
	}
	return func(ctx context.Context, spec engine.Spec) (bool, string) {
		pol := e.policy(spec.Name)
		if pol == Never {
			return verify(ctx, spec)
		}
		defer e.M.Release(spec.Name)
		l, err := e.M.Acquire(ctx, spec.Name, spec.Source, pol)
		if err != nil {
			return false, err.Error()
		}
		if l.Snapshot == nil {
			return verify(ctx, spec)
		}
		return verify(ctx, mapped(spec, l, "native"))
	}
}

// RootID is the identity of the directory at path as the engines record
// it (vfs.Local): absent, a directory, or nil when it cannot tell.
func RootID(path string) *engine.RootID {
	l := vfs.NewLocal(path)
	defer l.Close()
	id, err := l.RootID()
	switch {
	case err == nil:
		return &engine.RootID{Exists: true, Dev: id.Dev, Ino: id.Ino}
	case errors.Is(err, fs.ErrNotExist):
		return &engine.RootID{}
	}
	return nil
}

// checkLive compares the live source root with what the plan recorded,
// with the engines' rule (native's checkRoot): a root absent at plan time
// may exist now; a root that existed must be the same directory.
func checkLive(path string, was engine.RootID) error {
	if !was.Exists {
		return nil
	}
	now := RootID(path)
	switch {
	case now == nil:
		return &engine.RootChangedError{Side: "source", Path: path, Was: was, Now: "unreadable or a link"}
	case !now.Exists:
		return &engine.RootChangedError{Side: "source", Path: path, Was: was, Now: "absent"}
	case now.Dev != was.Dev || now.Ino != was.Ino:
		return &engine.RootChangedError{Side: "source", Path: path, Was: was, Now: fmt.Sprintf("another directory (%d:%d)", now.Dev, now.Ino)}
	}
	return nil
}
