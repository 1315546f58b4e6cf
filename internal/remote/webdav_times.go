package remote

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// The records of times on WebDAV (docs/offsite.md#modification-times-on-webdav).
//
// Each folder robo writes into holds its own record, TimesRecordName in
// that folder: for every file and folder robo wrote there, the server's
// size, time and ETag right after the write, and the time robo gave it.
// A connection reads a folder's record when it first looks at the folder
// (a listing that shows no record costs nothing more, nor does a folder
// robo made: MKCOL answered 201 Created right after a look found nothing
// at the name; rclone answers 201 for an existing folder too, so the
// look is needed), keeps at most maxCachedDirs folders' records in
// memory (those with unsaved changes stay until written), and writes back
// only the records of folders whose entries changed: PUT to a temporary
// name in the folder, then MOVE over the record, at most every saveEvery
// while files move, when the cache is full, and when the connection
// closes. A run killed before it saves leaves files whose times are the
// server's: the next plan sees them as changed and uploads them again,
// which converges.
//
// Records are kept by the folder's path under the connection's URL, so
// two sets whose destinations nest share them.
//
// Version 1 was one record for a set's whole tree, at its root, rewritten
// whole every time (its cost grew with the square of the files written in
// a run). It is still read: its entries are held aside (migration) and
// serve the folders that have no record of their own; the first save of a
// run that changed something writes every such folder's record and then
// the root's, which replaces the version-1 record. A run killed in the
// middle of that leaves the version-1 record and some folders' new
// records, which win over it: the next run finishes the migration.
type timesFile struct {
	Version int                  `json:"version"`
	Entries map[string]davRecord `json:"entries"`
	// Self is the folder's own time, kept for a set's root (whose
	// parent's record robo does not write); any other folder's time is
	// in its parent's record.
	Self *davRecord `json:"self,omitempty"`
}

const (
	timesVersion   = 2
	timesVersionV1 = 1
	saveEvery      = 30 * time.Second
	// maxTimesFileV1 bounds the version-1 record of a whole tree (a
	// million entries is about 150 MB), read once to be migrated.
	maxTimesFileV1 = 1 << 30
)

// maxTimesFile bounds one folder's record robo reads back (about 400,000
// entries); a bigger one is not trusted. A variable for the tests.
var maxTimesFile int64 = 64 << 20

// maxCachedDirs is how many folders' records a connection keeps in
// memory; a variable for the tests.
var maxCachedDirs = 256

// davDir is one folder's record in memory.
type davDir struct {
	entries map[string]davRecord // by name in the folder
	self    *davRecord
	ready   chan struct{} // closed once loaded
	err     error         // the load failed (the folder is not cached then)
	dirty   bool          // changed since it was read or written
	saving  int           // writes in flight
	used    uint64        // for eviction: the least recently used goes first
}

// davTimes is a connection's records of times, by folder path under the
// base URL ("" is the URL itself).
type davTimes struct {
	d *davConn

	mu      sync.Mutex
	dirs    map[string]*davDir
	tick    uint64
	savedAt time.Time
	peak    int // the most folders held at once (tests)
	// legacy holds version-1 records' entries by folder until they are
	// migrated; legacyRoots are the folders whose record is version 1.
	legacy      map[string]map[string]davRecord
	legacyRoots map[string]bool

	saveMu sync.Mutex
}

func newDavTimes(d *davConn) *davTimes {
	return &davTimes{d: d, dirs: map[string]*davDir{}, savedAt: time.Now()}
}

func joinDav(dir, name string) string {
	if dir == "" {
		return name
	}
	if name == "" {
		return dir
	}
	return dir + "/" + name
}

