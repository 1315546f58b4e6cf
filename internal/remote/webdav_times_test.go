package remote_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/remote"
	"github.com/robo-backup/robo/internal/remote/remotetest"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
)

// davCounter is a proxy in front of a WebDAV test server that records
// every request (method and path).
type davCounter struct {
	URL string
	mu  sync.Mutex
	log []string
}

func countWebDAV(t *testing.T, s *remotetest.WebDAV) *davCounter {
	c := &davCounter{}
	c.URL = proxyTo(t, s.URL, func(r *http.Request) {
		c.mu.Lock()
		c.log = append(c.log, r.Method+" "+r.URL.Path)
		c.mu.Unlock()
	}, nil) + "/"
	return c
}

func (c *davCounter) reset() {
	c.mu.Lock()
	c.log = nil
	c.mu.Unlock()
}

// recordWrites returns the folders whose record of times was written
// (PUT of the record's temporary file), sorted, one per write.
func (c *davCounter) recordWrites() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.log {
		if p, ok := strings.CutPrefix(l, "PUT "); ok && strings.HasPrefix(path.Base(p), ".robo-webdav-times.") {
			out = append(out, strings.Trim(path.Dir(p), "/"))
		}
	}
	sort.Strings(out)
	return out
}

func (c *davCounter) count(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.log {
		if strings.HasPrefix(l, method+" ") {
			n++
		}
	}
	return n
}

func davConfigVia(s *remotetest.WebDAV, c *davCounter) remote.Config {
	cfg := webdavConfig(s)
	cfg.WebDAV.URL = c.URL
	return cfg
}

// scanSet plans a mirror of src to remoteName:set on conn with the native
// engine, and returns the engine, the set's spec and the plan.
func scanSet(t *testing.T, conn *remote.Conn, src string) (engine.Engine, engine.Spec, *engine.ScanResult) {
	t.Helper()
	e := nativeOn(conn)(t)
	sp := engine.Spec{Name: "t", Source: src, Destination: remoteName + ":set", Mirror: true, CopyEmptyDirs: true, Threads: 2}
	sc, err := e.Scan(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	return e, sp, sc
}

// syncTo mirrors src to remoteName:set on conn and fails the test on any
// error or skip.
func syncTo(t *testing.T, conn *remote.Conn, src string) {
	t.Helper()
	e, sp, sc := scanSet(t, conn, src)
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, engine.Discard)
	if err != nil || len(res.Errors) > 0 || len(res.Skipped) > 0 {
		t.Fatalf("apply: %v %+v", err, res)
	}
}

// wantTimes opens "set" on conn, checks that each file of want has its
// time there (when says at what point, for the errors) and returns the
// opened set.
func wantTimes(t *testing.T, conn *remote.Conn, when string, want map[string]time.Time) vfs.FS {
	t.Helper()
	f, err := conn.Open("set")
	if err != nil {
		t.Fatal(err)
	}
	for name, mt := range want {
		if e, err := f.Stat(name); err != nil || !e.ModTime.Equal(mt) {
			t.Errorf("%s %s: %+v %v, want time %v", name, when, e, err, mt)
		}
	}
	return f
}

// pending returns the changes a plan of src to remoteName:set finds.
func pending(t *testing.T, conn *remote.Conn, src string) []string {
	t.Helper()
	_, _, sc := scanSet(t, conn, src)
	var out []string
	for _, c := range sc.Changes.Slice() {
		out = append(out, c.Action.String()+" "+c.Path)
	}
	return out
}

func readRecord(t *testing.T, file string) (version int, names []string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	var r struct {
		Version int                        `json:"version"`
		Entries map[string]json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("record %s: %v", file, err)
	}
	for n := range r.Entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return r.Version, names
}

