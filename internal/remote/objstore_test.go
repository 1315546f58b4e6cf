package remote_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine/enginetest"
	"github.com/robo-backup/robo/internal/remote"
	"github.com/robo-backup/robo/internal/remote/remotetest"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
)

func s3Config(s *remotetest.S3) remote.Config {
	return remote.Config{Name: remoteName, Type: "s3", Timeout: 10 * time.Second, MultipartThreshold: 6 << 20, ChunkSize: 5 << 20, S3: remote.S3{
		Endpoint: s.Endpoint, Region: s.Region, Bucket: s.Bucket, PathStyle: true,
		AccessKeyID: s.AccessKey, SecretAccessKey: []byte(s.SecretKey)}}
}

// fsTree is an enginetest.Tree on the root of a bucket or container: the
// suite's local-looking destination paths are keys (the path without its
// leading slash), and trees are made and read through the vfs.FS, as robo
// sees them (Azurite keeps no files a test could read, and versitygw's
// files do not carry robo's mtime metadata as their times).
//
// The engine writes through FSes of its own, and an FS trusts what it
// made and saw itself (a folder it made is not looked for again): so the
// suite's tree opens a fresh FS for each operation (open), as another
// tool would see the store; fsys is used when open is nil.
type fsTree struct {
	fsys vfs.FS
	open func() vfs.FS
}

func (b fsTree) fs() vfs.FS {
	if b.open != nil {
		return b.open()
	}
	return b.fsys
}

func (b fsTree) rel(p string) string { return strings.Trim(filepath.ToSlash(p), "/") }

func (b fsTree) write(t *testing.T, name, content string, mtime time.Time) {
	t.Helper()
	fsys := b.fs()
	if err := fsys.MkdirAll(pathDir(name)); err != nil {
		t.Fatal(err)
	}
	w, err := fsys.(vfs.AtomicCreator).CreateFinal(name, 0o644, mtime)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	if skip, err := w.Commit(func(*vfs.Entry) string { return "" }); err != nil || skip != "" {
		t.Fatalf("write %s: %v %s", name, err, skip)
	}
}

func pathDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func (b fsTree) Create(t *testing.T, root string, tree tt.Dir) {
	t.Helper()
	fsys := b.fs()
	r := b.rel(root)
	if err := fsys.MkdirAll(r); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	var walk func(dir string, d tt.Dir)
	walk = func(dir string, d tt.Dir) {
		names := make([]string, 0, len(d))
		for n := range d {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			p := vfs.Join(dir, n)
			switch v := d[n].(type) {
			case tt.File:
				mt := v.MTime
				if mt.IsZero() {
					mt = tt.Base
				}
				b.write(t, p, v.Content, mt)
			case tt.Dir:
				if err := fsys.MkdirAll(p); err != nil {
					t.Fatal(err)
				}
				walk(p, v)
				dirs = append(dirs, p)
			default:
				t.Fatalf("fsTree: %T at %s (an object store holds files and directories only)", v, n)
			}
		}
	}
	walk(r, tree)
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := fsys.Chtimes(dirs[i], tt.Base); err != nil {
			t.Fatal(err)
		}
	}
}

func (b fsTree) Snapshot(t *testing.T, root string) map[string]tt.Entry {
	t.Helper()
	fsys := b.fs()
	out := map[string]tt.Entry{}
	var walk func(dir, rel string)
	walk = func(dir, rel string) {
		list, err := fsys.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			p, r := vfs.Join(dir, e.Name), vfs.Join(rel, e.Name)
			switch e.Kind {
			case vfs.Dir:
				st, err := fsys.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				out[r] = tt.Entry{Kind: "dir", MTime: st.ModTime}
				walk(p, r)
			case vfs.File:
				rd, err := fsys.Open(p)
				if err != nil {
					t.Fatal(err)
				}
				data, err := io.ReadAll(rd)
				rd.Close()
				if err != nil {
					t.Fatal(err)
				}
				out[r] = tt.Entry{Kind: "file", Content: data, MTime: e.ModTime}
			default:
				t.Fatalf("%s: a %s on an object store", p, e.Kind)
			}
		}
	}
	walk(b.rel(root), "")
	return out
}

func (b fsTree) WriteFile(t *testing.T, p, content string) {
	t.Helper()
	b.write(t, b.rel(p), content, time.Now())
}

