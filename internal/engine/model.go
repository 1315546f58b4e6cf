package engine

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"
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
	CopySymlinks bool `json:"copy_symlinks"`
	// Threads is how many files are copied at once; 0 is the machine's
	// default (AutoThreads), decided where the set is applied.
	Threads   int           `json:"threads"`
	Retries   int           `json:"retries"`
	RetryWait time.Duration `json:"retry_wait"`
	// RobocopyArgs are extra robocopy.exe arguments (the robocopy block's
	// extra_args); other engines ignore them.
	RobocopyArgs []string `json:"robocopy_args,omitempty"`
	// Versions, when set, keeps every destination file a change overwrites
	// or deletes under VersionsDir (see versions.go).
	Versions *Versions `json:"versions,omitempty"`
	// VerifyAfterApply asks the caller to verify the set after each apply:
	// "metadata" (size and time) or "checksum" (content too).
	VerifyAfterApply string `json:"verify_after_apply,omitempty"`
	// Copy is what the set copies of each file, in robocopy's /COPY:
	// letters, canonical order "DATSOU" plus robo's "E": D data, A
	// attributes (POSIX permission bits; Windows R/H/S/A attributes), T
	// timestamps, S security (POSIX ACLs; NTFS DACL), O owner (uid and gid;
	// owner SID), U auditing (NTFS SACL), E extended attributes (xattrs;
	// robocopy copies a file's EAs with its data and gets no E). Empty
	// means "DAT", robocopy's default (CopyLetters).
	Copy string `json:"copy,omitempty"`
	// DirCopy is the same for directories, robocopy's /DCOPY: letters
	// (D, A, T, E). Empty means "DAT" (DirCopyLetters).
	DirCopy string `json:"directory_copy,omitempty"`
	// HardLinks keeps files that are one inode in the source one inode in
	// the destination (rsync -H).
	HardLinks bool `json:"hard_links,omitempty"`
	// ChangingFiles is what a file that keeps changing while it is copied
	// does to the set's outcome: "fail" (the default: the set ends partial)
	// or "warn".
	ChangingFiles string `json:"changing_files,omitempty"`
}

// The changing_files choices (Spec.ChangingFiles). The default, "fail", is
// written as "" in a spec, so that it leaves every set's config digest as
// it was before the setting existed.
const (
	ChangingFail = "fail"
	ChangingWarn = "warn"
)

// WarnsChanging reports whether a file that keeps changing while it is
// copied is only a warning of the set (changing_files = "warn"), not a
// failure that blocks its deletions and makes it partial.
func (s *Spec) WarnsChanging() bool { return s.ChangingFiles == ChangingWarn }

// Default copy letters (robocopy's defaults, with directory times kept as
// robo always has).
const (
	DefaultCopy    = "DAT"
	DefaultDirCopy = "DAT"
)

// CopyLetters returns the set's /COPY: letters, the default when unset.
func (s *Spec) CopyLetters() string {
	if s.Copy == "" {
		return DefaultCopy
	}
	return s.Copy
}

// DirCopyLetters returns the set's /DCOPY: letters, the default when unset.
func (s *Spec) DirCopyLetters() string {
	if s.DirCopy == "" {
		return DefaultDirCopy
	}
	return s.DirCopy
}

// Copies reports whether the set copies metadata class letter (one of
// "DATSOUE") of files, or of directories when dir is set.
func (s *Spec) Copies(letter byte, dir bool) bool {
	if dir {
		return strings.IndexByte(s.DirCopyLetters(), letter) >= 0
	}
	return strings.IndexByte(s.CopyLetters(), letter) >= 0
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
	// Tweaked is robocopy's name for an entry whose data is the same
	// (size and time) but whose copied metadata (mode, owner, ACL,
	// attributes, xattrs) differs: only the metadata is applied.
	Tweaked
)

var classNames = [...]string{"Same", "New", "Newer", "Older", "Changed", "Extra", "Mismatch", "StaleTemp", "Tweaked"}

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

// Kind is the type of entry a Meta or Change describes. It is a byte
// (a plan holds two per change), written by name in JSON; the zero Kind
// is no kind at all.
type Kind uint8

