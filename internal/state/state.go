package state

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// FormatVersion is the version of the state file format this package writes.
const FormatVersion = 1

// State is the whole state file.
type State struct {
	Version     int             `json:"version"`
	Serial      uint64          `json:"serial"`
	Lineage     string          `json:"lineage"`
	RoboVersion string          `json:"robo_version,omitempty"`
	Sets        map[string]*Set `json:"sets"`
}

// Set is what robo recorded of one backup set.
type Set struct {
	Name string `json:"name"`
	// ConfigDigest identifies the set's configuration as last applied.
	// It is empty for a set that was refused or failed before it was ever
	// applied.
	ConfigDigest string `json:"config_digest,omitempty"`
	Source       string `json:"source"`
	Destination  string `json:"destination"`
	Mode         string `json:"mode"`
	Engine       string `json:"engine,omitempty"`
	// AppliedAt is when the configuration with ConfigDigest was applied.
	AppliedAt *time.Time `json:"applied_at,omitempty"`
	LastRun   *Run       `json:"last_run,omitempty"`
	// LastSuccess is the end of the last run whose outcome was success.
	LastSuccess *time.Time `json:"last_success,omitempty"`
}

// Outcome of a run.
const (
	Success     = "success"     // converged (entries that changed since the plan are skipped and reported)
	Partial     = "partial"     // some operations failed, or part of the source could not be read
	Failed      = "failed"      // could not run, or nothing converged
	Refused     = "refused"     // a safety check refused the set; nothing touched
	Interrupted = "interrupted" // stopped before the end
)

// Run is one apply of one set.
type Run struct {
	Started      time.Time     `json:"started"`
	Duration     time.Duration `json:"duration_ns"`
	Outcome      string        `json:"outcome"`
	FilesCopied  int64         `json:"files_copied"`
	BytesCopied  int64         `json:"bytes_copied"`
	DirsCreated  int64         `json:"dirs_created"`
	FilesDeleted int64         `json:"files_deleted"`
	DirsDeleted  int64         `json:"dirs_deleted"`
	Skipped      int64         `json:"skipped"`
	Errors       int64         `json:"errors"`
	// Changing counts the files that kept changing while they were
	// copied and were not backed up (docs/state.md).
	Changing int64  `json:"changing,omitempty"`
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message,omitempty"`
	// Snapshot is the snapshot the run read its source from; nil when it
	// read the live source (docs/snapshots.md).
	Snapshot *Snapshot `json:"snapshot,omitempty"`
}

// Snapshot names the snapshot a run read from.
type Snapshot struct {
	Kind    string    `json:"kind"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
}

// New returns an empty state with a fresh lineage.
func New() *State {
	return &State{Version: FormatVersion, Lineage: NewLineage(), Sets: map[string]*Set{}}
}

// NewLineage returns a random UUID (version 4).
func NewLineage() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Names returns the recorded set names, sorted.
func (s *State) Names() []string {
	names := make([]string, 0, len(s.Sets))
	for n := range s.Sets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Decode parses a state file. It refuses a newer format than it knows.
func Decode(b []byte) (*State, error) {
	var s State
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("not a valid state file: %w", err)
	}
	if s.Version < 1 || s.Version > FormatVersion {
		return nil, fmt.Errorf("state format version %d is not supported (this robo reads version %d)", s.Version, FormatVersion)
	}
	if s.Lineage == "" {
		return nil, errors.New("not a valid state file: no lineage")
	}
	if s.Sets == nil {
		s.Sets = map[string]*Set{}
	}
	for name, set := range s.Sets {
		if set == nil {
			return nil, fmt.Errorf("not a valid state file: set %q is null", name)
		}
		set.Name = name
	}
	return &s, nil
}

// Store reads and writes one state file.
type Store struct {
	Path string
}

// BackupPath is where the previous version is kept.
func (st *Store) BackupPath() string { return st.Path + ".backup" }

// Read returns the state, or (nil, nil) when there is none yet.
func (st *Store) Read() (*State, error) {
	b, err := ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	s, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w (the previous version is in %s)", st.Path, err, st.BackupPath())
	}
	return s, nil
}

// Write increments s.Serial and replaces the state file atomically,
// keeping the previous version as the backup file.
func (st *Store) Write(s *State) error {
	if s.Version == 0 {
		s.Version = FormatVersion
	}
	s.Serial++
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dir := filepath.Dir(st.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := st.keepBackup(); err != nil {
		return fmt.Errorf("write state backup: %w", err)
	}
	if err := writeAtomic(st.Path, b); err != nil {
		s.Serial--
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// keepBackup makes the current state file the backup file. The current file
// is already complete on disk (it was written by writeAtomic), so a second
// name for it (a hard link, renamed over the backup) is enough: no copy and
// no fsync of its bytes; the directory is synced with the new state's
// rename. Where hard links are refused, its bytes are copied.
func (st *Store) keepBackup() error {
	tmp := fmt.Sprintf("%s.%d.link.tmp", st.BackupPath(), os.Getpid())
	os.Remove(tmp)
	switch err := os.Link(st.Path, tmp); {
	case err == nil:
		if err := Rename(tmp, st.BackupPath()); err != nil {
			os.Remove(tmp)
			return err
		}
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return nil // no state yet
	}
	prev, err := ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return writeAtomic(st.BackupPath(), prev)
}

// writeAtomic writes b to a temporary file beside path, fsyncs it, renames
// it over path and fsyncs the directory.
func writeAtomic(path string, b []byte) error { return writeFile(path, b, true) }

// writeFile writes b to a temporary file beside path and renames it over
// path (Rename: retried on Windows while a reader holds path open);
// durable also fsyncs the file before and the directory after.
func writeFile(path string, b []byte, durable bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(b); err != nil {
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if durable {
		syncDir(dir)
	}
	return nil
}
