package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/state"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// TestCrashHarness kills `robo apply` with SIGKILL at random moments of a
// mirror of a few hundred files (three of them several MB) into a
// destination that holds old versions, extra files to delete and a
// mismatch, and checks after every kill:
//
//   - the state file and its backup, when present, parse (state.Decode);
//   - every destination file at its final name is byte for byte a complete
//     version of itself: the source's or the old destination's, never a
//     prefix or a mix (robo's .robo-*.tmp files may be left);
//   - the next apply exits 0, removes the temp files and leaves an exact
//     copy of the source (names, kinds, bytes, modes, file times).
//
// Directory times are not compared: a directory whose contents the killed
// run changed keeps the time of that change until robo next changes
// something in it (docs/safety.md, "What robo does not promise").
//
// Each trial kills twice in a row on the same destination before letting an
// apply finish, so a run that starts from a crashed one is killed too.
// Regular test runs do a few trials (5, or 1 under the race detector);
// ROBO_CRASH_TRIALS=200 (bench/crash.sh)
// runs the full harness. ROBO_CRASH_SEED replays a run: the seed and each
// trial's kill delays are logged.
func TestCrashHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	trials := 5
	if raceEnabled {
		trials = 1
	}
	if v := os.Getenv("ROBO_CRASH_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("ROBO_CRASH_TRIALS=%q: %v", v, err)
		}
		trials = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("ROBO_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ROBO_CRASH_SEED=%q: %v", v, err)
		}
		seed = n
	}
	t.Logf("ROBO_CRASH_SEED=%d ROBO_CRASH_TRIALS=%d", seed, trials)
	rng := rand.New(rand.NewPCG(seed, seed))
	robo, err := exec.LookPath("robo")
	if err != nil {
		t.Fatal(err)
	}

	base := t.TempDir()
	src := filepath.Join(base, "src")
	srcTree, oldTree := crashTrees(rand.New(rand.NewPCG(seed, 1)))
	tt.Create(t, src, srcTree)
	allowed := map[string][][32]byte{}
	for _, tree := range []tt.Dir{srcTree, oldTree} {
		for p, v := range tree {
			if f, ok := v.(tt.File); ok {
				allowed[p] = append(allowed[p], sha256.Sum256([]byte(f.Content)))
			}
		}
	}
	want := tt.Snapshot(t, src)

	// Calibrate: how long one whole apply takes here (race detector,
	// slow disks), so kills land across the whole run.
	full := func(dir string) time.Duration {
		setupCrashTrial(t, dir, src, oldTree)
		start := time.Now()
		out, err := exec.Command(robo, "-chdir", filepath.Join(dir, "conf"), "apply", "-auto-approve", "-allow-deletes").CombinedOutput()
		if err != nil {
			t.Fatalf("apply: %v\n%s", err, out)
		}
		return time.Since(start)
	}
	span := full(filepath.Join(base, "calibrate0")) // cold caches
	if !raceEnabled {
		span = min(span, full(filepath.Join(base, "calibrate1")))
	}
	t.Logf("one whole apply takes %v", span)

	var killed, finished, temps int
	for i := range trials {
		dir := filepath.Join(base, fmt.Sprintf("t%03d", i))
		setupCrashTrial(t, dir, src, oldTree)
		conf := filepath.Join(dir, "conf")
		var delays []time.Duration
		for k := range 2 {
			d := time.Duration(rng.Int64N(int64(span) * 11 / 10))
			delays = append(delays, d)
			cmd := exec.Command(robo, "-chdir", conf, "apply", "-auto-approve", "-allow-deletes")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("trial %d: apply failed before it was killed: %v\n%s", i, err, out.Bytes())
				}
				finished++
				if k == 0 {
					// A whole apply on a fresh destination: the
					// calibration was slow (a busy machine), so aim
					// the next kills at the real duration.
					span = min(span, time.Since(start))
				}
			case <-time.After(d):
				cmd.Process.Kill() // SIGKILL on Unix: no cleanup runs
				if err := <-done; err == nil {
					finished++
				} else {
					killed++
				}
			}
			temps += checkCrashed(t, i, dir, allowed)
		}
		out, err := exec.Command(robo, "-chdir", conf, "apply", "-auto-approve", "-allow-deletes").CombinedOutput()
		if err != nil {
			t.Fatalf("trial %d (kills after %v): the apply after the kills failed: %v\n%s", i, delays, err, out)
		}
		if d := tt.Diff(want, tt.Snapshot(t, filepath.Join(dir, "dst")), tt.Options{}); d != "" {
			t.Fatalf("trial %d (kills after %v): not an exact copy after the apply that followed the kills:\n%s", i, delays, d)
		}
		st := readCrashState(t, i, conf)
		for _, name := range []string{"docs", "media"} {
			if s := st.Sets[name]; s == nil || s.LastRun == nil || s.LastRun.Outcome != state.Success {
				t.Fatalf("trial %d: set %s not recorded as a success: %+v", i, name, s)
			}
		}
		t.Logf("trial %d: kills after %v", i, delays)
		os.RemoveAll(dir)
	}
	t.Logf("%d trials: %d applies killed (leaving %d temp files), %d finished before the kill; every check passed; a whole apply took %v at the end", trials, killed, temps, finished, span)
}

