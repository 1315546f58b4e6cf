package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/gofrs/flock"
)

// The registry is a directory of small files, one pair per snapshot:
// NAME.lock, locked (flock, LockFileEx) by the process that owns the
// snapshot for as long as it lives, and NAME.json, the Snapshot record
// (0600), written and synced before the snapshot is created and removed
// only after it was deleted. A record whose lock is free belongs to a
// process that is gone: its snapshot is a leftover. One file per snapshot
// means concurrent robo processes (a robo watch and a hand-run robo apply)
// never rewrite each other's records.

// namePattern is what newName makes; anything else in the registry is
// not robo's and is left alone.
var namePattern = regexp.MustCompile(`^robo-[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$`)

// record is one registry entry held by this process.
type record struct {
	dir, name string
	lock      *flock.Flock
}

// register locks and writes rec's record in dir.
func register(dir string, rec *Snapshot) (*record, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot registry %s: %w", dir, err)
	}
	r := &record{dir: dir, name: rec.Name, lock: flock.New(filepath.Join(dir, rec.Name+".lock"), flock.SetPermissions(0o600))}
	ok, err := r.lock.TryLock()
	if err != nil || !ok {
		return nil, fmt.Errorf("snapshot registry %s: cannot lock %s: %v", dir, rec.Name, err)
	}
	if err := r.update(rec); err != nil {
		r.lock.Unlock()
		os.Remove(r.lock.Path())
		return nil, err
	}
	return r, nil
}

func (r *record) path() string { return filepath.Join(r.dir, r.name+".json") }

// update rewrites the record: temporary file, sync, rename, sync the
// directory, so that a crash leaves the old record or the new one.
func (r *record) update(rec *Snapshot) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp := r.path() + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("snapshot registry: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, r.path())
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snapshot registry: %w", err)
	}
	syncDir(r.dir)
	return nil
}

// drop removes the record (its snapshot is gone) and the lock.
func (r *record) drop() {
	os.Remove(r.path())
	syncDir(r.dir)
	r.lock.Unlock()
	os.Remove(r.lock.Path())
}

// release unlocks the record and keeps it: its snapshot could not be
// removed, so the next Cleanup tries again.
func (r *record) release() { r.lock.Unlock() }

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Leftover is a snapshot Cleanup found, and what became of it.
type Leftover struct {
	Snapshot *Snapshot
	// Err is why it could not be removed (nil: removed).
	Err error
}

// Cleanup removes the leftovers in the registry dir: snapshots whose
// owner is gone (killed, crashed, the machine lost power). A snapshot
// whose owner still runs (its lock is held) is left alone. It returns
// what it found; a record that cannot be read is reported with its error
// and kept.
func Cleanup(dir string) []Leftover {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return []Leftover{{Snapshot: &Snapshot{ID: dir}, Err: fmt.Errorf("snapshot registry: %w", err)}}
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && namePattern.MatchString(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []Leftover
	for _, n := range names {
		r := &record{dir: dir, name: n, lock: flock.New(filepath.Join(dir, n+".lock"), flock.SetPermissions(0o600))}
		ok, err := r.lock.TryLock()
		if err != nil || !ok {
			continue // in use by a running robo (or not lockable: left for later)
		}
		rec, err := readRecord(r.path())
		if errors.Is(err, fs.ErrNotExist) {
			// Removed by its owner since the listing.
			r.lock.Unlock()
			os.Remove(r.lock.Path())
			continue
		}
		if err != nil {
			r.release()
			out = append(out, Leftover{Snapshot: &Snapshot{ID: n}, Err: err})
			continue
		}
		prov := providers[rec.Kind]
		if prov == nil {
			r.release()
			out = append(out, Leftover{Snapshot: rec, Err: fmt.Errorf("no %s snapshot support in this build", rec.Kind)})
			continue
		}
		if err := prov.remove(rec); err != nil {
			r.release()
			out = append(out, Leftover{Snapshot: rec, Err: err})
			continue
		}
		r.drop()
		out = append(out, Leftover{Snapshot: rec})
	}
	return out
}

// readRecord reads and checks one record: its name must be robo's and
// its paths absolute, so that a damaged record cannot make robo remove
// something that is not its own.
func readRecord(path string) (*Snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rec Snapshot
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("snapshot registry %s: %w", path, err)
	}
	want := strings.TrimSuffix(filepath.Base(path), ".json")
	switch {
	case rec.Name != want:
		return nil, fmt.Errorf("snapshot registry %s: it names snapshot %q, not %q", path, rec.Name, want)
	case rec.Kind == KindVSS && rec.ID != "" && !vssIDPattern.MatchString(rec.ID):
		return nil, fmt.Errorf("snapshot registry %s: the VSS snapshot ID %q is not a GUID", path, rec.ID)
	}
	for _, p := range []string{rec.Volume, rec.Root, rec.Mount, rec.Link} {
		if p != "" && !filepath.IsAbs(p) && !strings.HasPrefix(p, `\\?\`) {
			return nil, fmt.Errorf("snapshot registry %s: %q is not an absolute path", path, p)
		}
	}
	return &rec, nil
}

// vssIDPattern is a GUID in braces, as VSS shows snapshot IDs.
var vssIDPattern = regexp.MustCompile(`^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$`)
