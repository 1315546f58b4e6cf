package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/secrets"
	"github.com/robo-backup/robo/internal/shares/sambatest"
	"github.com/robo-backup/robo/internal/state"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// Issue 13: an SMB server that stops answering in the middle of a copy
// (smbd under SIGSTOP: connections stay open, nothing is answered) used to
// stall the set, holding its lock, for as long as it lasted. With the
// share's timeout = "2s", a real robo apply of a mirror to the share fails
// in bounded time: it deletes nothing on the share, releases the set's
// lock, records the failure in the state, and says which share stopped
// answering.
func TestApplyToStalledShare(t *testing.T) {
	srv := sambatest.Start(t)
	src := filepath.Join(t.TempDir(), "src")
	tt.Create(t, src, tt.Dir{"keep.txt": tt.File{Content: "keep"}})
	// A big file, so the copy is still running when the server stops.
	big, err := os.Create(filepath.Join(src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(512 << 20); err != nil {
		t.Fatal(err)
	}
	big.Close()
	dst := filepath.Join(srv.DataDir, "dst")
	tt.Create(t, dst, tt.Dir{"extra.txt": tt.File{Content: "precious"}, "old/extra2.txt": tt.File{Content: "precious too"}})

	conf, _ := shareConfig(t, srv, srv.Password, fmt.Sprintf(`
backup "up" {
  source      = %q
  destination = "${share.nas.unc}/dst"
}
`, src))
	hcl := filepath.Join(conf, "main.hcl")
	b, _ := os.ReadFile(hcl)
	os.WriteFile(hcl, bytes.Replace(b, []byte("  password = secret(\"nas\")\n"), []byte("  password = secret(\"nas\")\n  timeout  = \"2s\"\n"), 1), 0o644)

	cmd := exec.Command("robo", "-chdir", conf, "apply", "-auto-approve", "-allow-deletes")
	cmd.Env = append(os.Environ(), secrets.EnvIdentity+"="+filepath.Join(filepath.Dir(conf), "identity.txt"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	}()

	// Stop the server once the big file's temporary copy on the share has
	// some bytes in it: in the middle of the copy.
	var tmp string
	poll(t, "the big file's copy to start", 60*time.Second, func() bool {
		m, _ := filepath.Glob(filepath.Join(dst, ".robo-big.bin.*.tmp"))
		if len(m) == 1 {
			if fi, err := os.Stat(m[0]); err == nil && fi.Size() > 0 {
				tmp = m[0]
				return true
			}
		}
		return false
	})
	srv.Pause()
	paused := time.Now()
	defer srv.Resume()
	if fi, err := os.Stat(tmp); err != nil || fi.Size() >= 512<<20 {
		t.Fatalf("the copy was over before the server stopped (%v): make big.bin bigger", err)
	}

	// The bound: far under what "for ever" was. (The expected time is
	// about two answer timeouts plus the retries' waits; see
	// docs/shares.md, "Reconnects".)
	const bound = 90 * time.Second
	var werr error
	select {
	case werr = <-done:
	case <-time.After(bound):
		cmd.Process.Kill()
		<-done
		t.Fatalf("robo apply still running %s after the server stopped answering\n%s", bound, out.String())
	}
	t.Logf("robo apply ended %s after the server stopped\n%s", time.Since(paused).Round(time.Millisecond), out.String())
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.ExitCode() != exitError {
		t.Fatalf("robo apply: %v, want exit 1\n%s", werr, out.String())
	}
	msg := out.String()
	if !strings.Contains(msg, `share "nas"`) || !strings.Contains(msg, "stopped answering") {
		t.Errorf("the output does not say that share \"nas\" stopped answering:\n%s", msg)
	}

	// The set's lock is released: its holder file is gone and another
	// process can take it at once.
	store := &state.Store{Path: filepath.Join(conf, ".robo", "state.json")}
	if _, err := os.Stat(filepath.Join(conf, ".robo", "locks", "up.lock.info")); !os.IsNotExist(err) {
		t.Errorf("the set's lock holder file is still there: %v", err)
	}
	l, err := store.LockSet(context.Background(), "up", state.LockInfo{}, 0)
	if err != nil {
		t.Errorf("the set's lock is still held: %v", err)
	} else {
		l.Unlock()
	}
	// The state records the failed run: not a success, the copies counted
	// as errors, the deletions as skipped.
	st := readState(t, store.Path)
	if s := st.Sets["up"]; s == nil || s.LastRun == nil || s.LastRun.Outcome == state.Success || s.LastRun.Errors == 0 || s.LastRun.Skipped != 3 {
		t.Errorf("the state does not record the failure: %+v", s)
	} else if s.LastSuccess != nil {
		t.Errorf("a last success is recorded: %+v", s)
	}

	// After the server continues: nothing on the share was deleted, and
	// no partial big.bin is at its final name.
	srv.Resume()
	// Requests robo sent while the server was stopped (removing its
	// temporary file) run once it continues: read the tree once they have.
	var got map[string]tt.Entry
	for i := 0; ; i++ {
		if got, err = tt.Read(dst); err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	for p := range map[string]bool{"extra.txt": true, "old/extra2.txt": true} {
		if _, ok := got[p]; !ok {
			t.Errorf("%s was deleted from the share although the set failed", p)
		}
	}
	if fi, err := os.Stat(filepath.Join(dst, "big.bin")); err == nil && fi.Size() != 512<<20 {
		t.Errorf("a partial big.bin (%d bytes) is at its final name", fi.Size())
	}
}
