package plan

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/robo-backup/robo/internal/engine"
)

// FormatVersion is the version of the plan document.
const FormatVersion = "1"

// Action is what a plan does with a whole set.
type Action string

// The set actions.
const (
	Create Action = "create" // never applied
	Update Action = "update" // configuration changed since the last apply
	Sync   Action = "sync"   // configuration unchanged, files differ
	Noop   Action = "noop"   // nothing to do
	Forget Action = "forget" // in the state, no longer in the config; only the state entry goes
)

// Plan is the whole plan.
type Plan struct {
	FormatVersion string    `json:"format_version"`
	RoboVersion   string    `json:"robo_version"`
	CreatedAt     time.Time `json:"created_at"`
	ConfigDir     string    `json:"config_dir"`
	// ConfigDigest identifies the resolved configuration the plan was made
	// from; a saved plan is stale when it changes.
	ConfigDigest string `json:"config_digest"`
	// StateLineage and StateSerial identify the state the plan was made
	// against; a saved plan is stale when either changes.
	StateLineage string   `json:"state_lineage"`
	StateSerial  uint64   `json:"state_serial"`
	Refresh      bool     `json:"refresh"`
	AllowDeletes bool     `json:"allow_deletes,omitempty"`
	Targets      []string `json:"targets,omitempty"`
	Sets         []*Set   `json:"sets"`
}

// Set is the plan for one backup set.
type Set struct {
	Name         string `json:"name"`
	Action       Action `json:"action"`
	Reason       string `json:"reason"`
	Engine       string `json:"engine,omitempty"`
	Mode         string `json:"mode,omitempty"`
	Source       string `json:"source"`
	Destination  string `json:"destination"`
	ConfigDigest string `json:"config_digest,omitempty"`
	// Spec is what the engine is given (absent for forget).
	Spec *engine.Spec `json:"spec,omitempty"`
	// Summary is absent when the plan was made with -refresh=false.
	Summary *Summary `json:"summary,omitempty"`
	// Changes are the file operations in walk order (sorted by path within
	// each directory); engines run them phase by phase (engine.Phase).
	Changes []engine.Change `json:"changes,omitempty"`
	// Refused says why a safety check stopped the set: apply will not touch it.
	Refused string `json:"refused,omitempty"`
	// Error says why the set could not be planned.
	Error string `json:"error,omitempty"`
	// Warnings are things the user should know that do not stop the set.
	Warnings []string `json:"warnings,omitempty"`
	// ScanErrors are entries that could not be read while planning.
	ScanErrors []engine.FileError `json:"scan_errors,omitempty"`
	// PruneVersions are the run folders under the destination's
	// .robo-versions that the set's keep rule removes after a successful
	// apply, oldest first.
	PruneVersions []string `json:"prune_versions,omitempty"`
	// Roots are the identities of the set's roots as the plan's scan saw
	// them; apply refuses the set when a recorded root is another
	// directory now (absent in plans saved before robo recorded them).
	Roots *engine.Roots `json:"roots,omitempty"`
}

// Summary counts a set's file operations, in robocopy's terms.
type Summary struct {
	NewFiles     int64 `json:"new_files"`
	ChangedFiles int64 `json:"changed_files"`
	ExtraFiles   int64 `json:"extra_files"`
	NewDirs      int64 `json:"new_dirs"`
	ExtraDirs    int64 `json:"extra_dirs"`
	BytesToCopy  int64 `json:"bytes_to_copy"`
	// The changed files by class.
	Newer   int64 `json:"newer"`
	Older   int64 `json:"older"`
	Changed int64 `json:"changed"`
	// Mismatches are entries that are a file on one side and a directory
	// on the other.
	Mismatches int64 `json:"mismatches"`
	// FilesToDelete and BytesToDelete count what a mirror would delete
	// (extras and mismatched destination entries).
	FilesToDelete int64 `json:"files_to_delete"`
	BytesToDelete int64 `json:"bytes_to_delete"`
	// StaleTempFiles are leftovers of an interrupted run, to be removed.
	StaleTempFiles int64 `json:"stale_temp_files"`
	SourceFiles    int64 `json:"source_files"`
	SourceDirs     int64 `json:"source_dirs"`
	SourceBytes    int64 `json:"source_bytes"`
	DestFiles      int64 `json:"destination_files"`
	// FilesToVersion and BytesToVersion count the destination files a set
	// with versions keeps under .robo-versions before it overwrites or
	// deletes them; VersionsToPrune counts the old run folders it removes.
	FilesToVersion  int64 `json:"files_to_version"`
	BytesToVersion  int64 `json:"bytes_to_version"`
	VersionsToPrune int64 `json:"versions_to_prune"`
}

// HasChanges reports whether applying the set would do anything: copy or
// delete files, or change the state.
func (s *Set) HasChanges() bool {
	return s.Action != Noop || len(s.Changes) > 0 || len(s.PruneVersions) > 0
}

// Failed reports whether the set cannot be applied.
func (s *Set) Failed() bool { return s.Refused != "" || s.Error != "" }

// HasChanges reports whether any set would change.
func (p *Plan) HasChanges() bool {
	for _, s := range p.Sets {
		if s.HasChanges() && !s.Failed() {
			return true
		}
	}
	return false
}

// Failed reports whether any set was refused or could not be planned.
func (p *Plan) Failed() bool {
	for _, s := range p.Sets {
		if s.Failed() {
			return true
		}
	}
	return false
}

// Set returns the named set's plan, or nil.
func (p *Plan) Set(name string) *Set {
	for _, s := range p.Sets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Write saves the plan as a JSON file, readable only by its owner (it
// names paths that may be private).
func (p *Plan) Write(path string) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// Read loads a saved plan.
func Read(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s is not a robo plan file: %w", path, err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("%s: plan format version %q is not supported (this robo reads %q)", path, p.FormatVersion, FormatVersion)
	}
	for _, s := range p.Sets {
		if s == nil {
			return nil, fmt.Errorf("%s is not a robo plan file: a set is null", path)
		}
		for _, c := range s.Changes {
			if err := engine.CheckPath(c.Path); err != nil {
				return nil, fmt.Errorf("%s: set %q: a change path is not valid: %w", path, s.Name, err)
			}
		}
		for _, n := range s.PruneVersions {
			if _, ok := engine.ParseVersionStamp(n); !ok {
				return nil, fmt.Errorf("%s: set %q: %q is not a versions folder name", path, s.Name, n)
			}
		}
	}
	return &p, nil
}
