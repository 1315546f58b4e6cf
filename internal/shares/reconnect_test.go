package shares_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/shares"
	"github.com/robo-backup/robo/internal/vfs"
)

type logbuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logbuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmtSprintf(format, args...))
}

func TestReconnect(t *testing.T) {
	s := server(t)
	var log logbuf
	c := dial(t, s, "data", shares.Options{Redials: 3, RedialWait: 50 * time.Millisecond, Logf: log.logf})
	f := c.FS("")
	os.WriteFile(filepath.Join(s.DataDir, "a.txt"), []byte("a"), 0o644)
	if _, err := f.Stat("a.txt"); err != nil {
		t.Fatal(err)
	}

	// Killed and back before the next operation: the operation redials
	// transparently.
	s.Kill()
	s.Restart()
	if e, err := f.Stat("a.txt"); err != nil || e.Size != 1 {
		t.Fatalf("stat after restart: %+v %v", e, err)
	}
	if list, err := f.ReadDir(""); err != nil || len(list) != 1 {
		t.Fatalf("readdir after restart: %v %v", list, err)
	}

	// Killed and still down: the operation fails with a connection loss
	// that is not a not-exist/permission error (the engine retries it).
	s.Kill()
	var seen texts
	_, err := f.Stat("a.txt")
	seen.add(err)
	var lost *shares.LostError
	if !errors.As(err, &lost) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		t.Fatalf("stat with the server down: %v", err)
	}
	if !strings.Contains(err.Error(), `\\127.0.0.1\data`) || !strings.Contains(err.Error(), "lost") {
		t.Errorf("unclear error: %v", err)
	}
	t.Log(err)
	// Within RedialWait of the failed reconnect, operations fail at once.
	start := time.Now()
	_, err = f.Stat("a.txt")
	seen.add(err)
	if err == nil || time.Since(start) > 40*time.Millisecond {
		t.Errorf("second op while down: %v after %v", err, time.Since(start))
	}

	s.Restart()
	time.Sleep(60 * time.Millisecond) // past the hold-down
	if e, err := f.Stat("a.txt"); err != nil || e.Size != 1 {
		t.Fatalf("stat after the server came back: %+v %v", e, err)
	}
	// Writes work on the new session too, and concurrently.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, tmp, err := f.CreateTemp("", ".robo-c.", 0o644)
			if err != nil {
				errs <- err
				return
			}
			w.Write([]byte("x"))
			w.Close()
			errs <- f.Rename(tmp, "c"+string(rune('0'+i)))
		}()
	}
	// Kill once more while nothing is in flight, restart, and let the
	// concurrent operations all race into the redial.
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s.Kill()
	s.Restart()
	var wg2 sync.WaitGroup
	for i := range 8 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			if _, err := f.Stat("c" + string(rune('0'+i))); err != nil {
				t.Errorf("concurrent stat after restart: %v", err)
			}
		}()
	}
	wg2.Wait()
	seen.noSecret(t, s.Password)
	log.mu.Lock()
	defer log.mu.Unlock()
	joined := strings.Join(log.lines, "\n")
	if !strings.Contains(joined, "reconnected") || strings.Contains(joined, s.Password) {
		t.Errorf("log:\n%s", joined)
	}
}