// Entry kinds.
const (
	KindFile Kind = iota + 1
	KindDir
	KindSymlink
)

var kindNames = [...]string{"", "file", "dir", "symlink"}

// String returns the kind's name ("file"), "" for the zero Kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// MarshalText writes a kind by name; one that is not a kind is an error.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() && k != 0 {
		return nil, fmt.Errorf("unknown kind %d", k)
	}
	return []byte(kindNames[k]), nil
}

// UnmarshalText reads a kind by name ("" is the zero Kind, which
// Validate refuses).
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown kind %q", b)
}

// Meta is what was seen of one entry when a change was planned. It guards the
// change at apply time: an entry that no longer matches is left alone.
type Meta struct {
	Kind Kind `json:"kind"`
	// Mode sits beside Kind, and Phase beside Class in Change: a plan
	// holds a Change and a Meta per change, and this packing keeps them
	// 88 and 48 bytes (docs/performance.md).
	Mode   uint32 `json:"mode,omitempty"`
	Size   int64  `json:"size"`
	MTime  int64  `json:"mtime_ns"`         // Unix nanoseconds
	Target string `json:"target,omitempty"` // symlink target
	// X is the copied metadata beyond mode and times (docs/engine.md,
	// "Metadata classes"), nil when none was read: most entries of most
	// sets have none, and a plan of a million changes holds a million
	// Metas, so it is kept behind one pointer (Copied reads it).
	X *MetaX `json:"-"`
}

// MetaX is the copied metadata of an entry beyond its mode, set only for
// the classes the set copies and only where the scan compared them (an
// entry present on both sides); absent means "not read". In JSON its
// fields sit beside the Meta's own.
type MetaX struct {
	// UID and GID are the Unix owner and group (O).
	UID *uint32 `json:"uid,omitempty"`
	GID *uint32 `json:"gid,omitempty"`
	// Owner and Group are the Windows owner and primary group SIDs (O),
	// in their string form (S-1-5-32-544).
	Owner string `json:"owner,omitempty"`
	Group string `json:"group,omitempty"`
	// Attrs are the Windows file attributes robocopy's A copies
	// (AttrsCopied: read-only, hidden, system, archive, not indexed).
	Attrs *uint32 `json:"attrs,omitempty"`
	// ACL and Xattr are digests (MetaDigest) of the POSIX ACLs or the
	// NTFS DACL (S) and of the other extended attributes (E): a plan
	// never carries the values, which apply reads from the source.
	// "none" means there are none.
	ACL   string `json:"acl,omitempty"`
	Xattr string `json:"xattr,omitempty"`
	// SACL is the digest of the NTFS SACL (U), where it was read.
	SACL string `json:"sacl,omitempty"`
}

// Copied returns the copied metadata of m beyond its mode (the zero
// MetaX when none was read, or m is nil).
func (m *Meta) Copied() MetaX {
	if m == nil || m.X == nil {
		return MetaX{}
	}
	return *m.X
}

// SetCopied returns m's copied metadata to be filled in, made on first use.
func (m *Meta) SetCopied() *MetaX {
	if m.X == nil {
		m.X = new(MetaX)
	}
	return m.X
}

// Time returns the modification time.
func (m Meta) Time() time.Time { return time.Unix(0, m.MTime) }

// Matches reports whether an entry seen now is the one seen at plan time:
// same kind, same size, same time (to TimeUnit) and same link target.
func (m Meta) Matches(now Meta) bool {
	return m.Kind == now.Kind && m.Size == now.Size && TimesEqual(m.Time(), now.Time(), 0) && m.Target == now.Target
}

// Action is what a change does to the destination: a byte, written by
// name in JSON; the zero Action is none.
type Action uint8

// The actions. Replace deletes a destination entry of the wrong kind (a file
// where the source has a directory, or the reverse) and creates the source's.
const (
	Create Action = iota + 1
	Update
	Delete
	Replace
)

var actionNames = [...]string{"", "create", "update", "delete", "replace"}

// String returns the action's name ("create"), "" for the zero Action.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", a)
}

