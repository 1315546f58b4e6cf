package engine

import (
	"fmt"
	"time"
)

// Spec is one backup set as an engine sees it: fully resolved, with no
// expressions and no secrets.
type Spec struct {
	Name        string `json:"name"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// Mirror deletes destination entries that the source lacks (robocopy /MIR);
	// otherwise the set copies only (robocopy /E), never deleting.
	Mirror        bool     `json:"mirror"`
	Include       []string `json:"include,omitempty"`
	ExcludeFiles  []string `json:"exclude_files,omitempty"`
	ExcludeDirs   []string `json:"exclude_dirs,omitempty"`
	CopyEmptyDirs bool     `json:"copy_empty_dirs"`
	// ExcludeOlder skips files whose destination copy is newer (/XO).
	ExcludeOlder bool `json:"exclude_older"`
	// TimeTolerance is the modification-time window within which two times
	// are equal (/FFT is 2s).
	TimeTolerance time.Duration `json:"time_tolerance"`
	// CopySymlinks copies symbolic links as links (/SL); otherwise links on
	// either side are skipped (/XJ). Links are never followed.
	CopySymlinks bool          `json:"copy_symlinks"`
	Threads      int           `json:"threads"`
	Retries      int           `json:"retries"`
	RetryWait    time.Duration `json:"retry_wait"`
	// RobocopyArgs are extra robocopy.exe arguments (the robocopy block's
	// extra_args); other engines ignore them.
	RobocopyArgs []string `json:"robocopy_args,omitempty"`
	// Versions, when set, keeps every destination file a change overwrites
	// or deletes under VersionsDir (see versions.go).
	Versions *Versions `json:"versions,omitempty"`
	// VerifyAfterApply asks the caller to verify the set after each apply:
	// "metadata" (size and time) or "checksum" (content too).
	VerifyAfterApply string `json:"verify_after_apply,omitempty"`
}

// Class is robocopy's classification of an entry (SEMANTICS.md §3).
type Class uint8

// The classes. Lonely is robocopy's name for New.
const (
	Same Class = iota
	New
	Newer
	Older
	Changed
	Extra
	Mismatch
	StaleTemp // a temporary file left by an interrupted robo run
)

var classNames = [...]string{"Same", "New", "Newer", "Older", "Changed", "Extra", "Mismatch", "StaleTemp"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", c)
}

// MarshalText renders a class by name in JSON.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a class name.
func (c *Class) UnmarshalText(b []byte) error {
	for i, n := range classNames {
		if n == string(b) {
			*c = Class(i)
			return nil
		}
	}
	return fmt.Errorf("unknown file class %q", b)
}

// TimeUnit is the resolution at which modification times are compared:
// 100ns, the FILETIME resolution of NTFS and SMB. Finer differences (a Linux
// nanosecond timestamp copied to a share) never count as a change.
const TimeUnit = 100 * time.Nanosecond

// TimesEqual reports whether two modification times are the same within the
// tolerance, after truncating both to TimeUnit.
func TimesEqual(a, b time.Time, tolerance time.Duration) bool {
	d := a.Truncate(TimeUnit).Sub(b.Truncate(TimeUnit))
	if d < 0 {
		d = -d
	}
	return d <= tolerance
}

// Classify is robo's one equality rule for a file present on both sides,
// robocopy's: equal size and equal time (within tolerance) is Same; equal time
// but a different size is Changed; otherwise the source is Newer or Older.
// Attributes, permissions and content are not compared.
func Classify(src, dst Meta, tolerance time.Duration) Class {
	st, dt := src.Time(), dst.Time()
	if TimesEqual(st, dt, tolerance) {
		if src.Size == dst.Size {
			return Same
		}
		return Changed
	}
	if st.After(dt) {
		return Newer
	}
	return Older
}

// Kind is the type of entry a Meta or Change describes.
type Kind string

// Entry kinds.
const (
	KindFile    Kind = "file"
	KindDir     Kind = "dir"
	KindSymlink Kind = "symlink"
)

// Meta is what was seen of one entry when a change was planned. It guards the
// change at apply time: an entry that no longer matches is left alone.
type Meta struct {
	Kind   Kind   `json:"kind"`
	Size   int64  `json:"size"`
	MTime  int64  `json:"mtime_ns"` // Unix nanoseconds
	Mode   uint32 `json:"mode,omitempty"`
	Target string `json:"target,omitempty"` // symlink target
}

// Time returns the modification time.
func (m Meta) Time() time.Time { return time.Unix(0, m.MTime) }

// Matches reports whether an entry seen now is the one seen at plan time:
// same kind, same size, same time (to TimeUnit) and same link target.
func (m Meta) Matches(now Meta) bool {
	return m.Kind == now.Kind && m.Size == now.Size && TimesEqual(m.Time(), now.Time(), 0) && m.Target == now.Target
}

// Action is what a change does to the destination.
type Action string

// The actions. Replace deletes a destination entry of the wrong kind (a file
// where the source has a directory, or the reverse) and creates the source's.
const (
	Create  Action = "create"
	Update  Action = "update"
	Delete  Action = "delete"
	Replace Action = "replace"
)

// Symbol is the one-character (or -/+) marker used in human plan output.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Delete:
		return "-"
	case Replace:
		return "-/+"
	}
	return "?"
}

// Phase orders changes. Copies run first; deletions run only if every copy
// succeeded (rclone's rule); entries that replace a deleted one run last.
type Phase uint8

// The phases.
const (
	PhaseCopy Phase = iota + 1
	PhaseDelete
	PhaseReplace
)

// Change is one planned operation on one entry of the destination.
type Change struct {
	Action Action `json:"action"`
	Class  Class  `json:"class"`
	Kind   Kind   `json:"kind"`
	// Path is slash-separated and relative to the set's roots.
	Path  string `json:"path"`
	Phase Phase  `json:"phase"`
	// Size is the bytes to copy (create, update, replace) or to delete.
	Size int64 `json:"size"`
	// Src and Dst are the entries seen at plan time (nil: absent).
	Src *Meta `json:"src,omitempty"`
	Dst *Meta `json:"dst,omitempty"`
}

// Row is one row of robocopy's summary table.
type Row struct {
	Total    int64 `json:"total"`
	Copied   int64 `json:"copied"`
	Skipped  int64 `json:"skipped"`
	Mismatch int64 `json:"mismatch"`
	Failed   int64 `json:"failed"`
	Extras   int64 `json:"extras"`
}

// Counters is robocopy's summary table: Dirs, Files and Bytes rows.
type Counters struct {
	Dirs  Row `json:"dirs"`
	Files Row `json:"files"`
	Bytes Row `json:"bytes"`
}

// Exit-code bits, as robocopy's.
const (
	ExitCopied    = 1
	ExitExtras    = 2
	ExitMismatch  = 4
	ExitFailed    = 8
	ExitFatal     = 16
	ExitCodeLimit = 8 // codes below it are success
)
