package state

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// robo's own readers (robo status, the dashboard, /metrics) open the state
// with FILE_SHARE_DELETE on Windows: while one holds it, the file can still
// be deleted or renamed (issue 14, bug 1). With os.Open this fails on
// Windows with a sharing violation.
func TestReaderLetsStateBeReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := openShared(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Rename(path, filepath.Join(dir, "moved.json")); err != nil {
		t.Fatalf("rename while a reader holds the file: %v", err)
	}
	if b, err := io.ReadAll(f); err != nil || string(b) != "{}" {
		t.Fatalf("the reader then read %q, %v", b, err)
	}
}

// A process robo does not control (a virus scanner, a script using a plain
// open) holds the state for a moment: the write waits for it instead of
// failing after the copy.
func TestWriteWaitsForForeignReader(t *testing.T) {
	st := &Store{Path: filepath.Join(t.TempDir(), "state.json")}
	s := New()
	for i := 0; i < 2; i++ {
		if err := st.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	const hold = 200 * time.Millisecond // well inside RenameRetryFor
	f, err := os.Open(st.Path)          // no FILE_SHARE_DELETE on Windows
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(hold)
		f.Close()
		close(released)
	}()
	err = st.Write(s)
	<-released
	if err != nil {
		t.Fatalf("write while another process held the state for %s: %v", hold, err)
	}
	if got, err := st.Read(); err != nil || got.Serial != 3 {
		t.Fatalf("read back %+v, %v: want serial 3", got, err)
	}
}

// Readers polling the state as fast as they can (robo's own, and a plain
// os.ReadFile as a monitoring script would) never make a write fail, and
// never see a partial file.
func TestWritesWithPollingReaders(t *testing.T) {
	st := &Store{Path: filepath.Join(t.TempDir(), "state.json")}
	s := New()
	if err := st.Write(s); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var readErrs atomic.Int64
	for _, read := range []func() ([]byte, error){
		func() ([]byte, error) { return ReadFile(st.Path) },
		func() ([]byte, error) { return os.ReadFile(st.Path) },
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				b, err := read()
				if err == nil {
					if _, err := Decode(b); err != nil {
						readErrs.Add(1)
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	failed := 0
	for i := 0; i < 30; i++ {
		if err := st.Write(s); err != nil {
			failed++
			t.Errorf("write %d: %v", i+1, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if failed > 0 || readErrs.Load() > 0 {
		t.Fatalf("%d of 30 writes failed; %d reads saw a partial state", failed, readErrs.Load())
	}
}
