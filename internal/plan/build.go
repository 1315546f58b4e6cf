package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// Engines chooses the engine for a set. name is "auto", "native" or
// "robocopy" as configured.
type Engines interface {
	Select(name string) (engine.Engine, error)
}

// Input is everything Build reads.
type Input struct {
	Config *schema.Config
	// State may be nil (nothing applied yet).
	State *state.State
	// Targets limits the plan to these sets (all when empty).
	Targets []string
	// Refresh walks the trees; without it the plan compares config and
	// state only.
	Refresh bool
	// AllowDeletes lifts every set's max_delete limit.
	AllowDeletes bool
	Engines      Engines
	RoboVersion  string
	Now          time.Time
}

// Build computes the plan. Problems with one set are recorded in that set;
// Build returns an error only for problems with the whole input.
func Build(ctx context.Context, in Input) (*Plan, error) {
	cfg := in.Config
	p := &Plan{
		Sets:          []*Set{},
		FormatVersion: FormatVersion, RoboVersion: in.RoboVersion, CreatedAt: in.Now.UTC(), ConfigDir: cfg.Dir,
		ConfigDigest: ConfigDigest(cfg), Refresh: in.Refresh, AllowDeletes: in.AllowDeletes, Targets: in.Targets,
	}
	recorded := map[string]*state.Set{}
	if in.State != nil {
		p.StateLineage, p.StateSerial = in.State.Lineage, in.State.Serial
		recorded = in.State.Sets
	}
	targets := map[string]bool{}
	for _, t := range in.Targets {
		if cfg.Backup(t) == nil && recorded[t] == nil {
			return nil, fmt.Errorf("-target %s: there is no backup set named %q in the configuration or the state", t, t)
		}
		targets[t] = true
	}
	wanted := func(name string) bool { return len(targets) == 0 || targets[name] }
	moves := movesToApply(cfg, recorded)
	movedAway := map[string]bool{}
	for _, b := range cfg.Backups {
		from := moves[b.Name]
		if !wanted(b.Name) && (from == "" || !wanted(from)) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if from == "" {
			s := planSet(ctx, in, b, recorded[b.Name])
			if m := cfg.MoveTo(b.Name); m != nil && recorded[m.From] != nil {
				s.Warnings = append(s.Warnings, fmt.Sprintf("the moved block from %s (%s) was not applied: the state has entries for both %s and %s, so %s is kept and %s is forgotten",
					m.From, m.DeclRange, m.From, b.Name, b.Name, m.From))
			}
			p.Sets = append(p.Sets, s)
			continue
		}
		movedAway[from] = true
		p.Sets = append(p.Sets, planMoved(ctx, in, b, from, recorded[from]))
	}
	var forgotten []string
	for name := range recorded {
		if cfg.Backup(name) == nil && wanted(name) && !movedAway[name] {
			forgotten = append(forgotten, name)
		}
	}
	sort.Strings(forgotten)
	for _, name := range forgotten {
		r := recorded[name]
		p.Sets = append(p.Sets, &Set{Name: name, Action: Forget, Source: r.Source, Destination: r.Destination, Mode: r.Mode,
			Reason: fmt.Sprintf("no longer in the configuration: only its state entry is removed; %s is left as it is", r.Destination)})
	}
	return p, nil
}

// SpecOf resolves a backup block into what an engine needs.
func SpecOf(b *schema.Backup) engine.Spec {
	return engine.Spec{
		Name: b.Name, Source: b.Source, Destination: b.Destination, Mirror: b.Mode == schema.Mirror,
		Include: b.Include, ExcludeFiles: b.ExcludeFiles, ExcludeDirs: b.ExcludeDirs, CopyEmptyDirs: b.CopyEmptyDirs,
		ExcludeOlder: b.ExcludeOlder, TimeTolerance: b.TimeTolerance, CopySymlinks: b.Symlinks == "copy",
		Threads: b.Threads, Retries: b.Retries, RetryWait: b.RetryWait, RobocopyArgs: b.RobocopyArgs,
		Versions: versionsOf(b), VerifyAfterApply: b.VerifyAfterApply, ChangingFiles: changingFilesOf(b), HardLinks: b.HardLinks,
		Copy: CopyLetters(b.Copy, schema.DefaultCopy), DirCopy: CopyLetters(b.DirCopy, schema.DefaultDirCopy),
	}
}

// CopyLetters is a set's copy or directory_copy letters as engine.Spec
// holds them: "" for the default (def), so that a set which does not
// change what it copies keeps its spec, and its saved plans, as they were.
func CopyLetters(letters, def string) string {
	if letters == def {
		return ""
	}
	return letters
}

