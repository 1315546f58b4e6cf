package runlog

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Patterns are the run logs Prune manages: the robocopy engine's raw logs,
// the native engine's run logs and hook command logs. Other files in the
// directory are never touched.
var Patterns = []string{"robocopy-run-*.log", FilePrefix + "*.log", "hook-*.log"}

// Retention says which run logs to keep: those younger than MaxAge when it
// is set, else the Count newest (by modification time, over all sets and
// kinds together).
type Retention struct {
	MaxAge time.Duration
	Count  int
}

// DefaultRetention keeps 30 days of run logs.
var DefaultRetention = Retention{MaxAge: 30 * 24 * time.Hour}

// Prune removes the run logs of dir that r does not keep and returns their
// paths. A missing dir is not an error; a file that cannot be removed is
// reported in the error and the others are still pruned.
func Prune(dir string, r Retention, now time.Time) ([]string, error) {
	if r.MaxAge <= 0 && r.Count <= 0 {
		return nil, nil
	}
	type entry struct {
		path string
		mod  time.Time
	}
	var logs []entry
	seen := map[string]bool{}
	for _, pat := range Patterns {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		for _, p := range m {
			if seen[p] {
				continue
			}
			seen[p] = true
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			logs = append(logs, entry{p, fi.ModTime()})
		}
	}
	sort.Slice(logs, func(i, j int) bool {
		if !logs[i].mod.Equal(logs[j].mod) {
			return logs[i].mod.After(logs[j].mod)
		}
		return logs[i].path > logs[j].path
	})
	var removed []string
	var errs []error
	for i, e := range logs {
		drop := false
		if r.MaxAge > 0 {
			drop = now.Sub(e.mod) > r.MaxAge
		} else {
			drop = i >= r.Count
		}
		if !drop {
			continue
		}
		if err := os.Remove(e.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, e.path)
	}
	return removed, errors.Join(errs...)
}