// Each folder has its own record of times, written at Close only when
// that folder's entries changed: a run that changes nothing writes no
// record, and a run that changes one folder's files writes that folder's
// record alone.
func TestWebDAVTimesPerFolder(t *testing.T) {
	s := remotetest.StartWebDAV(t)
	c := countWebDAV(t, s)
	src := t.TempDir()
	mt := time.Date(2003, 1, 2, 3, 4, 5, 600000000, time.UTC)
	tt.Create(t, src, tt.Dir{
		"top.txt": tt.File{Content: "top", MTime: mt}, "a/1.txt": tt.File{Content: "a1", MTime: mt}, "a/2.txt": tt.File{Content: "a2", MTime: mt},
		"b/1.txt": tt.File{Content: "b1", MTime: mt}, "c/d/1.txt": tt.File{Content: "cd1", MTime: mt},
	})
	conn, err := remote.Dial(context.Background(), davConfigVia(s, c))
	if err != nil {
		t.Fatal(err)
	}
	syncTo(t, conn, src)
	if got := c.recordWrites(); len(got) != 0 {
		t.Fatalf("records written before Close: %v", got)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	// One write per folder, at Close.
	if got, want := strings.Join(c.recordWrites(), " "), "set set/a set/b set/c set/c/d"; got != want {
		t.Fatalf("records written: %s, want %s", got, want)
	}
	for dir, want := range map[string]string{"": "a b c top.txt", "a": "1.txt 2.txt", "b": "1.txt", "c": "d", "c/d": "1.txt"} {
		v, names := readRecord(t, filepath.Join(s.Root, "set", dir, remote.TimesRecordName))
		if v != 2 || strings.Join(names, " ") != want {
			t.Errorf("record of %q: version %d, entries %v, want 2 and %s", dir, v, names, want)
		}
	}

	// Nothing changed: no record is written (no PUT at all).
	c.reset()
	conn2 := dial(t, davConfigVia(s, c))
	if p := pending(t, conn2, src); len(p) != 0 {
		t.Fatalf("a new connection plans %v", p)
	}
	syncTo(t, conn2, src)
	conn2.Close()
	if n := c.count("PUT"); n != 0 {
		t.Fatalf("%d PUTs in a run that changed nothing", n)
	}

	// One file changed in b, one deleted from a: those two records, and
	// the root's, which holds a's time (changed by the deletion); not c's
	// nor c/d's.
	c.reset()
	tt.Create(t, src, tt.Dir{"b/1.txt": tt.File{Content: "B1", MTime: mt.Add(time.Hour)}})
	os.Remove(filepath.Join(src, "a", "2.txt"))
	conn3 := dial(t, davConfigVia(s, c))
	syncTo(t, conn3, src)
	conn3.Close()
	if got, want := strings.Join(c.recordWrites(), " "), "set set/a set/b"; got != want {
		t.Fatalf("records written after changes in a and b: %s, want %s", got, want)
	}
	conn4 := dial(t, davConfigVia(s, c))
	if p := pending(t, conn4, src); len(p) != 0 {
		t.Fatalf("after the changes a new connection plans %v", p)
	}
	f := wantTimes(t, conn4, "after the changes", map[string]time.Time{"b/1.txt": mt.Add(time.Hour), "top.txt": mt, "c/d/1.txt": mt})
	if _, err := f.Stat("a/2.txt"); err == nil {
		t.Error("a/2.txt still there")
	}
	// A folder robo deletes goes with its record; a folder holding only
	// its record is empty for robo.
	os.RemoveAll(filepath.Join(src, "c"))
	syncTo(t, conn4, src)
	if _, err := os.Stat(filepath.Join(s.Root, "set", "c")); !os.IsNotExist(err) {
		t.Fatalf("set/c after its source was deleted: %v", err)
	}
}

// A version-1 record (one for the whole tree, at its root) is read: its
// times stand, and a plan writes nothing. The first run that changes
// something converts it into one record per folder and the root's record
// becomes version 2, with no time lost; hostile names in it are ignored.
func TestWebDAVTimesMigration(t *testing.T) {
	s := remotetest.StartWebDAV(t)
	c := countWebDAV(t, s)
	mt := time.Date(2004, 5, 6, 7, 8, 9, 100000000, time.UTC)
	tree := tt.Dir{"top.txt": tt.File{Content: "top", MTime: mt}, "sub/x.txt": tt.File{Content: "xx", MTime: mt}, "sub/deeper/y.txt": tt.File{Content: "yyy", MTime: mt}}
	src := t.TempDir()
	tt.Create(t, src, tree)
	set := filepath.Join(s.Root, "set")
	tt.Create(t, set, tree)
	entries := map[string]map[string]any{}
	for _, name := range []string{"top.txt", "sub/x.txt", "sub/deeper/y.txt", "sub", "sub/deeper"} {
		fi, err := os.Stat(filepath.Join(set, name))
		if err != nil {
			t.Fatal(err)
		}
		r := map[string]any{"size": fi.Size(), "server": fi.ModTime().Unix(), "mtime": mt.UnixNano()}
		if fi.IsDir() {
			r = map[string]any{"dir": true, "size": 0, "server": fi.ModTime().Unix(), "mtime": mt.UnixNano()}
		}
		entries[name] = r
	}
	// Hostile names a damaged or planted record may hold.
	for _, name := range []string{"../evil.txt", "/abs.txt", "sub/../../evil2.txt", "a\x00b", "..", "sub//x.txt", "sub/" + remote.TimesRecordName} {
		entries[name] = map[string]any{"size": 3, "server": 1, "mtime": 2}
	}
	b, _ := json.Marshal(map[string]any{"version": 1, "entries": entries})
	if err := os.WriteFile(filepath.Join(set, remote.TimesRecordName), b, 0o644); err != nil {
		t.Fatal(err)
	}

	conn := dial(t, davConfigVia(s, c))
	wantTimes(t, conn, "through a version-1 record", map[string]time.Time{"top.txt": mt, "sub/x.txt": mt, "sub/deeper/y.txt": mt})
	if p := pending(t, conn, src); len(p) != 0 {
		t.Fatalf("plan over a version-1 record: %v", p)
	}
	conn.Close()
	if n := c.count("PUT"); n != 0 {
		t.Fatalf("a plan wrote %d times", n)
	}
	if v, _ := readRecord(t, filepath.Join(set, remote.TimesRecordName)); v != 1 {
		t.Fatalf("the version-1 record became version %d without a change", v)
	}

	// A change: the migration.
	tt.Create(t, src, tt.Dir{"top.txt": tt.File{Content: "TOP", MTime: mt.Add(time.Minute)}})
	conn2 := dial(t, davConfigVia(s, c))
	syncTo(t, conn2, src)
	if err := conn2.Close(); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{"": "sub top.txt", "sub": "deeper x.txt", "sub/deeper": "y.txt"} {
		v, names := readRecord(t, filepath.Join(set, dir, remote.TimesRecordName))
		if v != 2 || strings.Join(names, " ") != want {
			t.Errorf("record of %q after the migration: version %d, entries %v, want 2 and %s", dir, v, names, want)
		}
	}
	for _, p := range []string{"evil.txt", "abs.txt", "evil2.txt", filepath.Join("set", "a")} {
		if _, err := os.Stat(filepath.Join(s.Root, p)); err == nil {
			t.Errorf("%s exists", p)
		}
	}
	conn3 := dial(t, webdavConfig(s))
	wantTimes(t, conn3, "after the migration", map[string]time.Time{"top.txt": mt.Add(time.Minute), "sub/x.txt": mt, "sub/deeper/y.txt": mt})
	if p := pending(t, conn3, src); len(p) != 0 {
		t.Fatalf("plan after the migration: %v", p)
	}
}

// A damaged record, one of an unknown version and one bigger than the
// bound are not trusted: the server's times stand (the files are
// uploaded again, nothing is lost), and robo's next write replaces them.
func TestWebDAVTimesUntrusted(t *testing.T) {
	defer remote.SetWebDAVMaxRecord(4096)()
	s := remotetest.StartWebDAV(t)
	mt := time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC)
	src := t.TempDir()
	tt.Create(t, src, tt.Dir{"ok/f": tt.File{Content: "f", MTime: mt}, "bad/f": tt.File{Content: "f", MTime: mt}, "foreign/f": tt.File{Content: "f", MTime: mt}, "big/f": tt.File{Content: "f", MTime: mt}})
	conn := dial(t, webdavConfig(s))
	syncTo(t, conn, src)
	conn.Close()
	set := filepath.Join(s.Root, "set")
	good, err := os.ReadFile(filepath.Join(set, "ok", remote.TimesRecordName))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(set, "bad", remote.TimesRecordName), good[:len(good)/2], 0o644)
	os.WriteFile(filepath.Join(set, "foreign", remote.TimesRecordName), []byte(strings.Replace(string(good), `"version":2`, `"version":99`, 1)), 0o644)
	os.WriteFile(filepath.Join(set, "big", remote.TimesRecordName), []byte(strings.Replace(string(good), `"entries"`, `"pad":"`+strings.Repeat("x", 5000)+`","entries"`, 1)), 0o644)
	conn2 := dial(t, webdavConfig(s))
	got := pending(t, conn2, src)
	if strings.Join(got, ",") != "update bad/f,update big/f,update foreign/f" {
		t.Fatalf("changes over untrusted records: %v", got)
	}
	syncTo(t, conn2, src)
	conn2.Close()
	if p := pending(t, dial(t, webdavConfig(s)), src); len(p) != 0 {
		t.Fatalf("after robo wrote again: %v", p)
	}
}

