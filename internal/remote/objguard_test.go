package remote_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/remote"
	"github.com/robo-backup/robo/internal/remote/remotetest"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
)

// engineWrite does what the native engine does for a new or changed file
// on an object store: its guard (a Stat of the name), then CreateFinal,
// the bytes, and Commit, whose expect sees the entry the commit is tied
// to. between runs after the guard, before the commit.
func engineWrite(t *testing.T, fsys vfs.FS, name, content string, between func()) (saw *vfs.Entry, skip string, err error) {
	t.Helper()
	if _, err := fsys.Stat(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat %s: %v", name, err)
	}
	if between != nil {
		between()
	}
	w, err := fsys.(vfs.AtomicCreator).CreateFinal(name, 0o644, tt.Base)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, content)
	skip, err = w.Commit(func(now *vfs.Entry) string {
		if now != nil {
			c := *now
			saw = &c
		}
		return ""
	})
	return saw, skip, err
}

func readAll(t *testing.T, fsys vfs.FS, name string) string {
	t.Helper()
	r, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testGuardReuse: Commit ties a small file's store to the engine's own
// guard (the Stat just before the upload) instead of reading the name
// again, and what makes that safe is the conditional write: an object
// written by someone else after the guard, for a new name and for a
// changed one, is never overwritten (the commit reports a skip). A rename
// robo made after the guard (the versions folder) is seen: the commit
// reads the name again and stores the file as new.
func testGuardReuse(t *testing.T, st objectStore) {
	bucket, err := st.conn.Open("reuse")
	if err != nil {
		t.Fatal(err)
	}
	if err := bucket.MkdirAll("d"); err != nil {
		t.Fatal(err)
	}
	t.Run("NewNameWrittenBySomeoneElse", func(t *testing.T) {
		_, skip, err := engineWrite(t, bucket, "d/new", "robo", func() { st.put(t, "reuse/d/new", "someone else") })
		if err != nil || skip == "" {
			t.Fatalf("skip %q, err %v: want a skip", skip, err)
		}
		if got := readAll(t, bucket, "d/new"); got != "someone else" {
			t.Fatalf("overwritten: %q", got)
		}
	})
	t.Run("ChangedBySomeoneElse", func(t *testing.T) {
		st.put(t, "reuse/d/old", "before")
		saw, skip, err := engineWrite(t, bucket, "d/old", "robo", func() { st.put(t, "reuse/d/old", "someone else") })
		if err != nil || skip == "" {
			t.Fatalf("skip %q, err %v: want a skip", skip, err)
		}
		if saw == nil || saw.Size != int64(len("before")) {
			t.Errorf("expect saw %+v, want the object the guard saw", saw)
		}
		if got := readAll(t, bucket, "d/old"); got != "someone else" {
			t.Fatalf("overwritten: %q", got)
		}
	})
	t.Run("RenamedByRobo", func(t *testing.T) {
		st.put(t, "reuse/d/moved", "before")
		saw, skip, err := engineWrite(t, bucket, "d/moved", "robo", func() {
			if err := bucket.Rename("d/moved", "d/moved.old"); err != nil {
				t.Fatal(err)
			}
		})
		if err != nil || skip != "" {
			t.Fatalf("skip %q, err %v", skip, err)
		}
		if saw != nil {
			t.Errorf("expect saw %+v after the rename, want nothing", saw)
		}
		if got := readAll(t, bucket, "d/moved"); got != "robo" {
			t.Fatalf("got %q", got)
		}
		if got := readAll(t, bucket, "d/moved.old"); got != "before" {
			t.Fatalf("the renamed file: %q", got)
		}
	})
	// A file of a whole number of chunks above the threshold: its last
	// part is sent by Write, and Commit has only to complete it
	// (threshold 6 MiB, chunk 5 MiB in these tests).
	t.Run("WholeChunksNew", func(t *testing.T) {
		big := strings.Repeat("y", 10<<20)
		if _, skip, err := engineWrite(t, bucket, "d/chunks", big, nil); err != nil || skip != "" {
			t.Fatalf("skip %q, err %v", skip, err)
		}
		if got := readAll(t, bucket, "d/chunks"); got != big {
			t.Fatalf("got %d bytes, want %d", len(got), len(big))
		}
	})
	t.Run("Unchanged", func(t *testing.T) {
		st.put(t, "reuse/d/same", "before")
		saw, skip, err := engineWrite(t, bucket, "d/same", "robo", nil)
		if err != nil || skip != "" || saw == nil {
			t.Fatalf("skip %q, err %v, saw %+v", skip, err, saw)
		}
		if got := readAll(t, bucket, "d/same"); got != "robo" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestS3GuardReuse(t *testing.T)    { testGuardReuse(t, s3Store(t)) }
func TestAzureGuardReuse(t *testing.T) { testGuardReuse(t, azureStore(t)) }

// testStatInNewDir: in a directory this connection made, Stat answers
// from one HEAD of the name; it must give the same answers as anywhere
// else for a file someone else wrote there (with the time robo's
// metadata holds), a folder robo made there, a name that many other keys
// start with, and nothing. A folder someone else made there during the
// run (keys under the name) is the one thing it does not look for
// (docs/offsite.md): another FS, which did not make the parent, sees it.
func testStatInNewDir(t *testing.T, st objectStore) {
	bucket, err := st.conn.Open("stat")
	if err != nil {
		t.Fatal(err)
	}
	if err := bucket.MkdirAll("new/sub"); err != nil {
		t.Fatal(err)
	}
	other, err := st.conn.Open("stat")
	if err != nil {
		t.Fatal(err)
	}
	// A file with robo's time, written through another FS (its own
	// guard and commit), so that this FS has not seen it.
	fsTree{fsys: other}.write(t, "new/file", "content", tt.Base)
	st.put(t, "stat/new/file.bak", "x")
	st.put(t, "stat/new/dir/inside", "x")
	st.put(t, "stat/new/dir.txt", "x")
	for i := 0; i < 20; i++ {
		st.put(t, "stat/new/many"+strings.Repeat("x", i+1), "x")
	}
	st.put(t, "stat/new/manyfile", "many")
	cases := []struct {
		name string
		kind vfs.Kind
		size int64
		gone bool
	}{
		{name: "new/file", kind: vfs.File, size: int64(len("content"))},
		{name: "new/sub", kind: vfs.Dir},
		{name: "new/dir", gone: true},
		{name: "new/manyfile", kind: vfs.File, size: 4},
		{name: "new/many", gone: true},
		{name: "new/absent", gone: true},
		{name: "new/fil", gone: true},
	}
	for _, c := range cases {
		e, err := bucket.Stat(c.name)
		switch {
		case c.gone:
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: got %+v, %v; want not found", c.name, e, err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case e.Kind != c.kind || e.Kind == vfs.File && e.Size != c.size:
			t.Errorf("%s: got %+v, want a %v of %d bytes", c.name, e, c.kind, c.size)
		}
	}
	if e, err := bucket.Stat("new/file"); err != nil || !e.ModTime.Equal(tt.Base) {
		t.Errorf("new/file: %+v %v, want the time robo stored (%v)", e, err, tt.Base)
	}
	if e, err := other.Stat("new/dir"); err != nil || e.Kind != vfs.Dir {
		t.Errorf("new/dir through an FS that did not make new: %+v %v, want a folder", e, err)
	}
}

func TestS3StatInNewDir(t *testing.T)    { testStatInNewDir(t, s3Store(t)) }
func TestAzureStatInNewDir(t *testing.T) { testStatInNewDir(t, azureStore(t)) }

// TestS3RequestsPerNewFile counts the requests robo sends for new small
// files in a directory it made (the first copy of a tree): the engine's
// guard is one HEAD, and the file one PUT; nothing else, and no listing
// (the commit ties its conditional write to the guard, the parent is a
// directory robo made). A new folder is the same: one HEAD and one PUT
// (its marker, with its time). docs/offsite.md, "What the plan counts",
// states the same.
func TestS3RequestsPerNewFile(t *testing.T) {
	s := remotetest.StartS3(t)
	testRequestsPerNewFile(t, s.Endpoint, func(proxy string) remote.Config {
		cfg := s3Config(s)
		cfg.S3.Endpoint = proxy
		return cfg
	})
}

// TestAzureRequestsPerNewFile: the same on Azure, where a listing per
// name made Azurite walk the whole container for each new file.
func TestAzureRequestsPerNewFile(t *testing.T) {
	s := remotetest.StartAzurite(t)
	testRequestsPerNewFile(t, s.Endpoint, func(proxy string) remote.Config {
		cfg := azureConfig(s)
		cfg.Azure.Endpoint = proxy + "/" + s.Account
		return cfg
	})
}

// proxyTo starts a reverse proxy to endpoint's host, closed in Cleanup,
// and returns its URL. before, when not nil, sees each request before it
// is passed on; after, when not nil, once it was answered.
func proxyTo(t *testing.T, endpoint string, before, after func(*http.Request)) string {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	rp := httputil.NewSingleHostReverseProxy(u)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if before != nil {
			before(r)
		}
		rp.ServeHTTP(w, r)
		if after != nil {
			after(r)
		}
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL
}

// testRequestsPerNewFile writes new small files through a counting proxy
// in front of endpoint; config gives the remote's configuration for the
// proxy's URL.
func testRequestsPerNewFile(t *testing.T, endpoint string, config func(proxy string) remote.Config) {
	var n atomic.Int64
	var methods methodCount
	proxy := proxyTo(t, endpoint, func(r *http.Request) {
		n.Add(1)
		methods.add(r.Method)
	}, nil)
	conn, err := remote.Dial(context.Background(), config(proxy))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bucket, err := conn.Open("count")
	if err != nil {
		t.Fatal(err)
	}
	if err := bucket.MkdirAll("d"); err != nil {
		t.Fatal(err)
	}
	n.Store(0)
	methods.reset()
	const files = 10
	for i := 0; i < files; i++ {
		name := "d/f" + string(rune('a'+i)) + ".dat"
		if _, skip, err := engineWrite(t, bucket, name, strings.Repeat("x", 1000+i), nil); err != nil || skip != "" {
			t.Fatalf("%s: skip %q, err %v", name, skip, err)
		}
	}
	if got, want := methods.String(), fmt.Sprintf("HEAD %d, PUT %d", files, files); n.Load() != 2*files || got != want {
		t.Errorf("%d requests for %d new files (%s), want %s", n.Load(), files, got, want)
	}
	// The folder robo made is known: the engine's look before it sets
	// the folder's time asks nothing, and the time is one PUT (its
	// marker).
	n.Store(0)
	methods.reset()
	if e, err := bucket.Stat("d"); err != nil || e.Kind != vfs.Dir {
		t.Fatalf("d: %+v %v", e, err)
	}
	if err := bucket.Chtimes("d", tt.Base); err != nil {
		t.Fatal(err)
	}
	if got := methods.String(); got != "PUT 1" {
		t.Errorf("the look at a folder robo made and setting its time: %s, want PUT 1", got)
	}
	// A new folder made with its time (vfs.TimedMkdirer, as the engine
	// makes one): the look (a HEAD: its parent is a folder robo made) and
	// its marker (one PUT); the engine's look before setting its time and
	// setting that same time ask nothing.
	n.Store(0)
	methods.reset()
	if _, err := bucket.Stat("d/sub"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("d/sub before it is made: %v", err)
	}
	if err := bucket.(vfs.TimedMkdirer).MkdirTime("d/sub", 0o755, tt.Base); err != nil {
		t.Fatal(err)
	}
	if e, err := bucket.Stat("d/sub"); err != nil || e.Kind != vfs.Dir || !e.ModTime.Equal(tt.Base) {
		t.Fatalf("d/sub: %+v %v", e, err)
	}
	if err := bucket.Chtimes("d/sub", tt.Base); err != nil {
		t.Fatal(err)
	}
	if got := methods.String(); got != "HEAD 1, PUT 1" {
		t.Errorf("a new folder with its time: %s, want HEAD 1, PUT 1", got)
	}
	// Through the engine: a tree of new folders, each with a file, in a
	// new destination.
	src := t.TempDir()
	tt.Create(t, src, tt.Dir{"x": tt.Dir{"1": tt.File{Content: "1"}}, "y": tt.Dir{"2": tt.File{Content: "2"}, "z": tt.Dir{"3": tt.File{Content: "3"}}}})
	e := nativeOn(conn)(t)
	sp := engine.Spec{Name: "t", Source: src, Destination: remoteName + ":count/new", CopyEmptyDirs: true, Threads: 2}
	sc, err := e.Scan(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	n.Store(0)
	methods.reset()
	if res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, engine.Discard); err != nil || len(res.Errors) > 0 || len(res.Skipped) > 0 {
		t.Fatalf("apply: %v %+v", err, res)
	}
	// The root (new): the look (a listing), its marker, and its time
	// once its files are in (PUT); per folder and per file a HEAD and a
	// PUT. Before folders were made with their time, each folder cost a
	// second PUT (PUT 11).
	if got := methods.String(); got != "GET 1, HEAD 6, PUT 8" {
		t.Errorf("the engine's requests for a new root with 3 new folders and 3 files: %s, want GET 1, HEAD 6, PUT 8", got)
	}
	reopened, err := conn.Open("count/new")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"x", "y", "y/z"} {
		if e, err := reopened.Stat(d); err != nil || e.Kind != vfs.Dir || !e.ModTime.Equal(tt.Base) {
			t.Errorf("%s: %+v %v, want a folder with time %v", d, e, err, tt.Base)
		}
	}
	for i := 0; i < files; i++ {
		name := "d/f" + string(rune('a'+i)) + ".dat"
		if got := readAll(t, bucket, name); got != strings.Repeat("x", 1000+i) {
			t.Fatalf("%s: %d bytes", name, len(got))
		}
		if e, err := bucket.Stat(name); err != nil || !e.ModTime.Equal(tt.Base) {
			t.Fatalf("%s: %+v %v, want the time %v", name, e, err, tt.Base)
		}
	}
}

// methodCount counts requests by method.
type methodCount struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *methodCount) add(m string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[m]++
}

func (c *methodCount) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

func (c *methodCount) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k, v := range c.m {
		out = append(out, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