// MarshalText writes an action by name; one that is not an action is an
// error.
func (a Action) MarshalText() ([]byte, error) {
	if !a.Valid() && a != 0 {
		return nil, fmt.Errorf("unknown action %d", a)
	}
	return []byte(actionNames[a]), nil
}

// UnmarshalText reads an action by name ("" is the zero Action, which
// Validate refuses).
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown action %q", b)
}

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
	Phase  Phase  `json:"phase"`
	// Path is slash-separated and relative to the set's roots.
	Path string `json:"path"`
	// Size is the bytes to copy (create, update, replace) or to delete.
	Size int64 `json:"size"`
	// Src and Dst are the entries seen at plan time (nil: absent).
	Src *Meta `json:"src,omitempty"`
	Dst *Meta `json:"dst,omitempty"`
	// Differs lists the copied metadata classes (Diff*) in which the
	// source and destination entries of a Tweaked change differ, in
	// MetaDiff's order; Src and Dst hold the values that differ.
	Differs []string `json:"differs,omitempty"`
	// LinkTo, on the create, update or replace of a file in a set with
	// hard_links, is the path (relative to the roots, clean) of another
	// name of the same source inode: the destination entry is made a hard
	// link to the destination file at LinkTo instead of a copy, and the
	// change's Size is 0 (the bytes are counted once, at LinkTo). See
	// CheckLinkTo and docs/engine.md, "Hard links".
	LinkTo string `json:"link_to,omitempty"`
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

// ---- validation of plans read from files ----

// Valid reports whether k is one of the entry kinds.
func (k Kind) Valid() bool { return k == KindFile || k == KindDir || k == KindSymlink }

// Valid reports whether a is one of the actions.
func (a Action) Valid() bool { return a == Create || a == Update || a == Delete || a == Replace }

// Valid reports whether p is one of the phases.
func (p Phase) Valid() bool { return p >= PhaseCopy && p <= PhaseReplace }

// Valid reports whether c is one of the classes.
func (c Class) Valid() bool { return int(c) < len(classNames) }

// TempPrefix and TempSuffix frame the name of a temporary file a robo
// engine writes before renaming it into place; a StaleTemp deletion may
// remove only a file named so.
const (
	TempPrefix = ".robo-"
	TempSuffix = ".tmp"
)