// splitDav returns the folder of a full path and the name in it.
func splitDav(p string) (dir, name string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

// recordName reports whether n can name an entry of a folder's record: a
// single path element that is not the record itself.
func recordName(n string) bool {
	return validName(n) && !strings.Contains(n, "/") && n != TimesRecordName
}

// dir returns the record of folder (a full path), read from the server
// when it is not in memory. absent says the folder is known to hold no
// record (its listing showed none, or robo just made it).
func (t *davTimes) dir(folder string, absent bool) (*davDir, error) {
	t.mu.Lock()
	dd := t.dirs[folder]
	if dd != nil {
		t.tick++
		dd.used = t.tick
		t.mu.Unlock()
		<-dd.ready
		if dd.err != nil {
			return nil, dd.err
		}
		return dd, nil
	}
	dd = &davDir{entries: map[string]davRecord{}, ready: make(chan struct{})}
	t.tick++
	dd.used = t.tick
	t.dirs[folder] = dd
	t.mu.Unlock()
	var tf *timesFile
	var err error
	if !absent {
		tf, err = t.load(folder)
	}
	t.mu.Lock()
	switch {
	case err != nil:
		dd.err = err
		if t.dirs[folder] == dd {
			delete(t.dirs, folder)
		}
	case tf != nil:
		dd.entries, dd.self = tf.Entries, tf.Self
	default:
		// No record of its own: a version-1 record may hold its entries.
		for n, r := range t.legacy[folder] {
			dd.entries[n] = r
		}
	}
	t.peak = max(t.peak, len(t.dirs))
	t.mu.Unlock()
	close(dd.ready)
	if err != nil {
		return nil, err
	}
	t.trim()
	return dd, nil
}

// known records that folder holds no record: robo has just made it.
func (t *davTimes) known(folder string) {
	dd := &davDir{entries: map[string]davRecord{}, ready: make(chan struct{})}
	close(dd.ready)
	t.mu.Lock()
	if t.dirs[folder] == nil {
		t.tick++
		dd.used = t.tick
		t.dirs[folder] = dd
		t.peak = max(t.peak, len(t.dirs))
	}
	t.mu.Unlock()
	t.trim()
}

// trim drops clean folders' records, least recently used first, while
// more than maxCachedDirs are held; when the changed ones alone are too
// many, they are written first.
func (t *davTimes) trim() {
	for try := 0; try < 2; try++ {
		t.mu.Lock()
		if len(t.dirs) <= maxCachedDirs {
			t.mu.Unlock()
			return
		}
		type cand struct {
			k    string
			used uint64
		}
		var cs []cand
		for k, dd := range t.dirs {
			select {
			case <-dd.ready:
			default:
				continue
			}
			if !dd.dirty && dd.saving == 0 && !t.legacyRoots[k] {
				cs = append(cs, cand{k, dd.used})
			}
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].used < cs[j].used })
		// Down to three quarters, so that trimming is not done at every
		// new folder.
		for _, c := range cs {
			if len(t.dirs) <= maxCachedDirs*3/4 {
				break
			}
			delete(t.dirs, c.k)
		}
		over := len(t.dirs) > maxCachedDirs
		t.mu.Unlock()
		if !over || try == 1 {
			return
		}
		if t.saveMu.TryLock() { // not when a save is running (it may be the caller)
			t.saveDirtyLocked() // a failure is retried at the next save and at Close
			t.saveMu.Unlock()
		}
	}
}

// load reads a folder's record: nil for none, or one that is damaged,
// foreign or too big (never trusted: the server's times stand, files are
// uploaded again, nothing is lost). A version-1 record's entries are put
// aside for migration.
func (t *davTimes) load(folder string) (*timesFile, error) {
	p := joinDav(folder, TimesRecordName)
	resp, err := t.d.request(t.d.ctx, "GET", p, false, nil, 0, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusConflict: // no record, or no folder yet
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, nil
	default:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, statusError{resp.StatusCode}
	}
	lr := &io.LimitedReader{R: resp.Body, N: maxTimesFileV1 + 1}
	var tf timesFile
	if err := json.NewDecoder(lr).Decode(&tf); err != nil {
		return nil, nil
	}
	read := maxTimesFileV1 + 1 - lr.N
	switch {
	case tf.Version == timesVersion && read <= maxTimesFile:
		out := &timesFile{Entries: make(map[string]davRecord, len(tf.Entries)), Self: tf.Self}
		for n, r := range tf.Entries {
			if recordName(n) {
				out.Entries[n] = r
			}
		}
		return out, nil
	case tf.Version == timesVersionV1:
		t.mu.Lock()
		if t.legacy == nil {
			t.legacy, t.legacyRoots = map[string]map[string]davRecord{}, map[string]bool{}
		}
		t.legacyRoots[folder] = true
		out := &timesFile{Entries: map[string]davRecord{}}
		for k, r := range tf.Entries {
			if k == "" || strings.HasPrefix(k, "/") || path.Clean(k) != k || k == ".." || strings.HasPrefix(k, "../") || strings.ContainsRune(k, 0) {
				continue
			}
			dir, name := splitDav(k)
			if !recordName(name) {
				continue
			}
			if dir == "" {
				out.Entries[name] = r
			}
			full := joinDav(folder, dir)
			if t.legacy[full] == nil {
				t.legacy[full] = map[string]davRecord{}
			}
			t.legacy[full][name] = r
		}
		t.mu.Unlock()
		return out, nil
	}
	return nil, nil // foreign version, or too big
}