func TestReconnectOpenFile(t *testing.T) {
	s := server(t)
	c := dial(t, s, "data", shares.Options{RedialWait: 10 * time.Millisecond})
	f := c.FS("")
	w, _, err := f.CreateTemp("", ".robo-w.", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	s.Kill()
	_, err = w.Write([]byte("lost"))
	if err == nil {
		err = w.Close()
	}
	var lost *shares.LostError
	if !errors.As(err, &lost) {
		t.Fatalf("write on a dead connection: %v", err)
	}
	w.Close()
	s.Restart()
	if _, err := f.ReadDir(""); err != nil {
		t.Fatalf("readdir after restart: %v", err)
	}
}

// Samba shows server-side symlinks as what they point to. They must come
// out as links, never as directories to descend into or delete through.
func TestServerSymlinks(t *testing.T) {
	s := server(t)
	base := filepath.Join(s.DataDir, "t")
	os.MkdirAll(filepath.Join(base, "zreal"), 0o755)
	os.WriteFile(filepath.Join(base, "zreal", "precious"), []byte("p"), 0o644)
	os.Symlink("zreal", filepath.Join(base, "alink"))
	os.MkdirAll(filepath.Join(base, "sub", "inner"), 0o755)
	os.Symlink(".", filepath.Join(base, "sub", "loop"))
	os.Symlink("..", filepath.Join(base, "sub", "inner", "up"))
	os.Symlink("/etc", filepath.Join(base, "outside"))
	c := dial(t, s, "data", shares.Options{})
	f := c.FS("t")
	kinds := func(dir string) string {
		t.Helper()
		list, err := f.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var l []string
		for _, e := range list {
			l = append(l, e.Name+":"+e.Kind.String())
		}
		return strings.Join(l, " ")
	}
	if got, want := kinds(""), "alink:symlink sub:dir zreal:symlink"; got != want {
		t.Errorf("root: %q, want %q", got, want)
	}
	if got, want := kinds("sub"), "inner:dir loop:symlink"; got != want {
		t.Errorf("sub: %q, want %q", got, want)
	}
	if got, want := kinds("sub/inner"), "up:symlink"; got != want {
		t.Errorf("sub/inner: %q, want %q", got, want)
	}
	if e, err := f.Stat("alink"); err != nil || e.Kind != vfs.Symlink {
		t.Errorf("stat alink: %+v %v", e, err)
	}
	if err := f.Remove("alink"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("remove through a link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "zreal", "precious")); err != nil {
		t.Fatal("data behind the link is gone")
	}
}

func fmtSprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// TestStalledServer (issue 13): a server that stops answering in the
// middle of a copy (smbd under SIGSTOP: the connection stays open, nothing
// is answered) fails the write within the answer bound with a clear error,
// the one reconnect is bounded too, and every later operation fails at once
// instead of each waiting again. After SIGCONT a new connection works.
func TestStalledServer(t *testing.T) {
	s := server(t)
	const answer = 2 * time.Second
	var log logbuf
	c := dial(t, s, "data", shares.Options{AnswerTimeout: answer, DialTimeout: 30 * time.Second, RedialWait: 10 * time.Millisecond, Logf: log.logf})
	f := c.FS("")
	w, _, err := f.CreateTemp("", ".robo-big.", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	if _, err := w.Write(chunk); err != nil {
		t.Fatal(err)
	}
	// Idle for longer than the bound: an idle connection is not a stall.
	time.Sleep(answer + 500*time.Millisecond)
	if _, err := w.Write(chunk); err != nil {
		t.Fatalf("write after an idle pause: %v", err)
	}

	s.Pause()
	defer s.Resume()
	start := time.Now()
	var werr error
	for i := 0; i < 64 && werr == nil; i++ { // fills the socket buffers, then waits for answers
		_, werr = w.Write(chunk)
	}
	took := time.Since(start)
	var lost *shares.LostError
	if !errors.As(werr, &lost) || !strings.Contains(werr.Error(), "no answer from the server within 2s") {
		t.Fatalf("write to a stopped server: %v", werr)
	}
	t.Logf("the write failed after %s: %v", took, werr)
	// The bound: the answer timeout (generously: a stalled write must not
	// wait for ever, which is what it did).
	if took > 10*answer {
		t.Errorf("the write failed only after %s (answer bound %s)", took, answer)
	}

	// The next operations reconnect once (bounded by the answer timeout),
	// then fail at once.
	start = time.Now()
	_, err = f.Stat("x")
	if !errors.As(err, &lost) || !errors.Is(err, shares.ErrStalled) {
		t.Fatalf("stat on a stopped server: %v", err)
	}
	t.Logf("stat failed after %s: %v", time.Since(start), err)
	if d := time.Since(start); d > 10*answer {
		t.Errorf("the reconnect took %s (answer bound %s)", d, answer)
	}
	for i := 0; i < 20; i++ {
		start = time.Now()
		if _, err := f.Stat("x"); err == nil || !errors.Is(err, shares.ErrStalled) {
			t.Fatalf("stat %d on a stopped server: %v", i, err)
		}
		if d := time.Since(start); d > answer {
			t.Fatalf("stat %d took %s: a failed server must fail at once", i, d)
		}
	}
	w.Close()

	s.Resume()
	c2 := dial(t, s, "data", shares.Options{AnswerTimeout: answer})
	if _, err := c2.FS("").ReadDir(""); err != nil {
		t.Fatalf("a new connection after SIGCONT: %v", err)
	}
}