// IsTempName reports whether a base name is one of robo's temporary names:
// TempPrefix, a stem (the file's name, maybe shortened), ".", a random tag
// of 12 lowercase hex digits, optionally "-" and a base-36 counter, and
// TempSuffix (".robo-q1.txt.5a6b7c8d9e0f.tmp", ".robo-q1.txt.5a6b7c8d9e0f-1z.tmp").
// The exact shape matters: robo deletes such files from a destination in
// every mode and never copies them from a source, so a user's own file
// that merely starts with ".robo-" and ends with ".tmp" must not match.
func IsTempName(name string) bool {
	rest, ok := strings.CutPrefix(name, TempPrefix)
	if !ok {
		return false
	}
	if rest, ok = strings.CutSuffix(rest, TempSuffix); !ok {
		return false
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot < 1 {
		return false // no stem
	}
	tag, counter, counted := strings.Cut(rest[dot+1:], "-")
	if len(tag) != 12 || !allIn(tag, "0123456789abcdef") {
		return false
	}
	return !counted || (len(counter) > 0 && len(counter) <= 13 && allIn(counter, "0123456789abcdefghijklmnopqrstuvwxyz"))
}

func allIn(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// Validate reports why m cannot be an entry seen at plan time: an unknown
// kind, a negative size, permission bits beyond 07777, or a link target on
// anything but a symbolic link (or a target holding a NUL).
func (m *Meta) Validate() error {
	x := m.Copied()
	switch {
	case !m.Kind.Valid():
		return fmt.Errorf("unknown kind %q", m.Kind)
	case m.Size < 0:
		return fmt.Errorf("negative size %d", m.Size)
	case m.Mode&^0o7777 != 0:
		return fmt.Errorf("mode %#o holds bits beyond the permission bits (07777)", m.Mode)
	case m.Target != "" && m.Kind != KindSymlink:
		return fmt.Errorf("a link target on a %s", m.Kind)
	case strings.ContainsRune(m.Target, 0):
		return fmt.Errorf("the link target holds a NUL character")
	case x.Owner != "" && !validSID(x.Owner):
		return fmt.Errorf("owner %q is not a SID (S-1-...)", x.Owner)
	case x.Group != "" && !validSID(x.Group):
		return fmt.Errorf("group %q is not a SID (S-1-...)", x.Group)
	case x.Attrs != nil && *x.Attrs&^AttrsCopied != 0:
		return fmt.Errorf("attrs %#x hold attributes robo never copies (only %#x)", *x.Attrs, AttrsCopied)
	case x.ACL != "" && !validDigest(x.ACL):
		return fmt.Errorf("acl %q is not a metadata digest (none, or sha256: and 16 hex digits)", x.ACL)
	case x.SACL != "" && !validDigest(x.SACL):
		return fmt.Errorf("sacl %q is not a metadata digest (none, or sha256: and 16 hex digits)", x.SACL)
	case x.Xattr != "" && !validDigest(x.Xattr):
		return fmt.Errorf("xattr %q is not a metadata digest (none, or sha256: and 16 hex digits)", x.Xattr)
	}
	return nil
}

// Validate reports why c cannot be a change of a plan: its path is not a
// clean relative path (CheckPath), its action, class, kind or phase is
// unknown or does not fit the others, or a guard it needs is missing or
// does not describe the entry. exact says the engine performs the change
// list itself (native), which needs both guards: create, update and
// replace copy from Src; update, delete and replace check Dst. An engine
// that converges the set its own way (robocopy.exe) plans changes without
// guards, which are then optional but still checked when present.
//
// The rules, per action (they are what the planners produce):
//
//	create   class New;                 phase copy or replace; no Dst
//	update   class Newer, Older, Changed; phase copy or replace; kind file or symlink
//	         or class Tweaked; size 0; differs lists known classes; any kind
//	delete   class Extra, Mismatch or StaleTemp; phase delete; no Src
//	replace  class Mismatch;            phase replace; Src and Dst of different kinds
//
// Src has the change's kind; so has Dst, except for a replace. A StaleTemp
// deletion removes a file with a temporary name (IsTempName) only. Without
// exact changes, the empty path (the root) is allowed for a create of a
// directory: a robocopy listing names the destination root so.
func (c *Change) Validate(exact bool) error {
	if c.Path == "" && !exact && c.Action == Create && c.Kind == KindDir {
		// A robocopy listing names the destination root itself as a New
		// Dir when it does not exist yet.
	} else if err := CheckPath(c.Path); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%q: %s", c.Path, fmt.Sprintf(format, args...))
	}
	switch {
	case !c.Action.Valid():
		return bad("unknown action %q", c.Action)
	case !c.Kind.Valid():
		return bad("unknown kind %q", c.Kind)
	case !c.Phase.Valid():
		return bad("unknown phase %d", c.Phase)
	case !c.Class.Valid():
		return bad("unknown class %d", c.Class)
	case c.Size < 0:
		return bad("negative size %d", c.Size)
	}
	for _, g := range []struct {
		name string
		m    *Meta
	}{{"src", c.Src}, {"dst", c.Dst}} {
		if g.m != nil {
			if err := g.m.Validate(); err != nil {
				return bad("%s: %v", g.name, err)
			}
		}
	}
	needSrc, needDst, noSrc, noDst := false, false, false, false
	switch c.Action {
	case Create:
		if c.Class != New {
			return bad("a create must be of class New, not %s", c.Class)
		}
		if c.Phase != PhaseCopy && c.Phase != PhaseReplace {
			return bad("a create runs in the copy or replace phase, not phase %d", c.Phase)
		}
		needSrc, noDst = true, true
	case Update:
		switch c.Class {
		case Newer, Older, Changed:
		case Tweaked:
			if err := checkDiffers(c.Differs); err != nil {
				return bad("%v", err)
			}
			if c.Size != 0 {
				return bad("a Tweaked update copies no data: its size must be 0, not %d", c.Size)
			}
		default:
			return bad("an update must be of class Newer, Older, Changed or Tweaked, not %s", c.Class)
		}
		if c.Phase != PhaseCopy && c.Phase != PhaseReplace {
			return bad("an update runs in the copy or replace phase, not phase %d", c.Phase)
		}
		if c.Kind == KindDir && c.Class != Tweaked {
			return bad("a directory is never updated, only its metadata (class Tweaked)")
		}
		needSrc, needDst = true, true
	case Delete:
		switch c.Class {
		case Extra, Mismatch, StaleTemp:
		default:
			return bad("a delete must be of class Extra, Mismatch or StaleTemp, not %s", c.Class)
		}
		if c.Phase != PhaseDelete {
			return bad("a delete runs in the delete phase, not phase %d", c.Phase)
		}
		if c.Class == StaleTemp && (c.Kind != KindFile || !IsTempName(path.Base(c.Path))) {
			return bad("a StaleTemp deletion removes only a file named as robo's temporary files are (%sNAME.<12 hex digits>%s)", TempPrefix, TempSuffix)
		}
		needDst, noSrc = true, true
	case Replace:
		if c.Class != Mismatch {
			return bad("a replace must be of class Mismatch, not %s", c.Class)
		}
		if c.Phase != PhaseReplace {
			return bad("a replace runs in the replace phase, not phase %d", c.Phase)
		}
		needSrc, needDst = true, true
	}
	if c.Class != Tweaked && len(c.Differs) > 0 {
		return bad("only a Tweaked update lists the metadata that differs (differs)")
	}
	switch {
	case noSrc && c.Src != nil:
		return bad("a %s has no source entry (src)", c.Action)
	case noDst && c.Dst != nil:
		return bad("a %s has no destination entry (dst)", c.Action)
	case exact && needSrc && c.Src == nil:
		return bad("a %s needs the source entry it copies (src)", c.Action)
	case exact && needDst && c.Dst == nil:
		return bad("a %s needs the destination entry it guards (dst)", c.Action)
	}
	if c.Src != nil && c.Src.Kind != c.Kind {
		return bad("kind is %s but src is a %s", c.Kind, c.Src.Kind)
	}
	if c.Dst != nil {
		if c.Action == Replace && c.Dst.Kind == c.Kind {
			return bad("a replace changes the entry's kind, but src and dst are both %s", c.Kind)
		}
		if c.Action != Replace && c.Dst.Kind != c.Kind {
			return bad("kind is %s but dst is a %s", c.Kind, c.Dst.Kind)
		}
	}
	if c.LinkTo != "" {
		if err := c.CheckLinkTo(); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

// CheckLinkTo reports why c.LinkTo cannot be the hard-link target of c:
// only a file's create, update or replace links, and the target is a
// clean relative path (CheckPath: never absolute, never "..", so never
// outside the destination root) other than c's own, outside VersionsDir.
// ValidateChanges checks the target against the rest of the plan.
func (c *Change) CheckLinkTo() error {
	switch {
	case c.Kind != KindFile:
		return fmt.Errorf("link_to on a %s: only files are hard-linked", c.Kind)
	case c.Action != Create && c.Action != Update && c.Action != Replace:
		return fmt.Errorf("link_to on a %s: only a create, update or replace makes a hard link", c.Action)
	case c.LinkTo == c.Path:
		return fmt.Errorf("link_to names the change's own path")
	case c.Size != 0:
		return fmt.Errorf("a hard link copies no bytes, but its size is %d", c.Size)
	}
	if err := CheckPath(c.LinkTo); err != nil {
		return fmt.Errorf("link_to: %v", err)
	}
	if c.LinkTo == VersionsDir || strings.HasPrefix(c.LinkTo, VersionsDir+"/") {
		return fmt.Errorf("link_to %q is inside %s, which no plan touches", c.LinkTo, VersionsDir)
	}
	return nil
}

// ValidateChanges checks a set's change list as a whole: each change
// (Change.Validate), no path twice, no deletion or replacement in a set
// that does not mirror (robo's own stale temporary files excepted), and
// nothing inside the versions folder, which scans never see. Without exact
// changes a path may appear twice: a robocopy log lists a file again for
// each retry, and robocopy, not the list, decides what is copied.
func ValidateChanges(spec *Spec, changes []Change, exact bool) error {
	l := ChangeListOf(changes)
	defer l.Close()
	return ValidateChangeList(spec, l, exact)
}

// ValidateChangeList is ValidateChanges of a list, read a few times over
// in bounded memory: the duplicate check sorts hashes of the paths in runs
// spilled to disk (dupHashes), and only when two hashes are equal (a
// duplicate, or a collision of 64-bit hashes) does it look for the first
// duplicate with every path in memory. The hard links' targets are held
// too.
func ValidateChangeList(spec *Spec, l *ChangeList, exact bool) error {
	// The first error in list order wins, as one loop over the changes
	// checking each in turn would report it.
	first, firstErr := -1, error(nil)
	var dups *dupHashes
	if exact {
		dups = newDupHashes()
	}
	err := l.Range(func(i int, c *Change) error {
		if dups != nil {
			dups.add(c.Path)
		}
		if first >= 0 {
			return nil
		}
		switch err := c.Validate(exact); {
		case err != nil:
			first, firstErr = i, fmt.Errorf("change %d: %w", i+1, err)
		case c.Path == VersionsDir || strings.HasPrefix(c.Path, VersionsDir+"/"):
			first, firstErr = i, fmt.Errorf("change %d: %q is inside %s, which no plan touches", i+1, c.Path, VersionsDir)
		case !spec.Mirror && (c.Action == Replace || (c.Action == Delete && c.Class != StaleTemp)):
			first, firstErr = i, fmt.Errorf("change %d: %q: a %s in a set that copies only (mode = \"copy\" never deletes)", i+1, c.Path, c.Action)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if dups != nil {
		maybe, err := dups.any()
		if err != nil {
			return fmt.Errorf("change list: %w", err)
		}
		if maybe {
			if dup, dupErr := duplicatePath(l); dup >= 0 && (first < 0 || dup < first || (dup == first && !isValidateErr(l, first, exact))) {
				// At the same change, Validate's error comes first.
				return dupErr
			}
		}
	}
	if firstErr != nil {
		return firstErr
	}
	return checkLinkTargets(spec, l, exact)
}

// isValidateErr reports whether change i fails Validate itself.
func isValidateErr(l *ChangeList, i int, exact bool) bool {
	bad := false
	_ = l.Range(func(j int, c *Change) error {
		if j == i {
			bad = c.Validate(exact) != nil
			return errDone
		}
		return nil
	})
	return bad
}

var errDone = errors.New("done")

// duplicatePath finds the first change whose path an earlier change has.
func duplicatePath(l *ChangeList) (int, error) {
	seen := map[string]bool{}
	at, dupErr := -1, error(nil)
	_ = l.Range(func(i int, c *Change) error {
		if seen[c.Path] {
			at, dupErr = i, fmt.Errorf("change %d: %q appears twice", i+1, c.Path)
			return errDone
		}
		seen[c.Path] = true
		return nil
	})
	return at, dupErr
}

// checkLinkTargets checks the hard links of a change list as a whole: only
// a set with hard_links has them; a link's target is not itself a link
// (every link of a group names the group's first file), is not deleted by
// the plan, and when the plan writes it, it is a file written in the same
// phase as the link or an earlier one (links run after the copies of
// their phase). A target the plan does not touch must be a file already
// at the destination: Apply checks that, and that the two names are one
// inode in the source, before it links.
func checkLinkTargets(spec *Spec, l *ChangeList, exact bool) error {
	var targets map[string]*Change
	err := l.Range(func(i int, c *Change) error {
		if c.LinkTo == "" {
			return nil
		}
		if !spec.HardLinks {
			return fmt.Errorf("change %d: %q: link_to in a set without hard_links = true", i+1, c.Path)
		}
		if !exact {
			return fmt.Errorf("change %d: %q: link_to in a plan of an engine that does not perform the change list", i+1, c.Path)
		}
		if targets == nil {
			targets = map[string]*Change{}
		}
		targets[c.LinkTo] = nil
		return nil
	})
	if err != nil || targets == nil {
		return err
	}
	if err := l.Range(func(_ int, c *Change) error {
		if _, ok := targets[c.Path]; ok {
			targets[c.Path] = c
		}
		return nil
	}); err != nil {
		return err
	}
	return l.Range(func(i int, c *Change) error {
		if c.LinkTo == "" {
			return nil
		}
		t := targets[c.LinkTo]
		switch {
		case t == nil:
			return nil
		case t.LinkTo != "":
			return fmt.Errorf("change %d: %q: link_to %q is itself a hard link (a link names its group's first file)", i+1, c.Path, c.LinkTo)
		case t.Action == Delete:
			return fmt.Errorf("change %d: %q: link_to %q is deleted by the plan", i+1, c.Path, c.LinkTo)
		case t.Kind != KindFile:
			return fmt.Errorf("change %d: %q: link_to %q is a %s, not a file", i+1, c.Path, c.LinkTo, t.Kind)
		case t.Phase > c.Phase:
			return fmt.Errorf("change %d: %q: link_to %q is written in a later phase (%d) than the link (%d)", i+1, c.Path, c.LinkTo, t.Phase, c.Phase)
		}
		return nil
	})
}

// ---- names in JSON ----
//
// A name is bytes. JSON strings are Unicode, and encoding/json replaces
// every byte that is not UTF-8 with U+FFFD, so "b\xff" and "b\ufffd" would
// both be written as "b\ufffd" and read back as the second. robo therefore
// writes a name that is not valid UTF-8 twice: the usual field, as
// encoding/json renders it (each invalid byte as U+FFFD, for people and for
// tools that only display it), and the same field with a "_b64" suffix
// holding the exact bytes in standard base64 (RFC 4648, with padding). A
// name that is valid UTF-8 has no "_b64" field. Reading restores the bytes
// from the "_b64" field and refuses a document in which the two disagree,
// or whose "_b64" field holds valid UTF-8 (docs/plan-json.md, "Names").

// NameB64 returns the "_b64" form of a name: "" for valid UTF-8, else the
// bytes in standard base64.
func NameB64(name string) string {
	if utf8.ValidString(name) {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(name))
}

// DisplayUTF8 is a name as encoding/json writes it: each byte that is not
// part of valid UTF-8 replaced by U+FFFD.
func DisplayUTF8(name string) string {
	if utf8.ValidString(name) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); {
		r, n := utf8.DecodeRuneInString(name[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(name[i : i+n])
		}
		i += n
	}
	return b.String()
}

// DecodeName restores a name from its field (plain) and its "_b64" field
// (b64, "" when absent); field names the field in errors.
func DecodeName(field, plain, b64 string) (string, error) {
	if b64 == "" {
		return plain, nil
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("%s_b64 is not standard base64: %v", field, err)
	}
	name := string(raw)
	if utf8.ValidString(name) {
		return "", fmt.Errorf("%s_b64 holds a valid UTF-8 name (%q), which is written only as %s", field, name, field)
	}
	if plain != DisplayUTF8(name) {
		return "", fmt.Errorf("%s %q does not match %s_b64 (which reads %q)", field, plain, field, DisplayUTF8(name))
	}
	return name, nil
}

type (
	changeFields    Change
	metaFields      Meta
	fileErrorFields FileError
	skipFields      Skip
)

// MetaJSON is a Meta as JSON holds it. Meta has no JSON methods of its
// own (it is only ever written inside a Change).
type MetaJSON struct {
	metaFields
	*MetaX
	TargetB64 string `json:"target_b64,omitempty"`
}

func (m *Meta) wire() *MetaJSON {
	if m == nil {
		return nil
	}
	return &MetaJSON{metaFields(*m), m.X, NameB64(m.Target)}
}

func (w *MetaJSON) meta() (*Meta, error) {
	if w == nil {
		return nil, nil
	}
	t, err := DecodeName("target", w.Target, w.TargetB64)
	if err != nil {
		return nil, err
	}
	m := Meta(w.metaFields)
	m.Target, m.X = t, w.MetaX
	return &m, nil
}

// ChangeJSON is a Change as JSON holds it, with the "_b64" twins of its
// names. It has no JSON methods, so a list of them encodes and decodes at
// encoding/json's plain struct speed: a plan of a million changes uses it
// (plan.Set) rather than a million calls of Change's methods.
type ChangeJSON struct {
	changeFields
	PathB64   string `json:"path_b64,omitempty"`
	LinkToB64 string `json:"link_to_b64,omitempty"`
	// Src and Dst shadow the embedded ones (encoding/json prefers the
	// shallower field).
	Src *MetaJSON `json:"src,omitempty"`
	Dst *MetaJSON `json:"dst,omitempty"`
}

// JSON returns c as JSON holds it.
func (c *Change) JSON() ChangeJSON {
	return ChangeJSON{changeFields: changeFields(*c), PathB64: NameB64(c.Path), LinkToB64: NameB64(c.LinkTo), Src: c.Src.wire(), Dst: c.Dst.wire()}
}

// Change restores the change, its names byte for byte (DecodeName).
func (w *ChangeJSON) Change() (Change, error) {
	p, err := DecodeName("path", w.Path, w.PathB64)
	if err != nil {
		return Change{}, err
	}
	src, err := w.Src.meta()
	if err != nil {
		return Change{}, fmt.Errorf("src: %w", err)
	}
	dst, err := w.Dst.meta()
	if err != nil {
		return Change{}, fmt.Errorf("dst: %w", err)
	}
	lt, err := DecodeName("link_to", w.LinkTo, w.LinkToB64)
	if err != nil {
		return Change{}, err
	}
	c := Change(w.changeFields)
	c.Path, c.Src, c.Dst, c.LinkTo = p, src, dst, lt
	return c, nil
}

// MarshalJSON writes the change with path_b64 (and target_b64 in src and
// dst) when a name is not UTF-8.
func (c Change) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.JSON())
}

// UnmarshalJSON reads a change written by MarshalJSON.
func (c *Change) UnmarshalJSON(b []byte) error {
	var w ChangeJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	v, err := w.Change()
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// MarshalJSON writes the error with path_b64 when the path is not UTF-8.
func (e FileError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		fileErrorFields
		PathB64 string `json:"path_b64,omitempty"`
	}{fileErrorFields(e), NameB64(e.Path)})
}

// UnmarshalJSON reads an error written by MarshalJSON.
func (e *FileError) UnmarshalJSON(b []byte) error {
	var w struct {
		fileErrorFields
		PathB64 string `json:"path_b64"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	p, err := DecodeName("path", w.Path, w.PathB64)
	if err != nil {
		return err
	}
	*e = FileError(w.fileErrorFields)
	e.Path = p
	return nil
}

// MarshalJSON writes the skip with path_b64 when the path is not UTF-8.
func (s Skip) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		skipFields
		PathB64 string `json:"path_b64,omitempty"`
	}{skipFields(s), NameB64(s.Path)})
}

// UnmarshalJSON reads a skip written by MarshalJSON.
func (s *Skip) UnmarshalJSON(b []byte) error {
	var w struct {
		skipFields
		PathB64 string `json:"path_b64"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	p, err := DecodeName("path", w.Path, w.PathB64)
	if err != nil {
		return err
	}
	*s = Skip(w.skipFields)
	s.Path = p
	return nil
}

// AutoThreads is the threads default (a set without threads): 4 per CPU,
// from 4 to 16, and at least 8 when either side is reached over a network
// (a round trip per file to wait on, whatever the CPUs). Measured on 2
// CPUs (docs/performance.md, "Threads"): 1 thread is 1.3× slower on disk
// and over SMB, 2 to 32 are within a few percent, 8 the fastest on disk
// and over SMB; a tmpfs is flat (CPU-bound). More than 16 gained nothing
// and makes the workers wait on each other's directory locks.
func AutoThreads(cpus int, networked bool) int {
	n := min(max(4*cpus, 4), 16)
	if networked {
		n = max(n, 8)
	}
	return n
}

// ThreadsFor is the set's thread count: Threads, or AutoThreads.
func (s *Spec) ThreadsFor(cpus int, networked bool) int {
	if s.Threads > 0 {
		return s.Threads
	}
	return AutoThreads(cpus, networked)
}