// crashTrees returns the source tree and the destination's old contents:
// small files in nested directories, three multi-MB files, old versions of
// some files, extra files and directories for the mirror to delete, and a
// directory where the source has a file.
func crashTrees(rng *rand.Rand) (src, old tt.Dir) {
	content := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return string(b)
	}
	src, old = tt.Dir{}, tt.Dir{}
	for i := range 240 {
		p := fmt.Sprintf("docs/d%d/e%d/f%03d.txt", i%6, i%4, i)
		f := tt.File{Content: content(1 + rng.IntN(12_000)), MTime: tt.Base.Add(time.Duration(i) * time.Minute)}
		src[p] = f
		switch i % 4 {
		case 0: // same in both
			old[p] = f
		case 1: // an older version
			old[p] = tt.File{Content: content(1 + rng.IntN(12_000)), MTime: tt.Base.Add(-time.Hour)}
		}
	}
	for i, mb := range []int{3, 5, 6} {
		src[fmt.Sprintf("media/big%d.bin", i)] = tt.File{Content: content(mb << 20), MTime: tt.Base.Add(time.Hour)}
	}
	old["media/big1.bin"] = tt.File{Content: content(4 << 20)}
	for i := range 40 {
		old[fmt.Sprintf("docs/d%d/extra%02d.txt", i%6, i)] = tt.File{Content: content(500)}
		old[fmt.Sprintf("docs/gone/g%d/x%02d.txt", i%3, i)] = tt.File{Content: content(300)}
	}
	src["docs/mismatch"] = tt.File{Content: "a file in the source"}
	old["docs/mismatch/inner.txt"] = tt.File{Content: "a dir in the destination"}
	return src, old
}

func setupCrashTrial(t *testing.T, dir, src string, old tt.Dir) {
	t.Helper()
	dst := filepath.Join(dir, "dst")
	tt.Create(t, dst, old)
	conf := filepath.Join(dir, "conf")
	hcl := fmt.Sprintf(`backup "docs" {
  source      = %q
  destination = %q
  threads     = 4
}

backup "media" {
  source      = %q
  destination = %q
  threads     = 2
}
`, filepath.Join(src, "docs"), filepath.Join(dst, "docs"), filepath.Join(src, "media"), filepath.Join(dst, "media"))
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(conf, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkCrashed checks a destination and state right after a kill and
// returns how many temp files the kill left.
func checkCrashed(t *testing.T, trial int, dir string, allowed map[string][][32]byte) (temps int) {
	t.Helper()
	readCrashState(t, trial, filepath.Join(dir, "conf"))
	dst := filepath.Join(dir, "dst")
	snap, err := tt.Read(dst)
	if err != nil {
		t.Fatal(err)
	}
	for p, en := range snap {
		if en.Kind != "file" {
			continue
		}
		if native.IsTemp(filepath.Base(p)) {
			temps++
			continue
		}
		sum := sha256.Sum256(en.Content)
		ok := false
		for _, a := range allowed[p] {
			ok = ok || a == sum
		}
		if !ok {
			t.Fatalf("trial %d: %s (%d bytes) is not a complete version of that file", trial, p, len(en.Content))
		}
	}
	return temps
}

// readCrashState requires the state file and its backup, where present, to
// parse.
func readCrashState(t *testing.T, trial int, conf string) *state.State {
	t.Helper()
	path := filepath.Join(conf, ".robo", "state.json")
	var st *state.State
	for _, p := range []string{path, path + ".backup"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		s, err := state.Decode(b)
		if err != nil {
			t.Fatalf("trial %d: %s does not parse after a kill: %v", trial, filepath.Base(p), err)
		}
		if strings.HasSuffix(p, "state.json") {
			st = s
		}
	}
	return st
}
