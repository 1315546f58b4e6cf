package remote_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/robo-backup/robo/internal/remote"
	"github.com/robo-backup/robo/internal/remote/remotetest"
	"github.com/robo-backup/robo/internal/vfs"
)

// walkAll reads every folder under fsys with ReadDir and returns one line
// per entry (path, kind, size, mtime).
func walkAll(t *testing.T, fsys vfs.FS) []string {
	t.Helper()
	var out []string
	var walk func(dir string)
	walk = func(dir string) {
		es, err := fsys.ReadDir(dir)
		if err != nil {
			t.Fatalf("readdir %q: %v", dir, err)
		}
		for _, e := range es {
			p := vfs.Join(dir, e.Name)
			out = append(out, fmt.Sprintf("%s %v %d %d", p, e.Kind, e.Size, e.ModTime.UnixNano()))
			if e.Kind == vfs.Dir {
				walk(p)
			}
		}
	}
	walk("")
	sort.Strings(out)
	return out
}

// TestAzureScanListsFlat: a scan of an Azure folder reads the subtree in
// flat listings (docs/offsite.md, "Listing"), not one listing per folder,
// and sees exactly what the per-folder listing sees, also when the flat
// listing stops inside the tree; a file this FS writes after a flat
// listing is in the next ReadDir of its folder.
func TestAzureScanListsFlat(t *testing.T) {
	s := remotetest.StartAzurite(t)
	var lists atomic.Int64
	proxy := proxyTo(t, s.Endpoint, func(r *http.Request) {
		if r.URL.Query().Get("comp") == "list" {
			lists.Add(1)
		}
	}, nil)
	cfg := azureConfig(s)
	cfg.Azure.Endpoint = proxy + "/" + s.Account
	conn, err := remote.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// 3 folders of 3 folders, files in each, a folder marker, a name
	// both a file and a folder (the file wins), and "a-b", which sorts
	// between "a" and "a/".
	var names []string
	for _, a := range []string{"a", "b", "c"} {
		names = append(names, a+"/f")
		for _, b := range []string{"x", "y", "z"} {
			names = append(names, a+"/"+b+"/1", a+"/"+b+"/2")
		}
	}
	names = append(names, "a-b", "top", "c/x")
	put := func(key string, body []byte) {
		if r := s.Do(t, "PUT", key, body, http.Header{"X-Ms-Blob-Type": {"BlockBlob"}}); r.StatusCode != 201 {
			t.Fatalf("put %s: %s", key, r)
		}
	}
	for _, n := range names {
		put("flat/"+n, []byte(strings.Repeat("x", len(n))))
	}
	put("flat/b/y/", nil) // a marker
	folders := int64(1 + 3 + 9)

	scan := func(batch int) ([]string, int64) {
		defer remote.SetFlatBatch(batch)()
		fsys, err := conn.Open("flat")
		if err != nil {
			t.Fatal(err)
		}
		lists.Store(0)
		got := walkAll(t, fsys)
		return got, lists.Load()
	}
	want, perFolder := scan(0)
	if perFolder < folders-1 { // c/x is a file, so c/x/ is not listed
		t.Fatalf("per-folder scan: %d listings for %d folders", perFolder, folders)
	}
	if len(want) < len(names) {
		t.Fatalf("per-folder scan saw %d entries: %q", len(want), want)
	}
	got, flat := scan(10000)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flat scan:\n got %q\nwant %q", got, want)
	}
	if flat != 1 {
		t.Errorf("flat scan: %d listings, want 1 (per folder: %d)", flat, perFolder)
	}
	// A batch of 5 (pages of 5) stops inside the tree: the scan still
	// sees the same, in more listings than one and fewer than per folder
	// (what a listing that stopped holds whole is kept).
	got, partial := scan(5)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flat scan in batches of 5:\n got %q\nwant %q", got, want)
	}
	if partial <= 1 || partial >= perFolder+folders {
		t.Errorf("flat scan in batches of 5: %d listings (per folder %d)", partial, perFolder)
	}
	t.Logf("listings: per folder %d, flat %d, batches of 5 %d", perFolder, flat, partial)

	// A write forgets the listings kept: after reading the top, write a
	// file in a/x, whose listing was kept from the top's.
	fsys, err := conn.Open("flat")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.ReadDir(""); err != nil {
		t.Fatal(err)
	}
	if _, skip, err := engineWrite(t, fsys, "a/x/new", "new", nil); err != nil || skip != "" {
		t.Fatalf("write: %q %v", skip, err)
	}
	es, err := fsys.ReadDir("a/x")
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	for _, e := range es {
		in = append(in, e.Name)
	}
	if !reflect.DeepEqual(in, []string{"1", "2", "new"}) {
		t.Errorf("a/x after a write: %q, want [1 2 new]", in)
	}
}
