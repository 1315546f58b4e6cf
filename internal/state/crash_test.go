package state

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crashWriterEnv makes the test binary a process that writes states in a
// loop into the store named by the variable, until it is killed.
const crashWriterEnv = "ROBO_STATE_CRASH_WRITER"

func TestMain(m *testing.M) {
	if p := os.Getenv(crashWriterEnv); p != "" {
		writeForever(p)
	}
	os.Exit(m.Run())
}

// writeForever writes state after state. Each one's size varies, and its
// set's message records the serial it was written with and is as long as a
// function of it, so a reader can tell a complete state from a mix of two.
func writeForever(path string) {
	st := &Store{Path: path}
	s := New()
	for {
		n := s.Serial + 1
		s.Sets["docs"] = &Set{Name: "docs", Source: "/src", Destination: "/dst", Mode: "mirror",
			LastRun: &Run{Outcome: Success, Message: crashMessage(n)}}
		if err := st.Write(s); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
}

func crashMessage(serial uint64) string {
	return strconv.FormatUint(serial, 10) + ":" + strings.Repeat("x", int(serial*7919%20000))
}

// TestStateWriteSurvivesKill kills a process writing the state file with
// SIGKILL at random moments: the state file and its backup always parse and
// are each one complete state (temp file, fsync, rename), never a torn mix;
// the backup is the version before the state. ROBO_CRASH_TRIALS sets the
// number of kills (default 20).
func TestStateWriteSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	trials := 20
	if v := os.Getenv("ROBO_CRASH_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		trials = n
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range trials {
		path := filepath.Join(t.TempDir(), "state.json")
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashWriterEnv+"="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		d := time.Duration(rng.Int64N(int64(60 * time.Millisecond)))
		time.Sleep(d)
		cmd.Process.Kill()
		cmd.Wait()
		st := &Store{Path: path}
		s, err := st.Read()
		if err != nil {
			t.Fatalf("kill %d after %v: %v", i, d, err)
		}
		if s == nil {
			continue // killed before the first write
		}
		checkCrashState(t, s)
		b, err := os.ReadFile(st.BackupPath())
		if os.IsNotExist(err) && s.Serial == 1 {
			continue
		}
		if err != nil {
			t.Fatalf("kill %d after %v: serial %d has no backup: %v", i, d, s.Serial, err)
		}
		prev, err := Decode(b)
		if err != nil {
			t.Fatalf("kill %d after %v: backup: %v", i, d, err)
		}
		checkCrashState(t, prev)
		// The backup is written before the state, so a kill between the
		// two leaves both at the same serial.
		if prev.Serial != s.Serial-1 && prev.Serial != s.Serial {
			t.Fatalf("kill %d after %v: state serial %d, backup serial %d", i, d, s.Serial, prev.Serial)
		}
		t.Logf("kill %d after %v: serial %d", i, d, s.Serial)
	}
}

func checkCrashState(t *testing.T, s *State) {
	t.Helper()
	set := s.Sets["docs"]
	if set == nil || set.LastRun == nil || set.LastRun.Message != crashMessage(s.Serial) {
		t.Fatalf("state serial %d is not the state written with that serial", s.Serial)
	}
}
