package remote_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/enginetest"
	"github.com/robo-backup/robo/internal/remote"
	"github.com/robo-backup/robo/internal/remote/remotetest"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
)

func webdavConfig(s *remotetest.WebDAV) remote.Config {
	return remote.Config{Name: remoteName, Type: "webdav", Timeout: 10 * time.Second, WebDAV: remote.WebDAV{
		URL: s.URL, User: s.User, Password: []byte(s.Password)}}
}

// TestEngineConformanceWebDAV runs the engine conformance suite with the
// native engine writing to rclone's WebDAV server on loopback, whose
// directory the suite inspects locally: the destination dst of a case is
// Root/<case dir>/dst, reached as offsite:<case dir>/dst.
func TestEngineConformanceWebDAV(t *testing.T) {
	s := remotetest.StartWebDAV(t)
	conn := dial(t, webdavConfig(s))
	enginetest.RunWith(t, nativeOn(conn), enginetest.Options{
		Dirs: func(t *testing.T) (string, string) {
			d, err := os.MkdirTemp(s.Root, "case")
			if err != nil {
				t.Fatal(err)
			}
			return filepath.Join(t.TempDir(), "src"), filepath.Join(d, "dst")
		},
		Root: func(dir string) string {
			if rel, err := filepath.Rel(s.Root, dir); err == nil && !strings.HasPrefix(rel, "..") {
				return remoteName + ":" + filepath.ToSlash(rel)
			}
			return dir
		},
		Skip:           map[string]string{"Symlinks": "a WebDAV server holds no symbolic links"},
		NoModes:        true,
		NoFileTimes:    true,
		TimeResolution: remote.WebDAVTimePrecision,
	})
}

// The times robo gives files on WebDAV survive a new connection (they are
// in the records in each folder, which no listing shows), and a file
// changed on the server behind robo's back shows the server's time again.
func TestWebDAVRecordedTimes(t *testing.T) {
	s := remotetest.StartWebDAV(t)
	conn := dial(t, webdavConfig(s))
	src := t.TempDir()
	mt := time.Date(2001, 9, 9, 1, 46, 40, 123456789, time.UTC)
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "alpha", MTime: mt}, "sub/b.txt": tt.File{Content: "beta", MTime: mt}})
	e := nativeOn(conn)(t)
	sp := engine.Spec{Name: "t", Source: src, Destination: remoteName + ":set", Mirror: true, CopyEmptyDirs: true, Threads: 2}
	sc, err := e.Scan(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, engine.Discard); err != nil || len(res.Errors) > 0 {
		t.Fatalf("apply: %v %v", err, res)
	}
	// On disk the server kept its own times.
	if fi, err := os.Stat(filepath.Join(s.Root, "set", "a.txt")); err != nil || fi.ModTime().Year() == 2001 {
		t.Fatalf("the server's file: %v %v (this test expects a server that ignores client times)", fi, err)
	}
	conn.Close()
	if _, err := os.Stat(filepath.Join(s.Root, "set", remote.TimesRecordName)); err != nil {
		t.Fatalf("no record of times after Close: %v", err)
	}

	conn2 := dial(t, webdavConfig(s))
	f, err := conn2.Open("set")
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.ReadDir("")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name)
	}
	if strings.Join(names, " ") != "a.txt sub" {
		t.Fatalf("listing %v (the record must not show)", names)
	}
	if !list[0].ModTime.Equal(mt) {
		t.Errorf("a.txt time %v, want the recorded %v", list[0].ModTime, mt)
	}
	if got, _ := f.Stat("sub/b.txt"); !got.ModTime.Equal(mt) {
		t.Errorf("sub/b.txt time %v, want %v", got.ModTime, mt)
	}
	e2 := nativeOn(conn2)(t)
	if again, err := e2.Scan(context.Background(), sp); err != nil || again.Changes.Len() != 0 {
		t.Fatalf("a new connection plans changes: %v %v", err, again)
	}
	// Someone rewrites a.txt on the server (same size): its time is the
	// server's again, so robo sees a difference.
	time.Sleep(1100 * time.Millisecond) // the server's clock must move to the next second
	if r := s.Do(t, "PUT", "set/a.txt", []byte("ALPHA"), nil); r.StatusCode/100 != 2 {
		t.Fatal(r)
	}
	if got, _ := f.Stat("a.txt"); got.ModTime.Equal(mt) {
		t.Fatal("a file rewritten on the server still shows robo's recorded time")
	}
	if again, _ := e2.Scan(context.Background(), sp); again.Changes.Len() != 1 || again.Changes.Slice()[0].Path != "a.txt" {
		t.Fatalf("changes after a server-side rewrite: %+v", again.Changes)
	}
	// The record's name is reserved.
	w, tmp, err := f.CreateTemp("", ".robo-x.", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := f.Rename(tmp, remote.TimesRecordName); err == nil {
		t.Fatal("a file was renamed over the record of times")
	}
}

