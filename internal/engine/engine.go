package engine

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Engine converges one backup set. Implementations: native (robo's own
// copier) and robocopy (robocopy.exe on Windows).
type Engine interface {
	// Name is the engine's name as used in config ("native", "robocopy").
	Name() string
	// Properties declares what the engine honours.
	Properties() Properties
	// Scan compares the source and destination trees of spec and returns the
	// changes that would converge the destination. It MUST NOT modify either
	// tree. A source root that is missing or unreadable MUST be reported as a
	// *SourceError, never as an empty source.
	Scan(ctx context.Context, spec Spec) (*ScanResult, error)
	// Apply performs job.Changes. Each change MUST be guarded: an entry whose
	// current metadata differs from the change's Src or Dst is left alone and
	// reported as skipped, never deleted or overwritten. Files MUST be written
	// under a temporary name and renamed into place. After any failed copy in
	// PhaseCopy, deletions (PhaseDelete and PhaseReplace) MUST be skipped and
	// reported. Apply returns an error only when it could not run at all; per
	// file failures go into the Result.
	Apply(ctx context.Context, job Job, r Reporter) (*Result, error)
}

// Properties declares an engine's abilities.
type Properties struct {
	// ExactChanges: Apply performs exactly the planned change list (native).
	// An engine without it converges the whole set in its own way
	// (robocopy.exe) and reports deviations from the plan.
	ExactChanges bool
	// TimeResolution is the finest modification-time step it preserves.
	TimeResolution time.Duration
	// HardLinks: the engine keeps a set's hard links (Spec.HardLinks);
	// the plan warns of a set that asks an engine without it.
	HardLinks bool
}

// Job is what Apply works on: a set and its planned changes, in order.
type Job struct {
	Spec Spec
	// Changes are read back phase by phase (ChangeList): Apply never
	// needs them all in memory.
	Changes *ChangeList
	// Source is what the plan counted in the source (for the Total and
	// Skipped columns of the counters).
	Source TreeStats
	// PruneVersions are the run folders under VersionsDir that the plan
	// found past the set's keep rule. Apply removes them only when every
	// change succeeded.
	PruneVersions []string
	// Roots are the roots' identities that the plan's scan saw (nil: not
	// recorded). Apply refuses the set with a *RootChangedError when a
	// recorded root is another directory now.
	Roots *Roots
}

// ScanResult is what Scan found.
type ScanResult struct {
	// Changes are in walk order, in bounded memory (ChangeList); never
	// nil from a Scan.
	Changes *ChangeList `json:"-"`
	// Source and Dest count the entries walked (after filters).
	Source TreeStats `json:"source"`
	Dest   TreeStats `json:"destination"`
	// Extras counts destination-only entries; a copy-mode set reports but
	// never deletes them.
	ExtraFiles int64 `json:"extra_files"`
	ExtraDirs  int64 `json:"extra_dirs"`
	// Mismatches counts entries whose kind differs between the sides.
	Mismatches int64 `json:"mismatches"`
	// Errors are entries that could not be read. Any error makes the set's
	// deletions unsafe; the planner drops them.
	Errors []FileError `json:"errors,omitempty"`
	// Warnings are things the plan should say that do not make the set
	// unsafe, e.g. settings the engine's tool cannot honour on this host.
	Warnings []string `json:"warnings,omitempty"`
	// Versions are the run folders found under VersionsDir at the
	// destination root (only when the spec has versions).
	Versions []string `json:"versions,omitempty"`
	// Roots are the identities of the two roots as scanned (nil where the
	// file system cannot tell).
	Roots *Roots `json:"roots,omitempty"`
	// Special counts source entries that are neither files, directories
	// nor links (FIFOs, sockets, devices): never copied. SpecialExample
	// is the relative path of one of them.
	Special        int64  `json:"special,omitempty"`
	SpecialExample string `json:"special_example,omitempty"`
}

// TreeStats counts one side of a scan.
type TreeStats struct {
	Exists bool  `json:"exists"`
	Files  int64 `json:"files"`
	Dirs   int64 `json:"dirs"`
	Bytes  int64 `json:"bytes"`
}

// FileError is an operation that failed on one path.
type FileError struct {
	Path string `json:"path"`
	Op   string `json:"op"`
	Err  string `json:"error"`
}

func (e FileError) String() string { return fmt.Sprintf("%s %s: %s", e.Op, e.Path, e.Err) }

// Skip is a planned change that Apply left alone, and why.
type Skip struct {
	Path   string `json:"path"`
	Action Action `json:"action"`
	Reason string `json:"reason"`
}

// Result is what Apply did.
type Result struct {
	Counters Counters `json:"counters"`
	// Done counts the changes performed.
	Done int64 `json:"done"`
	// Deleted counts destination entries removed.
	DeletedFiles int64 `json:"deleted_files"`
	DeletedDirs  int64 `json:"deleted_dirs"`
	// BytesCopied is the sum of the sizes of files written.
	BytesCopied int64       `json:"bytes_copied"`
	Errors      []FileError `json:"errors,omitempty"`
	Skipped     []Skip      `json:"skipped,omitempty"`
	// Changing are the files whose source kept changing while they were
	// copied, after the retries at the end of their phase (the native
	// engine), or that robocopy could not copy because another process
	// held them open (ERROR 32, 33): not copied, the destination keeps
	// what it had. A failure class of its own (docs/state.md, "Files that
	// change during the copy"): with the set's changing_files = "fail"
	// (the default) it blocks the set's deletions and makes the set
	// partial; with "warn" it is a warning of a successful set.
	Changing []FileError `json:"changing,omitempty"`
	// DeletesSkipped counts deletions not attempted because of earlier errors.
	DeletesSkipped int64         `json:"deletes_skipped"`
	Duration       time.Duration `json:"duration_ns"`
	// Interrupted is set when the context ended before every change ran.
	Interrupted bool `json:"interrupted,omitempty"`
	// Warnings say where an engine without exact changes deviated from the
	// plan, or what it could not tell.
	Warnings []string `json:"warnings,omitempty"`
	// ExitCodeRaw is the exit code of an external tool (robocopy.exe), when
	// the engine ran one; -1 when it did not.
	ExitCodeRaw *int `json:"tool_exit_code,omitempty"`
	// VersionsFolder is the run's folder under VersionsDir when it kept any
	// file; FilesVersioned and BytesVersioned count what it kept.
	VersionsFolder string `json:"versions_folder,omitempty"`
	FilesVersioned int64  `json:"files_versioned,omitempty"`
	BytesVersioned int64  `json:"bytes_versioned,omitempty"`
	// VersionsPruned are the old run folders removed after the run.
	VersionsPruned []string `json:"versions_pruned,omitempty"`
	// Snapshot is the snapshot the source was read from (nil: live).
	Snapshot *SnapshotRef `json:"snapshot,omitempty"`
}

// ExitCode returns robocopy's exit-code bits for the result.
func (r *Result) ExitCode() int {
	if r.ExitCodeRaw != nil {
		return *r.ExitCodeRaw
	}
	code := 0
	if r.Counters.Files.Copied > 0 || r.Counters.Dirs.Copied > 0 {
		code |= ExitCopied
	}
	if r.Counters.Files.Extras > 0 || r.Counters.Dirs.Extras > 0 {
		code |= ExitExtras
	}
	if r.Counters.Files.Mismatch > 0 || r.Counters.Dirs.Mismatch > 0 {
		code |= ExitMismatch
	}
	if len(r.Errors) > 0 || len(r.Changing) > 0 || r.Interrupted {
		code |= ExitFailed
	}
	return code
}

// OK reports whether every planned change was performed or deliberately
// skipped by a guard, with no errors and no file that kept changing.
func (r *Result) OK() bool {
	return len(r.Errors) == 0 && len(r.Changing) == 0 && !r.Interrupted && r.DeletesSkipped == 0
}

// Event is one progress report from Apply.
type Event struct {
	Change *Change
	// Bytes is the number of bytes written for this change so far.
	Bytes int64
	Done  bool
	Err   error
	Skip  string
}

// Reporter receives progress. Implementations MUST be safe for concurrent use.
type Reporter interface {
	Report(Event)
}

// Discard is a Reporter that ignores every event.
var Discard Reporter = discard{}

type discard struct{}

func (discard) Report(Event) {}

// SourceError says the source root could not be read at all. Planners MUST
// treat it as "unknown", never as "empty".
type SourceError struct {
	Path string
	Err  error
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("source %s cannot be read: %v", e.Path, e.Err)
}

func (e *SourceError) Unwrap() error { return e.Err }

// ErrChanging is the error of the final event of a file that kept changing
// while it was copied (Result.Changing).
var ErrChanging = errors.New("the source file kept changing while it was copied")

// ErrNotAvailable is returned when an engine cannot run on this host (for
// example robocopy.exe outside Windows).
var ErrNotAvailable = errors.New("engine not available on this host")
