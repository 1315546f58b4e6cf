package schema

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Config is one configuration directory, decoded.
type Config struct {
	// Dir is the absolute configuration directory.
	Dir string
	// Files are the parsed files by name, for rendering diagnostics.
	Files map[string]*hcl.File
	// Settings come from the robo block (or defaults).
	Settings  Settings
	Variables map[string]*Variable
	Backups   []*Backup
	Schedules map[string]*Schedule
	Shares    map[string]*Share
	// Remotes are the remote blocks by name (remote.go).
	Remotes map[string]*Remote
	// Notifiers are the notify blocks by name (see notify.go).
	Notifiers map[string]*Notifier
	// Moves are the moved blocks, in file order (moved.go).
	Moves []*Move
	// Fleet: the report, metrics and host_key blocks (report.go).
	Fleet Fleet

	// forEachBlocks are the labels of the backup blocks with for_each.
	forEachBlocks map[string]bool
}

// Backup returns the backup set with the given name, or nil.
func (c *Config) Backup(name string) *Backup {
	for _, b := range c.Backups {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// Settings is the robo block.
type Settings struct {
	// StateFile is the absolute path of the state file.
	StateFile string
	// Engine is the default engine: "auto", "native" or "robocopy".
	Engine string
	// SecretsFile is the absolute path of the secrets file
	// (robo.secrets.json in the configuration directory by default).
	SecretsFile string
	// SecretsFileRange is where secrets_file was set, or nil.
	SecretsFileRange *hcl.Range
	// Recipients are the age and SSH public keys new secret values are
	// encrypted to, as written.
	Recipients []string
	// Identity is the configured identity file (absolute), or "".
	Identity string
	// Copy and DirCopy are the robo block's copy and directory_copy: the
	// default of every set (canonical letters, ParseCopy; "" when unset).
	Copy, DirCopy string
	// MaxParallel is how many sets robo watch runs at once.
	MaxParallel int
	// LogRetention says which run logs (logs/ beside the state) to keep.
	LogRetention LogRetention
	DeclRange    hcl.Range
}

// LogRetention keeps run logs younger than MaxAge, or, when MaxAge is 0,
// the Count newest.
type LogRetention struct {
	MaxAge time.Duration
	Count  int
}

// Mode is a backup set's mode.
type Mode string

// The modes.
const (
	Mirror Mode = "mirror" // robocopy /MIR: copy and delete extras
	Copy   Mode = "copy"   // robocopy /E: copy, never delete
)

// MaxDelete limits how much a plan may delete.
type MaxDelete struct {
	// Percent is set for a limit given as "N%" of the destination's files.
	Percent   bool
	Value     float64
	Unlimited bool
}

// Backup is a backup block.
type Backup struct {
	Name          string
	Source        string
	Destination   string
	Mode          Mode
	Include       []string
	ExcludeFiles  []string
	ExcludeDirs   []string
	CopyEmptyDirs bool
	ExcludeOlder  bool
	TimeTolerance time.Duration
	// Symlinks is "skip" or "copy".
	Symlinks string
	// HardLinks keeps files that are one inode in the source one inode in
	// the destination (rsync -H); off by default.
	HardLinks bool
	Threads   int
	Retries   int
	RetryWait time.Duration
	MaxDelete MaxDelete
	Enabled   bool
	// Engine is "auto", "native" or "robocopy" ("" means the robo block's).
	Engine string
	// Schedule is the cron expression (resolved from a schedule block name
	// when one is named), or "".
	Schedule     string
	ScheduleName string
	// Watch reapplies the set when its source changes (robo watch), after
	// changes settle for Debounce, with a full rescan every Rescan.
	Watch    bool
	Debounce time.Duration
	Rescan   time.Duration
	// RobocopyArgs are the robocopy block's extra_args.
	RobocopyArgs []string
	// Hooks are the before, after and on_failure commands (hooks.go).
	Hooks Hooks
	// AlertAfter is how long the set may go without a successful run
	// before it is stale (0: never).
	AlertAfter time.Duration
	// Versions is the versions block, or nil (versions.go).
	Versions *Versions
	// VerifyAfterApply is "", "metadata" or "checksum".
	VerifyAfterApply string
	// Copy is what the set copies of each file, robocopy's /COPY:
	// letters in canonical order (CopyLetterOrder, ParseCopy); DirCopy the
	// same for directories (/DCOPY:, DirCopyLetterOrder). "" means the
	// default, DefaultCopy and DefaultDirCopy ("DAT"), or the robo
	// block's copy and directory_copy when it sets them.
	Copy, DirCopy string
	// Snapshot says whether the set is read from a snapshot of the
	// source's volume: SnapshotNever (the default), SnapshotAuto or
	// SnapshotRequired (docs/snapshots.md).
	Snapshot string
	// ChangingFiles is what a file that keeps changing while it is copied
	// does to the set: ChangingFail (the default) or ChangingWarn.
	ChangingFiles string
	// Instance is set when the set is one instance of a backup block with
	// for_each; Name is then BLOCK.KEY (foreach.go).
	Instance *Instance

	DeclRange hcl.Range
	// Ranges holds the source range of each attribute that was set.
	Ranges map[string]hcl.Range
}

// The values of a backup block's snapshot attribute.
const (
	SnapshotNever    = "never"
	SnapshotAuto     = "auto"
	SnapshotRequired = "required"
)

// Share is a share block: an SMB share root and the credentials to reach it.
type Share struct {
	Name string
	// UNC is the normalized root, \\server\share or \\server\share\dir.
	UNC      string
	Username string
	// Password refers to a secret; it is never a value.
	Password SecretRef
	// Port is the SMB port (0 means the default, 445).
	Port int
	// Instance is set when the share is one instance of a share block
	// with for_each; Name is then BLOCK.KEY (foreach.go).
	Instance *Instance
	// Timeout bounds how long the server may leave one request unanswered
	// (robo's SMB client; 0 means the client's default, 60s).
	Timeout   time.Duration
	DeclRange hcl.Range
}

// ShareFor returns the share whose UNC root contains path (a normalized
// UNC path), preferring the longest root, or nil.
func (c *Config) ShareFor(path string) *Share {
	var best *Share
	pk := pathKey(path, UNCPath, "windows")
	for _, s := range c.Shares {
		if within(pk, pathKey(s.UNC, UNCPath, "windows")) && (best == nil || len(s.UNC) > len(best.UNC)) {
			best = s
		}
	}
	return best
}

// Schedule is a schedule block.
type Schedule struct {
	Name      string
	Cron      string
	Timezone  string
	Jitter    time.Duration
	DeclRange hcl.Range
}

// Defaults for backup attributes.
const (
	// DefaultThreads, 0, is the machine's default (engine.AutoThreads).
	DefaultThreads   = 0
	DefaultRetries   = 2
	DefaultRetryWait = 5 * time.Second
	DefaultMaxDelete = 50 // percent
	DefaultStateFile = ".robo/state.json"
	DefaultDebounce  = 30 * time.Second
	DefaultRescan    = time.Hour
	DefaultParallel  = 2
)

// The changing_files choices.
const (
	ChangingFail = "fail"
	ChangingWarn = "warn"
)