// changingFilesOf is the spec's changing_files: "" for the default,
// "fail", so that the setting leaves the digest of every set that does not
// choose "warn" as it was.
func changingFilesOf(b *schema.Backup) string {
	if b.ChangingFiles == schema.ChangingWarn {
		return engine.ChangingWarn
	}
	return ""
}

func versionsOf(b *schema.Backup) *engine.Versions {
	if b.Versions == nil {
		return nil
	}
	return &engine.Versions{KeepAge: b.Versions.KeepAge, KeepCount: b.Versions.KeepCount}
}

// EngineName is the engine a set asks for.
func EngineName(cfg *schema.Config, b *schema.Backup) string {
	if b.Engine != "" {
		return b.Engine
	}
	return cfg.Settings.Engine
}

// SetDigest identifies everything configured for a set.
func SetDigest(cfg *schema.Config, b *schema.Backup) string {
	d := struct {
		Spec      engine.Spec `json:"spec"`
		MaxDelete string      `json:"max_delete"`
		Engine    string      `json:"engine"`
		Enabled   bool        `json:"enabled"`
		Schedule  string      `json:"schedule"`
		// Hooks count only when a set has one, so adding the field left
		// every other set's digest as it was.
		Hooks *schema.Hooks `json:"hooks,omitempty"`
	}{SpecOf(b), b.MaxDelete.String(), EngineName(cfg, b), b.Enabled, b.Schedule, nil}
	if d.Spec.Threads == 0 {
		// The machine's default digests as the fixed default it
		// replaced (8), so that no set's digest changed with it.
		d.Spec.Threads = 8
	}
	if !b.Hooks.Empty() {
		d.Hooks = &b.Hooks
	}
	return digest(d)
}

// ConfigDigest identifies the whole resolved configuration.
func ConfigDigest(cfg *schema.Config) string {
	sets := map[string]string{}
	for _, b := range cfg.Backups {
		sets[b.Name] = SetDigest(cfg, b)
	}
	var moves map[string]string
	for _, m := range cfg.Moves {
		if moves == nil {
			moves = map[string]string{}
		}
		moves[m.From] = m.To
	}
	return digest(struct {
		StateFile string            `json:"state_file"`
		Engine    string            `json:"engine"`
		Sets      map[string]string `json:"sets"`
		// Moves count only when there are moved blocks, so that adding
		// the field left every other configuration's digest as it was.
		Moves map[string]string `json:"moves,omitempty"`
	}{cfg.Settings.StateFile, cfg.Settings.Engine, sets, moves})
}

func digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

