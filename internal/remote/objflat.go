package remote

import (
	"context"
	"strings"
	"time"
)

// flatLister is a store that can list every key under a prefix without a
// delimiter, in key order (Azure Blob's List Blobs without a delimiter).
// listFlat returns the objects under prefix, following continuation until
// the end or until at least max are in; complete is false when more keys
// follow the last one returned.
type flatLister interface {
	listFlat(ctx context.Context, prefix string, max int) (objs []objInfo, complete bool, err error)
}

// A scan reads every folder of the tree, one listing per folder. A store
// that lists without a delimiter answers one listing for a whole subtree
// instead (rclone's --fast-list): 5,000 keys a page on Azure, so the
// 1,111 folders of a 100,000-file tree cost a few dozen listings instead
// of 1,111 (an estimate; counted only on the tests' small tree). Azurite walks the whole container for each listing, so there
// the per-folder scan was quadratic in the container's size.
//
// ReadDir of a folder it has no listing for lists the folder's subtree
// flat, up to flatBatch keys. If the subtree ends within them, the
// folder's listing and every subfolder's are built from the keys, the
// subfolders' kept for their ReadDir. If not, every subfolder whose keys
// all came is kept all the same (keys come in order: a subfolder the
// listing went past is whole), and the folder itself is listed with the
// delimiter as before. What is kept is bounded (flatHeld keys), taken by
// the first ReadDir of its folder, no older than flatAge when used, and
// all of it is forgotten when this FS writes anything: a listing kept
// never misses what robo wrote, and is never older than the scan that
// asked for it. A store whose keys do not come in order, or outside the
// prefix, gets the per-folder listing.
const (
	flatHeld = 50000
	flatAge  = time.Minute
)

// flatBatch is how many keys one flat listing reads at most (0: none, the
// per-folder listing only; tests set it).
var flatBatch = 10000

// flatDir is one folder's listing, built from a flat listing: what the
// delimiter listing of the folder would have returned.
type flatDir struct {
	objs     []objInfo
	prefixes []string
	at       time.Time
}

func (d *flatDir) size() int { return len(d.objs) + len(d.prefixes) }

// listDir returns the objects and common prefixes directly under prefix,
// from a kept flat listing when there is one (see flatLister).
func (f *objFS) listDir(prefix string) ([]objInfo, []string, error) {
	fl, ok := f.st.(flatLister)
	if !ok || flatBatch <= 0 {
		return f.st.list(f.ctx, prefix, 0)
	}
	f.mu.Lock()
	d, hit := f.flat[prefix]
	if hit {
		delete(f.flat, prefix)
		f.flatN -= d.size()
	}
	if f.flatN+flatBatch > flatHeld {
		// Listings of folders the scan never read (filtered out) would
		// hold the room until a write: forget the expired ones.
		for p, d := range f.flat {
			if time.Since(d.at) > flatAge {
				delete(f.flat, p)
				f.flatN -= d.size()
			}
		}
	}
	room := f.flatN+flatBatch <= flatHeld
	f.mu.Unlock()
	if hit && time.Since(d.at) <= flatAge {
		return d.objs, d.prefixes, nil
	}
	if !room {
		return f.st.list(f.ctx, prefix, 0)
	}
	at := time.Now()
	objs, complete, err := fl.listFlat(f.ctx, prefix, flatBatch)
	if err != nil {
		return nil, nil, err
	}
	dirs, ok := splitFlat(prefix, objs, complete)
	if !ok {
		return f.st.list(f.ctx, prefix, 0)
	}
	mine, have := dirs[prefix]
	delete(dirs, prefix)
	f.keepFlat(dirs, at)
	if have {
		return mine.objs, mine.prefixes, nil
	}
	return f.st.list(f.ctx, prefix, 0)
}

// keepFlat keeps subfolders' listings for their ReadDir, while there is
// room, unless this FS wrote since the listing was asked for.
func (f *objFS) keepFlat(dirs map[string]*flatDir, at time.Time) {
	if len(dirs) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wrote.After(at) {
		return
	}
	if f.flat == nil {
		f.flat = map[string]*flatDir{}
	}
	for p, d := range dirs {
		if f.flatN+d.size() > flatHeld {
			return
		}
		if old, ok := f.flat[p]; ok {
			f.flatN -= old.size()
		}
		d.at = at
		f.flat[p] = d
		f.flatN += d.size()
	}
}

// dropFlatLocked forgets every kept listing: this FS writes. Called
// with f.mu held.
func (f *objFS) dropFlatLocked() {
	f.wrote = time.Now()
	if len(f.flat) > 0 {
		f.flat = nil
		f.flatN = 0
	}
}

// splitFlat builds, from the keys under prefix in key order, the listing
// of every folder whose keys all came: all of them when complete, else
// all but the folders the last key is in (prefix among them). ok is false
// when the keys are not in order or not under prefix: the store is not
// what flatLister says, and its listing is not used.
func splitFlat(prefix string, objs []objInfo, complete bool) (dirs map[string]*flatDir, ok bool) {
	dirs = map[string]*flatDir{}
	get := func(p string) *flatDir {
		d := dirs[p]
		if d == nil {
			d = &flatDir{}
			dirs[p] = d
		}
		return d
	}
	if complete {
		get(prefix)
	}
	last := ""
	for i, o := range objs {
		if !strings.HasPrefix(o.Key, prefix) || i > 0 && o.Key <= last {
			return nil, false
		}
		last = o.Key
		folder, rel := prefix, o.Key[len(prefix):]
		for {
			j := strings.IndexByte(rel, '/')
			if j < 0 {
				break
			}
			sub := folder + rel[:j+1]
			// The keys under sub are together (they come in order):
			// sub is new to folder unless it is folder's last prefix.
			d := get(folder)
			if n := len(d.prefixes); n == 0 || d.prefixes[n-1] != sub {
				d.prefixes = append(d.prefixes, sub)
			}
			folder, rel = sub, rel[j+1:]
		}
		d := get(folder)
		d.objs = append(d.objs, o)
	}
	if !complete {
		// The folders the last key is in may have more keys after it.
		for p := range dirs {
			if strings.HasPrefix(last, p) {
				delete(dirs, p)
			}
		}
	}
	return dirs, true
}
