package shares_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/enginetest"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/shares"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
)

// TestEngineConformance runs the engine conformance suite with the native
// engine reading or writing the share through go-smb2. The suite builds and
// checks its trees with the os package in the share's backing directory,
// and hands the engine UNC roots.
func TestEngineConformance(t *testing.T) {
	s := server(t)
	pool := shares.NewPool(context.Background(), shares.Options{},
		shares.Mount{Name: "data", UNC: shares.UNC{Server: s.Host, Share: "data"}, Port: s.Port, Credentials: creds(s)})
	t.Cleanup(func() { pool.Close() })
	newEngine := func(t *testing.T) engine.Engine {
		e := native.New()
		e.Sleep = func(time.Duration) {}
		e.FoldCase = true // SMB names are case-insensitive
		e.Open = func(root string) (vfs.FS, error) {
			if shares.IsUNC(root) {
				return pool.Open(root)
			}
			return native.OpenLocal(root)
		}
		return e
	}
	// Backing directories map to UNC roots.
	root := func(dir string) string {
		rel, err := filepath.Rel(s.DataDir, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			return dir
		}
		return s.UNC("data") + `\` + strings.ReplaceAll(filepath.ToSlash(rel), "/", `\`)
	}
	onShare := func(t *testing.T) string {
		d, err := os.MkdirTemp(s.DataDir, strings.ReplaceAll(t.Name(), "/", "_")+"-")
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	skip := map[string]string{
		"Symlinks": "robo cannot create or read symbolic links on SMB shares (Samba shows server-side links as their targets)",
	}
	t.Run("LocalToShare", func(t *testing.T) {
		enginetest.RunWith(t, newEngine, enginetest.Options{
			Dirs: func(t *testing.T) (string, string) {
				return filepath.Join(t.TempDir(), "src"), filepath.Join(onShare(t), "dst")
			},
			Root:           root,
			Skip:           skip,
			NoModes:        true,
			TimeResolution: engine.TimeUnit,
		})
	})
	t.Run("ShareToLocal", func(t *testing.T) {
		enginetest.RunWith(t, newEngine, enginetest.Options{
			Dirs: func(t *testing.T) (string, string) {
				return filepath.Join(onShare(t), "src"), filepath.Join(t.TempDir(), "dst")
			},
			Root:           root,
			Skip:           skip,
			NoModes:        true,
			TimeResolution: engine.TimeUnit,
		})
	})
	t.Run("ShareToShare", func(t *testing.T) {
		enginetest.RunWith(t, newEngine, enginetest.Options{
			Dirs: func(t *testing.T) (string, string) {
				d := onShare(t)
				return filepath.Join(d, "src"), filepath.Join(d, "dst")
			},
			Root:           root,
			Skip:           skip,
			NoModes:        true,
			TimeResolution: engine.TimeUnit,
		})
	})
}

type killer struct {
	once sync.Once
	kill func()
}

func (k *killer) Report(ev engine.Event) {
	if ev.Done && ev.Err == nil {
		k.once.Do(k.kill)
	}
}

// TestEngineServerKilledMidRun kills the server after the first change of an
// Apply. The next change fails with a connection loss, which the engine
// retries; before the retry the server is back, and the set converges.
func TestEngineServerKilledMidRun(t *testing.T) {
	s := server(t)
	pool := shares.NewPool(context.Background(), shares.Options{Redials: 1, RedialWait: 10 * time.Millisecond},
		shares.Mount{UNC: shares.UNC{Server: s.Host, Share: "data"}, Port: s.Port, Credentials: creds(s)})
	defer pool.Close()
	restarts := 0
	e := native.New()
	e.FoldCase = true
	e.Open = func(root string) (vfs.FS, error) {
		if shares.IsUNC(root) {
			return pool.Open(root)
		}
		return native.OpenLocal(root)
	}
	e.Sleep = func(time.Duration) {
		if restarts == 0 {
			s.Restart()
			time.Sleep(20 * time.Millisecond) // past the reconnect hold-down
		}
		restarts++
	}
	src := t.TempDir()
	tt.Create(t, src, tt.Dir{"d1/a": tt.File{Content: "a"}, "d2/b": tt.File{Content: "bb"}, "c": tt.File{Content: "ccc"}})
	sp := engine.Spec{Name: "t", Source: src, Destination: s.UNC("data") + `\mid`, Mirror: true, CopyEmptyDirs: true, Threads: 1, Retries: 3}
	sc, err := e.Scan(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, &killer{kill: s.Kill})
	if err != nil {
		t.Fatal(err)
	}
	if restarts == 0 {
		t.Fatal("no retry happened: the kill was not noticed")
	}
	if !res.OK() {
		t.Fatalf("apply after the server came back: errors %v skipped %v", res.Errors, res.Skipped)
	}
	if again, err := e.Scan(context.Background(), sp); err != nil || again.Changes.Len() != 0 {
		t.Fatalf("second scan: %v %v", again, err)
	}
	got := tt.Snapshot(t, filepath.Join(s.DataDir, "mid"))
	if string(got["d2/b"].Content) != "bb" || string(got["c"].Content) != "ccc" {
		t.Fatalf("destination %v", got)
	}
}