func planSet(ctx context.Context, in Input, b *schema.Backup, rec *state.Set) *Set {
	spec := SpecOf(b)
	s := &Set{Name: b.Name, Mode: string(b.Mode), Source: b.Source, Destination: b.Destination,
		ConfigDigest: SetDigest(in.Config, b), Spec: &spec}
	switch {
	case rec == nil || rec.ConfigDigest == "":
		s.Action, s.Reason = Create, "never applied"
	case rec.ConfigDigest != s.ConfigDigest:
		s.Action, s.Reason = Update, "configuration changed since the last apply"+whatChanged(rec, b)
	default:
		s.Action, s.Reason = Noop, "configuration unchanged"
	}
	if !b.Enabled {
		s.Action, s.Reason = Noop, "disabled (enabled = false): not planned"
		if rec == nil {
			s.Reason = "disabled (enabled = false): never applied, not planned"
		}
		s.Spec = nil
		return s
	}
	eng, err := in.Engines.Select(EngineName(in.Config, b))
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.Engine = eng.Name()
	if spec.HardLinks && !eng.Properties().HardLinks {
		s.Warnings = append(s.Warnings, fmt.Sprintf("hard_links = true, but the %s engine cannot keep hard links (robocopy has no option for them): each name of a linked file is copied as a separate file; use engine = \"native\" to keep them", eng.Name()))
	}
	if !in.Refresh {
		return s
	}
	if why := nestedThroughLinks(spec.Source, spec.Destination); why != "" {
		s.Refused = why
		return s
	}
	res, err := eng.Scan(ctx, spec)
	if err != nil {
		var se *engine.SourceError
		switch {
		case errors.As(err, &se) && spec.Mirror:
			s.Refused = fmt.Sprintf("%v. A mirror of a missing or unreadable source could delete the destination, so nothing will be touched. Check that the source is mounted and reachable.", err)
		default:
			s.Error = err.Error()
		}
		return s
	}
	s.Changes = res.Changes
	s.ScanErrors = res.Errors
	// What the engine cannot honour (a robocopy version without a switch
	// the set needs) is said in the plan, not discovered after the run.
	s.Warnings = append(s.Warnings, res.Warnings...)
	s.Roots = res.Roots
	if res.Special > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d %s in the source (FIFOs, sockets or devices) %s never copied, e.g. %s",
			res.Special, plural(res.Special, "special file", "special files"), plural(res.Special, "is", "are"), safetext.Name(res.SpecialExample)))
	}
	if s.Summary, err = summarize(res, spec.Versions != nil); err != nil {
		res.Changes.Close()
		s.Changes, s.Summary, s.Error = nil, nil, err.Error()
		return s
	}
	safety(in, b, s, res)
	if rp := in.Config.RemoteFor(b.Destination); rp != nil && s.Summary != nil {
		s.Summary.Offsite = offsite(rp.Remote, s.Changes, !res.Dest.Exists)
	}
	if spec.Versions != nil && s.Refused == "" && len(res.Errors) == 0 {
		s.PruneVersions = engine.VersionsToPrune(res.Versions, *spec.Versions, in.Now, s.Summary.FilesToVersion > 0)
		s.Summary.VersionsToPrune = int64(len(s.PruneVersions))
	}
	if s.Action == Noop && (s.Changes.Len() > 0 || len(s.PruneVersions) > 0) {
		s.Action, s.Reason = Sync, syncReason(s.Summary)
	}
	if n := int64(len(s.ScanErrors)); n > 0 {
		unread := fmt.Sprintf("%d %s could not be read", n, plural(n, "entry", "entries"))
		if s.Action == Noop {
			s.Action, s.Reason = Sync, unread
		} else {
			s.Reason += "; " + unread
		}
	}
	return s
}

func whatChanged(rec *state.Set, b *schema.Backup) string {
	var what []string
	if rec.Source != b.Source {
		what = append(what, fmt.Sprintf("source was %s", rec.Source))
	}
	if rec.Destination != b.Destination {
		what = append(what, fmt.Sprintf("destination was %s", rec.Destination))
	}
	if rec.Mode != string(b.Mode) {
		what = append(what, fmt.Sprintf("mode was %s", rec.Mode))
	}
	if len(what) == 0 {
		return ""
	}
	return " (" + strings.Join(what, "; ") + ")"
}