// Remove refuses a directory that is not empty (WebDAV's DELETE would
// take everything in it), Rename does not replace a directory, Mkdir of an
// existing directory is not an error and reports a file in the way, and
// a missing file is fs.ErrNotExist.
func TestWebDAVFSContract(t *testing.T) {
	s := remotetest.StartWebDAV(t)
	conn := dial(t, webdavConfig(s))
	f, err := conn.Open("c")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.MkdirAll("x/y"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(s.Root, "c/x/y/keep"), []byte("k"), 0o644)
	os.WriteFile(filepath.Join(s.Root, "c/file"), []byte("f"), 0o644)
	if err := f.Remove("x/y"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Fatalf("Remove of a full directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root, "c/x/y/keep")); err != nil {
		t.Fatal("a file inside a directory was deleted")
	}
	w, tmp, err := f.CreateTemp("", ".robo-t.", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "new")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename(tmp, "x"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Rename over a directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root, "c/x/y/keep")); err != nil {
		t.Fatal("Rename replaced a directory")
	}
	if err := f.Rename(tmp, "file"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Root, "c/file")); string(b) != "new" {
		t.Fatalf("file holds %q after Rename over it", b)
	}
	if err := f.Mkdir("x", 0o755); err != nil {
		t.Fatalf("Mkdir of an existing dir: %v", err)
	}
	if err := f.Mkdir("file", 0o755); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Mkdir over a file: %v", err)
	}
	for _, op := range []func() error{
		func() error { _, err := f.Stat("nope"); return err },
		func() error { _, err := f.Open("nope"); return err },
		func() error { _, err := f.ReadDir("nope"); return err },
		func() error { return f.Remove("nope") },
	} {
		if err := op(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("missing entry: %v, want fs.ErrNotExist", err)
		}
	}
	if err := f.Remove("x/y/keep"); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove("x/y"); err != nil {
		t.Fatal(err)
	}
	r, err := f.Open("file")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "new" {
		t.Fatalf("read %q", b)
	}
	// Names that need escaping in a URL.
	for _, name := range []string{"a b", "100%", "q?x", "h#1", "ü"} {
		w, tmp, err := f.CreateTemp("", ".robo-e.", 0o644)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, name)
		w.Close()
		if err := f.Rename(tmp, name); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if b, err := os.ReadFile(filepath.Join(s.Root, "c", name)); err != nil || string(b) != name {
			t.Fatalf("%q on disk: %q %v", name, b, err)
		}
	}
}

// A wrong password, a URL with no collection, and an unreachable server
// each give an error saying which, naming the remote, the server and the
// user, and never the password.
func TestWebDAVDialErrors(t *testing.T) {
	s := remotetest.StartWebDAV(t)
	cases := []struct {
		name   string
		change func(*remote.Config)
		want   error
		text   string
	}{
		{"WrongPassword", func(c *remote.Config) { c.WebDAV.Password = []byte("canary-webdav-password") }, remote.ErrAuth, "refused the credentials"},
		{"NoCollection", func(c *remote.Config) { c.WebDAV.URL += "missing/" }, nil, "names no collection"},
		{"Unreachable", func(c *remote.Config) { c.WebDAV.URL = "http://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/" }, vfs.ErrUnreachable, "nothing answered"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := webdavConfig(s)
			tc.change(&cfg)
			_, err := remote.Dial(context.Background(), cfg)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			msg := err.Error()
			for _, want := range []string{"remote " + remoteName, "http://127.0.0.1:", "user " + s.User, tc.text} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q does not say %q", msg, want)
				}
			}
			if strings.Contains(msg, string(cfg.WebDAV.Password)) || strings.Contains(msg, s.Password) {
				t.Errorf("the error holds the password: %q", msg)
			}
		})
	}
	// The server dies after the connection is made: operations fail as
	// unreachable (the engine then stops the set at once).
	conn := dial(t, webdavConfig(s))
	f, err := conn.Open("")
	if err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if _, err := f.ReadDir(""); !errors.Is(err, vfs.ErrUnreachable) {
		t.Fatalf("after the server died: %v", err)
	}
}