// A connection holds a bounded number of folders' records: with the bound
// lowered to 4, a tree of 24 folders is written and read back with every
// time kept, and no more than the bound (plus the folders being read at
// that moment) was ever in memory.
func TestWebDAVTimesCacheBound(t *testing.T) {
	const bound = 4
	defer remote.SetWebDAVCachedDirs(bound)()
	s := remotetest.StartWebDAV(t)
	mt := time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC)
	tree := tt.Dir{}
	for i := 0; i < 24; i++ {
		d := string(rune('a'+i%6)) + "/" + string(rune('a'+i))
		tree[d+"/1"] = tt.File{Content: "1", MTime: mt}
		tree[d+"/2"] = tt.File{Content: "22", MTime: mt}
	}
	src := t.TempDir()
	tt.Create(t, src, tree)
	conn, err := remote.Dial(context.Background(), webdavConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	syncTo(t, conn, src)
	now, peak := remote.WebDAVCachedDirs(conn)
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	// The scan reads 8 folders at once; each is in memory while read.
	if now > bound || peak > bound+8 {
		t.Errorf("folders' records in memory: %d now, %d at most, bound %d", now, peak, bound)
	}
	conn2 := dial(t, webdavConfig(s))
	if p := pending(t, conn2, src); len(p) != 0 {
		t.Fatalf("after a run with a small cache: %v", p)
	}
	if now, peak := remote.WebDAVCachedDirs(conn2); now > bound || peak > bound+8 {
		t.Errorf("a scan held %d folders' records, %d at most, bound %d", now, peak, bound)
	}
}