func (b fsTree) RemoveAll(t *testing.T, p string) {
	t.Helper()
	fsys := b.fs()
	var rm func(name string)
	rm = func(name string) {
		e, err := fsys.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == vfs.Dir {
			list, err := fsys.ReadDir(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				rm(vfs.Join(name, c.Name))
			}
		}
		if err := fsys.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
	rm(b.rel(p))
}

func (b fsTree) Exists(t *testing.T, p string) bool {
	t.Helper()
	fsys := b.fs()
	_, err := fsys.Stat(b.rel(p))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// objectStoreOptions runs the suite with destinations on conn under keys
// named after each case's temporary directory, created and read through
// the store.
func objectStoreOptions(t *testing.T, conn *remote.Conn) enginetest.Options {
	open := func() vfs.FS {
		bucket, err := conn.Open("")
		if err != nil {
			t.Fatal(err)
		}
		return bucket
	}
	return enginetest.Options{
		Dirs: func(t *testing.T) (string, string) {
			d := t.TempDir()
			return filepath.Join(d, "src"), filepath.Join(d, "dst")
		},
		Root: func(dir string) string {
			if strings.HasSuffix(dir, string(filepath.Separator)+"dst") {
				return remoteName + ":" + strings.Trim(filepath.ToSlash(dir), "/")
			}
			return dir
		},
		Dst:     fsTree{open: open},
		NoModes: true,
		Skip:    map[string]string{"Symlinks": "an object store holds no symbolic links"},
	}
}

// TestEngineConformanceS3 runs the engine conformance suite with the
// native engine writing to a real S3 server (versitygw on loopback),
// with AWS_CA_BUNDLE set as on CI (robo never reads it).
func TestEngineConformanceS3(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
	s := remotetest.StartS3(t)
	conn := dial(t, s3Config(s))
	enginetest.RunWith(t, nativeOn(conn), objectStoreOptions(t, conn))
}

// objectStore is what the store-level tests need of a server: a way to
// write an object behind robo's back and to read one back.
type objectStore struct {
	conn   *remote.Conn
	put    func(t *testing.T, key, content string)
	exists func(t *testing.T, key string) bool
}

func s3Store(t *testing.T) objectStore {
	s := remotetest.StartS3(t)
	return objectStore{conn: dial(t, s3Config(s)),
		put: func(t *testing.T, key, content string) {
			if r := s.Do(t, "PUT", key, []byte(content), nil); r.StatusCode != 200 {
				t.Fatalf("put %s: %s", key, r)
			}
		},
		exists: func(t *testing.T, key string) bool { return s.Do(t, "HEAD", key, nil, nil).StatusCode == 200 },
	}
}

// testConditionalCommit: an object written by someone else between robo's
// last look (the expect callback) and its store is not overwritten: the
// store refuses the conditional write (If-None-Match: * for a new file,
// If-Match on the ETag robo saw for an update) and the commit reports a
// skip. Multipart uploads (a threshold below the file's size) the same.
func testConditionalCommit(t *testing.T, os objectStore) {
	bucket, err := os.conn.Open("")
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{10, 12 << 20} {
		data := strings.Repeat("x", size)
		for _, existing := range []bool{false, true} {
			key := "cond/" + map[bool]string{false: "new", true: "old"}[existing] + strings.Repeat("-big", min(1, size>>20))
			if existing {
				os.put(t, key, "before")
			}
			w, err := bucket.(vfs.AtomicCreator).CreateFinal(key, 0o644, tt.Base)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, data)
			skip, err := w.Commit(func(now *vfs.Entry) string {
				if (now != nil) != existing {
					t.Errorf("%s: expect saw %+v", key, now)
				}
				os.put(t, key, "someone else")
				return ""
			})
			if err != nil || skip == "" {
				t.Fatalf("%s (%d bytes): commit over a concurrent write: skip %q, err %v", key, size, skip, err)
			}
			rd, err := bucket.Open(key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rd)
			rd.Close()
			if string(got) != "someone else" {
				t.Fatalf("%s: the concurrent write was overwritten: %.20q", key, got)
			}
		}
	}
}

func TestS3ConditionalCommit(t *testing.T) {
	st := s3Store(t)
	testConditionalCommit(t, st)
}

// TestS3DialErrors: a wrong secret key, an unknown access key, a missing
// bucket and an endpoint where nothing listens each give an error saying
// which, naming the remote, the endpoint and the access key ID, never the
// secret; AWS_CA_BUNDLE naming a missing file changes nothing (robo never
// reads it).
func TestS3DialErrors(t *testing.T) {
	t.Setenv("AWS_CA_BUNDLE", "/nonexistent/ca-bundle.crt")
	s := remotetest.StartS3(t)
	if c, err := remote.Dial(context.Background(), s3Config(s)); err != nil {
		t.Fatalf("the right credentials: %v", err)
	} else {
		c.Close()
	}
	cases := []struct {
		name   string
		change func(*remote.Config)
		want   error
	}{
		{"WrongSecret", func(c *remote.Config) { c.S3.SecretAccessKey = []byte("canary-s3-secret-key") }, remote.ErrAuth},
		{"UnknownKey", func(c *remote.Config) { c.S3.AccessKeyID = "AKNOBODY" }, remote.ErrAuth},
		{"NoBucket", func(c *remote.Config) { c.S3.Bucket = "no-such-bucket" }, remote.ErrNoBucket},
		{"Unreachable", func(c *remote.Config) { c.S3.Endpoint = "http://127.0.0.1:" + strconv.Itoa(closedPort(t)) }, vfs.ErrUnreachable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := s3Config(s)
			tc.change(&cfg)
			_, err := remote.Dial(context.Background(), cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			msg := err.Error()
			for _, want := range []string{"remote " + remoteName, "http://127.0.0.1:", "user " + cfg.S3.AccessKeyID} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q does not name %q", msg, want)
				}
			}
			if strings.Contains(msg, string(cfg.S3.SecretAccessKey)) {
				t.Errorf("the error holds the secret: %q", msg)
			}
		})
	}
}

