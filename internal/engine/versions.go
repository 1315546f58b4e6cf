package engine

import (
	"sort"
	"strings"
	"time"
)

// VersionsDir is the folder at the destination root that keeps the files a
// run overwrote or deleted, one subfolder per run named by its UTC start
// time (VersionStamp). Scans never see it on either side: it is never an
// extra, never mirrored and never deleted by a mirror.
const VersionsDir = ".robo-versions"

// versionLayout is the time format of a run's versions folder.
const versionLayout = "20060102T150405Z"

// Versions is a set's versions block: keep the run folders younger than
// KeepAge, or, when KeepAge is 0, the KeepCount newest.
type Versions struct {
	KeepAge   time.Duration `json:"keep_age,omitempty"`
	KeepCount int           `json:"keep_count,omitempty"`
}

// VersionStamp names the versions folder of a run started at t.
func VersionStamp(t time.Time) string { return t.UTC().Format(versionLayout) }

// ParseVersionStamp reads a run folder's name; ok is false for any other
// name (which pruning then never touches).
func ParseVersionStamp(name string) (time.Time, bool) {
	t, err := time.Parse(versionLayout, name)
	if err != nil || t.Format(versionLayout) != name {
		return time.Time{}, false
	}
	return t, true
}

// VersionPath is where a run keeps the old destination entry at rel.
func VersionPath(stamp, rel string) string { return VersionsDir + "/" + stamp + "/" + rel }

// Versioned reports whether, with versions on, c moves an existing
// destination file or link into the run's versions folder before it
// overwrites or deletes it. Directories are not versioned (their files
// are, one by one), nor are robo's own stale temporary files.
func Versioned(c *Change) bool {
	switch c.Action {
	case Update:
		// A Tweaked update sets metadata on the file in place.
		return c.Kind != KindDir && c.Class != Tweaked
	case Delete:
		return c.Kind != KindDir && c.Class != StaleTemp
	case Replace:
		// A robocopy listing does not say what the destination entry is
		// (Dst is nil): the engine finds out when it moves it.
		return c.Dst == nil || c.Dst.Kind != KindDir
	}
	return false
}

// VersionedSize is the bytes a versioned change keeps: the destination
// entry's size when the plan saw it, else the change's size (robocopy's
// listing shows only the source side of a changed file).
func VersionedSize(c *Change) int64 {
	if c.Dst != nil {
		if c.Dst.Kind != KindFile {
			return 0
		}
		return c.Dst.Size
	}
	return c.Size
}

// VersionsToPrune returns the run folders (names as VersionStamp makes
// them) that keep rule v removes at now, oldest first. newRun says the
// coming run creates a folder of its own, which counts against KeepCount.
// Names that are not run folders are never returned.
func VersionsToPrune(names []string, v Versions, now time.Time, newRun bool) []string {
	type run struct {
		name string
		t    time.Time
	}
	var runs []run
	for _, n := range names {
		if t, ok := ParseVersionStamp(n); ok {
			runs = append(runs, run{n, t})
		}
	}
	// Newest first.
	sort.Slice(runs, func(i, j int) bool { return runs[i].t.After(runs[j].t) })
	var out []string
	switch {
	case v.KeepAge > 0:
		cut := now.Add(-v.KeepAge)
		for _, r := range runs {
			if r.t.Before(cut) {
				out = append(out, r.name)
			}
		}
	case v.KeepCount > 0:
		keep := v.KeepCount
		if newRun {
			keep--
		}
		if keep < len(runs) {
			for _, r := range runs[keep:] {
				out = append(out, r.name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// IsVersionsDir reports whether name (one path element at a tree's root)
// is the versions folder; fold compares case-insensitively.
func IsVersionsDir(name string, fold bool) bool {
	if fold {
		return strings.EqualFold(name, VersionsDir)
	}
	return name == VersionsDir
}