func syncReason(sum *Summary) string {
	var parts []string
	add := func(n int64, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(sum.NewFiles, plural(sum.NewFiles, "new file", "new files"))
	add(sum.ChangedFiles, plural(sum.ChangedFiles, "changed file", "changed files"))
	add(sum.FilesToDelete, plural(sum.FilesToDelete, "extra file", "extra files"))
	add(sum.HardLinks, plural(sum.HardLinks, "hard link", "hard links"))
	add(sum.NewDirs, plural(sum.NewDirs, "new dir", "new dirs"))
	add(sum.ExtraDirs, plural(sum.ExtraDirs, "extra dir", "extra dirs"))
	add(sum.Mismatches, plural(sum.Mismatches, "mismatch", "mismatches"))
	add(sum.StaleTempFiles, plural(sum.StaleTempFiles, "stale temporary file", "stale temporary files"))
	add(sum.Tweaked, "tweaked (metadata only)")
	prune := ""
	if n := sum.VersionsToPrune; n > 0 {
		prune = fmt.Sprintf("%d %s", n, plural(n, "old versions folder to prune", "old versions folders to prune"))
	}
	switch {
	case len(parts) == 0 && prune != "":
		return prune
	case len(parts) == 0:
		return "files differ"
	case prune != "":
		return "files differ: " + strings.Join(parts, ", ") + "; " + prune
	}
	return "files differ: " + strings.Join(parts, ", ")
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// summarize counts a scan's changes; versions says the set keeps what it
// overwrites or deletes. A list that cannot be read back is an error.
func summarize(res *engine.ScanResult, versions bool) (*Summary, error) {
	sum := &Summary{SourceFiles: res.Source.Files, SourceDirs: res.Source.Dirs, SourceBytes: res.Source.Bytes, DestFiles: res.Dest.Files, Mismatches: res.Mismatches}
	err := res.Changes.Range(func(_ int, c *engine.Change) error {
		dir := c.Kind == engine.KindDir
		if versions && engine.Versioned(c) {
			sum.FilesToVersion++
			sum.BytesToVersion += engine.VersionedSize(c)
		}
		switch {
		case c.LinkTo != "":
			// A hard link to a file the plan counts already: no bytes.
			sum.HardLinks++
			if c.Action == engine.Replace && c.Dst != nil && c.Dst.Kind != engine.KindDir {
				sum.FilesToDelete++
				sum.BytesToDelete += c.Dst.Size
			}
		case c.Class == engine.StaleTemp:
			sum.StaleTempFiles++
		case c.Class == engine.Tweaked:
			sum.Tweaked++
		case c.Action == engine.Create && dir:
			sum.NewDirs++
		case c.Action == engine.Create:
			sum.NewFiles++
			sum.BytesToCopy += c.Size
		case c.Action == engine.Update:
			sum.ChangedFiles++
			sum.BytesToCopy += c.Size
			switch c.Class {
			case engine.Newer:
				sum.Newer++
			case engine.Older:
				sum.Older++
			default:
				sum.Changed++
			}
		case c.Action == engine.Delete && dir:
			sum.ExtraDirs++
		case c.Action == engine.Delete:
			sum.ExtraFiles++
			sum.FilesToDelete++
			sum.BytesToDelete += c.Size
		case c.Action == engine.Replace:
			if c.Dst != nil && c.Dst.Kind != engine.KindDir {
				sum.FilesToDelete++
				sum.BytesToDelete += c.Dst.Size
			}
			if dir {
				sum.NewDirs++
			} else {
				sum.NewFiles++
				sum.BytesToCopy += c.Size
			}
		}
		return nil
	})
	if res.Changes.Deletes() == 0 {
		// A copy-mode set reports extras it will never delete.
		sum.ExtraFiles += res.ExtraFiles
		sum.ExtraDirs += res.ExtraDirs
	}
	return sum, err
}

// safety applies the plan-time guards to a scanned set.
func safety(in Input, b *schema.Backup, s *Set, res *engine.ScanResult) {
	if !s.Spec.Mirror {
		return
	}
	sum := s.Summary
	if len(res.Errors) > 0 {
		dropped := s.Changes.Len() - s.Changes.InPhase(engine.PhaseCopy)
		if dropped > 0 {
			kept := engine.NewChangeList()
			err := s.Changes.RangeWhere(func(h engine.Head) bool { return h.Phase == engine.PhaseCopy }, func(_ int, c *engine.Change) error {
				kept.Add(*c)
				return nil
			})
			if err == nil {
				err = kept.Err()
			}
			s.Changes.Close()
			s.Changes = kept
			if err != nil {
				kept.Close()
				s.Changes, s.Error = nil, err.Error()
				return
			}
			s.Warnings = append(s.Warnings, fmt.Sprintf("%d %s could not be read while planning, so this run deletes nothing (%d planned %s dropped)",
				len(res.Errors), plural(int64(len(res.Errors)), "entry", "entries"), dropped, plural(int64(dropped), "deletion or replacement", "deletions and replacements")))
			// Recount what is left, keeping the walk's totals.
			left := *res
			left.Changes = kept
			left.ExtraFiles, left.ExtraDirs, left.Mismatches = 0, 0, 0
			if s.Summary, err = summarize(&left, s.Spec.Versions != nil); err != nil {
				s.Changes.Close()
				s.Changes, s.Error = nil, err.Error()
			}
		}
		return
	}
	if res.Source.Files == 0 && res.Source.Dirs == 0 && res.Dest.Files > 0 {
		s.Refused = fmt.Sprintf("the source %s is empty but the destination %s holds %d %s: a mirror would delete %s. "+
			"If the source is an unmounted drive or share, mount it; if you really mean to empty the backup, delete it by hand.",
			b.Source, b.Destination, res.Dest.Files, plural(res.Dest.Files, "file", "files"), plural(res.Dest.Files, "it", "all of them"))
		return
	}
	if in.AllowDeletes {
		return
	}
	if limit := b.MaxDelete.Limit(res.Dest.Files); sum.FilesToDelete > limit {
		s.Refused = fmt.Sprintf("the plan would delete %d of the %d files in %s, more than max_delete = %s allows (%d). "+
			"Check the source; if the deletions are intended, raise max_delete or run again with -allow-deletes.",
			sum.FilesToDelete, res.Dest.Files, b.Destination, quoteLimit(b.MaxDelete), limit)
	}
}

func quoteLimit(m schema.MaxDelete) string {
	if m.Percent || m.Unlimited {
		return fmt.Sprintf("%q", m.String())
	}
	return m.String()
}