func azureConfig(s *remotetest.Azure) remote.Config {
	return remote.Config{Name: remoteName, Type: "azureblob", Timeout: 10 * time.Second, MultipartThreshold: 6 << 20, ChunkSize: 5 << 20,
		Azure: remote.Azure{Endpoint: s.Endpoint, Account: s.Account, Container: s.Container, Key: []byte(s.Key)}}
}

func azureStore(t *testing.T) objectStore {
	s := remotetest.StartAzurite(t)
	return objectStore{conn: dial(t, azureConfig(s)),
		put: func(t *testing.T, key, content string) {
			if r := s.Do(t, "PUT", key, []byte(content), nil); r.StatusCode != 201 {
				t.Fatalf("put %s: %s", key, r)
			}
		},
		exists: func(t *testing.T, key string) bool { return s.Do(t, "HEAD", key, nil, nil).StatusCode == 200 },
	}
}

// TestEngineConformanceAzure runs the engine conformance suite with the
// native engine writing to Azurite, whose blobs the suite reads back
// through the FS.
func TestEngineConformanceAzure(t *testing.T) {
	st := azureStore(t)
	enginetest.RunWith(t, nativeOn(st.conn), objectStoreOptions(t, st.conn))
}

func TestAzureConditionalCommit(t *testing.T) {
	testConditionalCommit(t, azureStore(t))
}

// TestAzureDialErrors: a wrong key, a missing container and an endpoint
// where nothing listens each give an error saying which, naming the
// remote, the endpoint and the account, never the key.
func TestAzureDialErrors(t *testing.T) {
	s := remotetest.StartAzurite(t)
	wrong := base64.StdEncoding.EncodeToString([]byte("canary-azure-key-0123456789abcdef"))
	cases := []struct {
		name   string
		change func(*remote.Config)
		want   error
	}{
		{"WrongKey", func(c *remote.Config) { c.Azure.Key = []byte(wrong) }, remote.ErrAuth},
		{"NoContainer", func(c *remote.Config) { c.Azure.Container = "no-such-container" }, remote.ErrNoBucket},
		{"Unreachable", func(c *remote.Config) {
			c.Azure.Endpoint = "http://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/" + s.Account
		}, vfs.ErrUnreachable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := azureConfig(s)
			tc.change(&cfg)
			_, err := remote.Dial(context.Background(), cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			msg := err.Error()
			for _, want := range []string{"remote " + remoteName, "http://127.0.0.1:", "user " + s.Account} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q does not name %q", msg, want)
				}
			}
			if strings.Contains(msg, string(cfg.Azure.Key)) {
				t.Errorf("the error holds the key: %q", msg)
			}
		})
	}
}
