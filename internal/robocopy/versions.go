package robocopy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/robo-backup/robo/internal/engine"
)

// victims is what moveVictims did before robocopy runs.
type victims struct {
	// Files and Bytes count the destination files moved into the run's
	// versions folder.
	Files, Bytes int64
	// Kept are the planned victims left in place (a move failed, or the
	// file changed since the plan): robocopy must neither overwrite nor
	// delete them, so their paths are excluded from its run.
	Kept   []string
	Errors []engine.FileError
	Skips  []engine.Skip
	// DeletesSkipped counts deletions not attempted because a file that
	// would be overwritten could not be kept; the run then copies only.
	DeletesSkipped int64
}

// moveVictims moves each destination file that a planned change overwrites
// or deletes to the same path under dest\.robo-versions\<stamp>, before
// robocopy runs: robocopy then sees it missing (and copies the source's) or
// gone (nothing to purge). Files about to be overwritten go first; when any
// of them cannot be moved, nothing is moved for a deletion, as the native
// engine skips deletions after a failed copy. A file that no longer matches
// what the plan saw is left alone. These are plain renames within the
// destination's volume.
func moveVictims(dest, stamp string, changes []engine.Change) victims {
	var v victims
	var deletes []*engine.Change
	for i := range changes {
		c := &changes[i]
		if !engine.Versioned(c) {
			continue
		}
		if c.Action == engine.Delete {
			deletes = append(deletes, c)
			continue
		}
		v.move(dest, stamp, c)
	}
	failed := len(v.Errors) > 0
	for _, c := range deletes {
		if failed {
			v.DeletesSkipped++
			v.Kept = append(v.Kept, c.Path)
			v.Skips = append(v.Skips, engine.Skip{Path: c.Path, Action: c.Action,
				Reason: "not attempted: an earlier file of this set could not be kept in the versions folder, so its deletions are skipped"})
			continue
		}
		v.move(dest, stamp, c)
	}
	return v
}

func (v *victims) move(dest, stamp string, c *engine.Change) {
	from := filepath.Join(dest, filepath.FromSlash(c.Path))
	fi, err := os.Lstat(from)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return // nothing to keep
	case err != nil:
		v.fail(c, err)
		return
	case fi.IsDir():
		return // directories are not versioned; robocopy does not replace them
	}
	if c.Dst != nil {
		kind := engine.KindFile
		if fi.Mode()&fs.ModeSymlink != 0 {
			kind = engine.KindSymlink
		}
		now := engine.Meta{Kind: kind, Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Target: c.Dst.Target}
		if kind == engine.KindSymlink {
			now.Target, _ = os.Readlink(from)
		}
		if !c.Dst.Matches(now) {
			v.Kept = append(v.Kept, c.Path)
			v.Skips = append(v.Skips, engine.Skip{Path: c.Path, Action: c.Action, Reason: "destination file changed since the plan was made"})
			return
		}
	}
	to := filepath.Join(dest, engine.VersionsDir, stamp, filepath.FromSlash(c.Path))
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		v.fail(c, err)
		return
	}
	if _, err := os.Lstat(to); err == nil {
		v.fail(c, fmt.Errorf("%s already exists", to))
		return
	}
	if err := os.Rename(from, to); err != nil {
		v.fail(c, err)
		return
	}
	v.Files++
	if !fi.Mode().IsRegular() {
		return
	}
	v.Bytes += fi.Size()
}

func (v *victims) fail(c *engine.Change, err error) {
	var pe *fs.PathError
	msg := err.Error()
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		msg = le.Err.Error()
	}
	v.Kept = append(v.Kept, c.Path)
	v.Errors = append(v.Errors, engine.FileError{Path: c.Path, Op: "keep old version of", Err: msg})
}

// pruneVersions removes the run folders the plan listed under
// dest\.robo-versions. Only names that are run folders, other than this
// run's, are touched.
func pruneVersions(dest, stamp string, names []string) (pruned []string, errs []engine.FileError) {
	for _, n := range names {
		if _, ok := engine.ParseVersionStamp(n); !ok || n == stamp {
			continue
		}
		p := filepath.Join(dest, engine.VersionsDir, n)
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, engine.FileError{Path: engine.VersionsDir + "/" + n, Op: "prune old versions", Err: err.Error()})
			continue
		}
		pruned = append(pruned, n)
	}
	return pruned, errs
}