// lookup returns the record of name in folder (name "" is the folder
// itself, kept as its record's Self).
func (t *davTimes) lookup(folder, name string, absent bool) (davRecord, bool) {
	if name == "" {
		dd, err := t.dir(folder, absent)
		if err != nil || dd == nil {
			return davRecord{}, false
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if dd.self == nil {
			return davRecord{}, false
		}
		return *dd.self, true
	}
	dd, err := t.dir(folder, absent)
	if err != nil {
		return davRecord{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := dd.entries[name]
	return r, ok
}

// set records r for name in folder ("" is the folder itself); del
// removes the entry instead.
func (t *davTimes) set(folder, name string, r davRecord, del bool) error {
	dd, err := t.dir(folder, false)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// The folder may have been dropped from memory (it was clean) since
	// dir returned: put it back, or change the copy read since.
	for {
		cur := t.dirs[folder]
		if cur == nil {
			t.dirs[folder] = dd
			break
		}
		if cur == dd {
			break
		}
		t.mu.Unlock()
		<-cur.ready
		t.mu.Lock()
		if cur.err != nil {
			return cur.err
		}
		dd = cur
	}
	switch {
	case name == "" && del:
		if dd.self != nil {
			dd.self, dd.dirty = nil, true
		}
	case name == "":
		if dd.self == nil || *dd.self != r {
			dd.self, dd.dirty = &r, true
		}
	case del:
		if _, ok := dd.entries[name]; ok {
			delete(dd.entries, name)
			dd.dirty = true
		}
	default:
		if old, ok := dd.entries[name]; !ok || old != r {
			dd.entries[name] = r
			dd.dirty = true
		}
	}
	return nil
}

// forget drops the records of folder and every folder under it (the
// folder was deleted).
func (t *davTimes) forget(folder string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.dirs {
		if under(k, folder) {
			delete(t.dirs, k)
		}
	}
	for k := range t.legacy {
		if under(k, folder) {
			delete(t.legacy, k)
		}
	}
}

// moved follows a folder the server moved, with every record in it: the
// records held in memory are written again at their new place (one being
// written at the old place meanwhile would miss its latest changes).
func (t *davTimes) moved(from, to string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	re := func(k string) string { return to + k[len(from):] }
	for k, dd := range t.dirs {
		if under(k, from) {
			delete(t.dirs, k)
			select {
			case <-dd.ready:
				dd.dirty = true
				t.dirs[re(k)] = dd
			default: // still loading from the old place: read again later
			}
		}
	}
	for k, m := range t.legacy {
		if under(k, from) {
			delete(t.legacy, k)
			t.legacy[re(k)] = m
		}
	}
}

func under(p, dir string) bool {
	return dir == "" || p == dir || strings.HasPrefix(p, dir+"/")
}

// maybeSave writes the changed records when saveEvery has passed.
func (t *davTimes) maybeSave() {
	t.mu.Lock()
	due := time.Since(t.savedAt) >= saveEvery
	t.mu.Unlock()
	if due && t.saveMu.TryLock() {
		t.saveDirtyLocked() // a failure here is retried at the next save and at Close
		t.saveMu.Unlock()
	}
}

// saveDirty writes every changed folder's record.
func (t *davTimes) saveDirty() error {
	t.saveMu.Lock()
	defer t.saveMu.Unlock()
	return t.saveDirtyLocked()
}

// saveDirtyLocked is saveDirty with saveMu held. When anything changed
// (never in a run that changed nothing, such as a plan) version-1
// records are migrated, and a folder that holds one is written only
// then, last.
func (t *davTimes) saveDirtyLocked() error {
	t.mu.Lock()
	t.savedAt = time.Now()
	var todo []string
	for k, dd := range t.dirs {
		if dd.dirty && !t.legacyRoots[k] {
			todo = append(todo, k)
		}
	}
	changed := len(todo) > 0
	for k := range t.legacyRoots {
		if dd := t.dirs[k]; dd != nil && dd.dirty {
			changed = true
		}
	}
	legacy := t.legacy != nil
	t.mu.Unlock()
	sort.Strings(todo)
	errs := t.saveMany(todo)
	if legacy && changed {
		if err := t.migrate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// savers is how many records are written at once: a run that wrote into
// a thousand folders writes a thousand records at Close, one PUT and one
// MOVE each, which one after the other took about 20 s on loopback.
const savers = 8

// saveMany writes the records of folders, a few at once.
func (t *davTimes) saveMany(folders []string) []error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	sem := make(chan struct{}, savers)
	for _, k := range folders {
		wg.Add(1)
		sem <- struct{}{}
		go func(k string) {
			defer func() { <-sem; wg.Done() }()
			if err := t.saveOne(k); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(k)
	}
	wg.Wait()
	return errs
}

// migrate writes the record of every folder a version-1 record covers,
// then those of the folders that held one (replacing it), and forgets
// the version-1 entries.
func (t *davTimes) migrate() error {
	t.mu.Lock()
	var folders, roots []string
	for k := range t.legacy {
		if !t.legacyRoots[k] {
			folders = append(folders, k)
		}
	}
	for k := range t.legacyRoots {
		roots = append(roots, k)
	}
	t.mu.Unlock()
	sort.Strings(folders)
	sort.Strings(roots)
	// The folders under a version-1 record first, then the folders that
	// hold one: a run killed in between leaves the version-1 record.
	for _, group := range [][]string{folders, roots} {
		for start := 0; start < len(group); start += savers {
			batch := group[start:min(start+savers, len(group))]
			for _, k := range batch {
				dd, err := t.dir(k, false)
				if err != nil {
					return err
				}
				t.mu.Lock()
				if cur := t.dirs[k]; cur == nil {
					t.dirs[k] = dd // dropped from memory since (it was clean)
				} else {
					dd = cur
				}
				dd.dirty = true
				t.mu.Unlock()
			}
			if errs := t.saveMany(batch); len(errs) > 0 {
				return errors.Join(errs...)
			}
		}
	}
	t.mu.Lock()
	t.legacy, t.legacyRoots = nil, nil
	t.mu.Unlock()
	return nil
}

// saveOne writes one folder's record when it changed.
func (t *davTimes) saveOne(folder string) error {
	t.mu.Lock()
	dd := t.dirs[folder]
	if dd == nil || !dd.dirty {
		t.mu.Unlock()
		return nil
	}
	b, err := json.Marshal(timesFile{Version: timesVersion, Entries: dd.entries, Self: dd.self})
	dd.dirty = false
	dd.saving++
	t.mu.Unlock()
	if err == nil {
		err = t.write(folder, b)
	}
	t.mu.Lock()
	dd.saving--
	if errors.Is(err, errFolderGone) {
		// Deleted behind robo's back: nothing to record there.
		if t.dirs[folder] == dd {
			delete(t.dirs, folder)
		}
		err = nil
	} else if err != nil {
		dd.dirty = true
	}
	t.mu.Unlock()
	if err != nil {
		return &fs.PathError{Op: "write", Path: t.d.c.cfg.Name + ":" + joinDav(folder, TimesRecordName), Err: err}
	}
	return nil
}

var errFolderGone = errors.New("the folder no longer exists")

// write stores a record: PUT to a temporary name in the folder, then MOVE
// over the record (a reader never sees a partial record).
func (t *davTimes) write(folder string, b []byte) error {
	var rnd [6]byte
	rand.Read(rnd[:])
	// robo's temporary-file shape, so that one left by a crash is
	// cleared as a stale temporary file.
	tmp := joinDav(folder, ".robo-webdav-times."+hex.EncodeToString(rnd[:])+".tmp")
	resp, err := t.d.request(t.d.ctx, "PUT", tmp, false, bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; c {
	case http.StatusCreated, http.StatusNoContent, http.StatusOK:
	case http.StatusConflict, http.StatusNotFound:
		return errFolderGone
	default:
		return statusError{c}
	}
	hdr := map[string]string{"Destination": t.d.url(joinDav(folder, TimesRecordName), false), "Overwrite": "T"}
	if _, err := t.d.simple("MOVE", tmp, false, hdr, http.StatusCreated, http.StatusNoContent); err != nil {
		t.d.simple("DELETE", tmp, false, nil, http.StatusNoContent, http.StatusOK)
		return err
	}
	return nil
}

// saveAll writes every changed record (Conn.Close).
func (d *davConn) saveAll() error { return d.times.saveDirty() }
