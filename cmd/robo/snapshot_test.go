package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/robo-backup/robo/internal/snapshot/btrfstest"
	"github.com/robo-backup/robo/internal/state"
)

// Issue 17 (docs/snapshots.md): sets read from a btrfs snapshot by the
// real robo binary, with a source rewritten all along.

// generation is version n of a file: a line with n, repeated, so that a
// torn copy (two versions in one file) is seen.
func generation(n int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%09d\n", n)), 256<<10/10)
}

// generationOf returns the version a copy holds, or an error when it is
// not one whole version.
func generationOf(b []byte) (int, error) {
	if len(b) != len(generation(0)) {
		return 0, fmt.Errorf("%d bytes, want %d: torn", len(b), len(generation(0)))
	}
	n, err := strconv.Atoi(string(b[:9]))
	if err != nil || !bytes.Equal(b, generation(n)) {
		return 0, fmt.Errorf("not one version: torn")
	}
	return n, nil
}

// rewriter rewrites a.txt and then b.txt in dir with the next version,
// over and over, as an application saving its files does (a new file
// renamed over the old one), until stop is called.
func rewriter(t *testing.T, dir string) (stop func() int) {
	var wg sync.WaitGroup
	done := make(chan struct{})
	n := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n = 1; ; n++ {
			select {
			case <-done:
				return
			default:
			}
			for _, f := range []string{"a.txt", "b.txt"} {
				tmp := filepath.Join(dir, "."+f+".tmp")
				if err := os.WriteFile(tmp, generation(n), 0o644); err != nil {
					t.Error(err)
					return
				}
				if err := os.Rename(tmp, filepath.Join(dir, f)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	return func() int { close(done); wg.Wait(); return n }
}

type snapFixture struct {
	sub, src, dst, conf string
}

// newSnapFixture makes a btrfs subvolume with a source in it and a
// configuration (on the test's own file system) with one set reading it
// with snapshot = "required"; extra goes into the backup block.
func newSnapFixture(t *testing.T, extra string) *snapFixture {
	if runtime.GOOS != "linux" {
		t.Skip("btrfs")
	}
	sub := btrfstest.Subvolume(t)
	base := t.TempDir()
	f := &snapFixture{sub: sub, src: filepath.Join(sub, "src"), dst: filepath.Join(base, "dst"), conf: filepath.Join(base, "conf")}
	os.MkdirAll(filepath.Join(f.src, "static"), 0o755)
	os.MkdirAll(f.conf, 0o755)
	for i := 0; i < 20; i++ {
		os.WriteFile(filepath.Join(f.src, "static", fmt.Sprintf("%02d.txt", i)), []byte(strings.Repeat("x", i)), 0o644)
	}
	os.WriteFile(filepath.Join(f.src, "a.txt"), generation(0), 0o644)
	os.WriteFile(filepath.Join(f.src, "b.txt"), generation(0), 0o644)
	hcl := fmt.Sprintf("backup \"data\" {\n  source      = %q\n  destination = %q\n  snapshot    = \"required\"\n%s}\n", f.src, f.dst, extra)
	os.WriteFile(filepath.Join(f.conf, "robo.hcl"), []byte(hcl), 0o644)
	return f
}

// noLeftovers checks that no snapshot, robo snapshot directory or
// registry record is left.
func (f *snapFixture) noLeftovers(t *testing.T) {
	t.Helper()
	if s := btrfstest.Subvolumes(t, f.sub); strings.Contains(s, "robo-") {
		t.Errorf("a snapshot subvolume is left:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(f.sub, ".robo-snapshots")); !os.IsNotExist(err) {
		t.Errorf(".robo-snapshots is left: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(f.conf, ".robo", "snapshots"))
	for _, e := range ents {
		if !e.IsDir() {
			t.Errorf("registry file left: %s", e.Name())
		}
	}
}

func (f *snapFixture) audit(t *testing.T) string {
	b, _ := os.ReadFile(filepath.Join(f.conf, ".robo", "audit.jsonl"))
	return string(b)
}

// Issue 17: while a.txt and b.txt are rewritten continuously (a, then b,
// with the same version), a set with snapshot = "required" succeeds, and
// its copies are whole versions from one instant: b's version is a's or
// the one before (a live copy reads a first and b later, so it would hold
// a newer b than a). The state, the run log and the audit trail name the
// snapshot; none is left.
func TestSnapshotRequiredCopiesOneInstant(t *testing.T) {
	f := newSnapFixture(t, "")
	stop := rewriter(t, f.src)
	out, err := exec.Command("robo", "-chdir", f.conf, "apply", "-auto-approve").CombinedOutput()
	last := stop()
	if err != nil {
		t.Fatalf("robo apply: %v\n%s", err, out)
	}
	a, errA := os.ReadFile(filepath.Join(f.dst, "a.txt"))
	b, errB := os.ReadFile(filepath.Join(f.dst, "b.txt"))
	if errA != nil || errB != nil {
		t.Fatalf("copies: %v %v\n%s", errA, errB, out)
	}
	na, err := generationOf(a)
	if err != nil {
		t.Fatalf("a.txt: %v", err)
	}
	nb, err := generationOf(b)
	if err != nil {
		t.Fatalf("b.txt: %v", err)
	}
	if nb != na && nb != na-1 {
		t.Errorf("a.txt holds version %d, b.txt version %d: not one instant", na, nb)
	}
	if last <= na {
		t.Logf("the writer wrote %d versions, the copy holds %d", last, na)
	}
	st := readState(t, filepath.Join(f.conf, ".robo", "state.json"))
	run := st.Sets["data"].LastRun
	if run == nil || run.Outcome != state.Success || run.Snapshot == nil || run.Snapshot.Kind != "btrfs" || !strings.HasPrefix(run.Snapshot.ID, "robo-") {
		t.Fatalf("last run %+v, want a success read from a btrfs snapshot\n%s", run, out)
	}
	if strings.Contains(run.Message, "changed since the plan") {
		t.Errorf("guards skipped files: %s", run.Message)
	}
	if out, err := exec.Command("robo", "-chdir", f.conf, "status").CombinedOutput(); err != nil || !strings.Contains(string(out), "from btrfs snapshot "+run.Snapshot.ID) {
		t.Errorf("robo status does not say the run was read from the snapshot: %v\n%s", err, out)
	}
	au := f.audit(t)
	for _, ev := range []string{`"event":"snapshot.created"`, `"event":"snapshot.removed"`, run.Snapshot.ID} {
		if !strings.Contains(au, ev) {
			t.Errorf("audit trail lacks %s:\n%s", ev, au)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(f.conf, ".robo", "logs", "native-run-data-*.log"))
	if len(logs) != 1 {
		t.Fatalf("run logs %v", logs)
	}
	if lb, _ := os.ReadFile(logs[0]); !strings.Contains(string(lb), "robo: read from btrfs snapshot "+run.Snapshot.ID) {
		t.Errorf("the run log does not name the snapshot:\n%s", lb)
	}
	f.noLeftovers(t)
}

// Issue 17: a set that fails (its destination cannot be made) leaves no
// snapshot behind.
func TestSnapshotNoneLeftAfterFailure(t *testing.T) {
	f := newSnapFixture(t, "")
	blocker := filepath.Join(filepath.Dir(f.dst), "file")
	os.WriteFile(blocker, nil, 0o644)
	hcl := fmt.Sprintf("backup \"data\" {\n  source      = %q\n  destination = %q\n  snapshot    = \"required\"\n}\n", f.src, filepath.Join(blocker, "dst"))
	os.WriteFile(filepath.Join(f.conf, "robo.hcl"), []byte(hcl), 0o644)
	out, err := exec.Command("robo", "-chdir", f.conf, "apply", "-auto-approve").CombinedOutput()
	if err == nil {
		t.Fatalf("robo apply succeeded into a destination under a file:\n%s", out)
	}
	if !strings.Contains(f.audit(t), `"event":"snapshot.removed"`) {
		t.Errorf("no snapshot was taken and removed (the failure came too early to test anything):\n%s\n%s", out, f.audit(t))
	}
	f.noLeftovers(t)
}

// Issue 17: SIGINT while the set holds its snapshot (its before hook runs
// between the scan and the copy): robo stops, and the snapshot goes.
func TestSnapshotNoneLeftAfterSIGINT(t *testing.T) {
	f := newSnapFixture(t, "")
	marker := filepath.Join(filepath.Dir(f.conf), "seen")
	hook := fmt.Sprintf(`  before      = ["sh", "-c", "ls %s/.robo-snapshots > %s; kill -INT $PPID; sleep 2"]`+"\n", f.sub, marker)
	f = rewriteHCL(t, f, hook)
	out, err := exec.Command("robo", "-chdir", f.conf, "apply", "-auto-approve").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("robo apply: %v, want exit 1 (interrupted)\n%s", err, out)
	}
	if seen, _ := os.ReadFile(marker); !strings.HasPrefix(string(seen), "robo-") {
		t.Fatalf("the before hook saw no snapshot (%q): the interrupt came at the wrong time\n%s", seen, out)
	}
	f.noLeftovers(t)
}

// Issue 17: robo killed (kill -9) while it holds a snapshot leaves it and
// its record; the next robo (a plan) removes it and reports it in its
// warning and the audit trail, and leaves none of its own.
func TestSnapshotLeftoverAfterKillRemovedByNextRun(t *testing.T) {
	f := newSnapFixture(t, "")
	hook := `  before      = ["sh", "-c", "kill -KILL $PPID; sleep 1"]` + "\n"
	f = rewriteHCL(t, f, hook)
	out, err := exec.Command("robo", "-chdir", f.conf, "apply", "-auto-approve").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 {
		t.Fatalf("robo apply: %v, want killed\n%s", err, out)
	}
	if s := btrfstest.Subvolumes(t, f.sub); !strings.Contains(s, "robo-") {
		t.Fatalf("the killed robo left no snapshot: nothing to clean up\n%s", s)
	}
	recs, _ := filepath.Glob(filepath.Join(f.conf, ".robo", "snapshots", "robo-*.json"))
	if len(recs) != 1 {
		t.Fatalf("records %v, want the killed robo's one", recs)
	}
	f = rewriteHCL(t, f, "")
	out, err = exec.Command("robo", "-chdir", f.conf, "plan").CombinedOutput()
	if err != nil {
		t.Fatalf("robo plan: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "robo: warning: removed a leftover snapshot; snapshot: btrfs snapshot robo-") {
		t.Errorf("no report of the leftover:\n%s", out)
	}
	if !strings.Contains(f.audit(t), `"event":"snapshot.leftover_removed"`) {
		t.Errorf("the audit trail has no snapshot.leftover_removed:\n%s", f.audit(t))
	}
	f.noLeftovers(t)
}

func rewriteHCL(t *testing.T, f *snapFixture, extra string) *snapFixture {
	hcl := fmt.Sprintf("backup \"data\" {\n  source      = %q\n  destination = %q\n  snapshot    = \"required\"\n%s}\n", f.src, f.dst, extra)
	if err := os.WriteFile(filepath.Join(f.conf, "robo.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// Issue 17: snapshot = "required" on a file system robo cannot snapshot
// (the test's ext4 or tmpfs) refuses with a message naming the source,
// its type and what would work, and copies nothing; "auto" copies live
// and the plan says so.
func TestSnapshotRequiredRefusesOnExt4(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("file system types")
	}
	base := t.TempDir()
	src, dst, conf := filepath.Join(base, "src"), filepath.Join(base, "dst"), filepath.Join(base, "conf")
	os.MkdirAll(src, 0o755)
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(src, "f.txt"), []byte("f"), 0o644)
	hcl := fmt.Sprintf("backup \"live\" {\n  source      = %q\n  destination = %q\n  snapshot    = \"required\"\n}\n", src, dst)
	os.WriteFile(filepath.Join(conf, "robo.hcl"), []byte(hcl), 0o644)
	out, err := exec.Command("robo", "-chdir", conf, "apply", "-auto-approve").CombinedOutput()
	if err == nil {
		t.Fatalf("robo apply succeeded:\n%s", out)
	}
	for _, want := range []string{`snapshot = "required": source ` + src + " is on a file system of type ", "btrfs subvolumes, LVM thin volumes and ZFS datasets"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("the destination was made: %v", err)
	}
	os.WriteFile(filepath.Join(conf, "robo.hcl"), []byte(strings.Replace(hcl, `"required"`, `"auto"`, 1)), 0o644)
	out, err = exec.Command("robo", "-chdir", conf, "apply", "-auto-approve").CombinedOutput()
	if err != nil {
		t.Fatalf("auto: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `snapshot = "auto": the source is copied live, not from a snapshot`) {
		t.Errorf("the plan does not say the set is copied live:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f.txt")); string(b) != "f" {
		t.Errorf("auto did not copy: %q", b)
	}
}

// Issue 17 (docs/snapshots.md, "Root identity"): a plan saved without a
// snapshot is applied from one, and its guards hold: the plan recorded the
// live source root and apply checks the live root (a source root replaced
// by another directory is refused), while each file's guard compares what
// the plan saw with the snapshot (a file changed since the plan is left
// alone).
func TestSnapshotSavedLivePlanAppliedFromSnapshot(t *testing.T) {
	f := newSnapFixture(t, "")
	plain := fmt.Sprintf("backup \"data\" {\n  source      = %q\n  destination = %q\n}\n", f.src, f.dst)
	os.WriteFile(filepath.Join(f.conf, "robo.hcl"), []byte(plain), 0o644)
	planFile := filepath.Join(f.conf, "live.plan")
	if out, err := exec.Command("robo", "-chdir", f.conf, "plan", "-out", planFile).CombinedOutput(); err != nil {
		t.Fatalf("robo plan: %v\n%s", err, out)
	}
	// Applied from a snapshot, with a file changed since the plan.
	rewriteHCL(t, f, "")
	os.WriteFile(filepath.Join(f.src, "a.txt"), generation(7), 0o644)
	out, err := exec.Command("robo", "-chdir", f.conf, "apply", planFile).CombinedOutput()
	if err != nil {
		t.Fatalf("robo apply PLAN: %v\n%s", err, out)
	}
	st := readState(t, filepath.Join(f.conf, ".robo", "state.json"))
	run := st.Sets["data"].LastRun
	if run == nil || run.Outcome != state.Success || run.Snapshot == nil {
		t.Fatalf("last run %+v, want a success from a snapshot\n%s", run, out)
	}
	if !strings.Contains(run.Message, "1 entry left alone because it changed since the plan") {
		t.Errorf("the changed file's guard did not hold: %q\n%s", run.Message, out)
	}
	if _, err := os.Stat(filepath.Join(f.dst, "a.txt")); !os.IsNotExist(err) {
		t.Errorf("a.txt, changed since the plan, was copied: %v", err)
	}
	if n, err := generationOf(mustRead(t, filepath.Join(f.dst, "b.txt"))); err != nil || n != 0 {
		t.Errorf("b.txt: version %d, %v", n, err)
	}
	// A plan whose live source root is then replaced is refused.
	os.RemoveAll(f.dst)
	os.WriteFile(filepath.Join(f.conf, "robo.hcl"), []byte(plain), 0o644)
	if out, err := exec.Command("robo", "-chdir", f.conf, "plan", "-out", planFile).CombinedOutput(); err != nil {
		t.Fatalf("robo plan: %v\n%s", err, out)
	}
	rewriteHCL(t, f, "")
	os.Rename(f.src, f.src+".old")
	os.Mkdir(f.src, 0o755)
	out, err = exec.Command("robo", "-chdir", f.conf, "apply", planFile).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "source root "+f.src+" changed since the plan") {
		t.Fatalf("robo apply PLAN with the source root replaced: %v, want it refused\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(f.dst, "b.txt")); !os.IsNotExist(err) {
		t.Errorf("copied from the replaced root: %v", err)
	}
	f.noLeftovers(t)
}

// Issue 17: a plan made from a snapshot and saved is applied from a new
// one (the first is gone with robo plan): its root identity is the live
// root's, so it applies.
func TestSnapshotSavedSnapshotPlanApplies(t *testing.T) {
	f := newSnapFixture(t, "")
	planFile := filepath.Join(f.conf, "snap.plan")
	if out, err := exec.Command("robo", "-chdir", f.conf, "plan", "-out", planFile).CombinedOutput(); err != nil {
		t.Fatalf("robo plan: %v\n%s", err, out)
	}
	f.noLeftovers(t)
	out, err := exec.Command("robo", "-chdir", f.conf, "apply", planFile).CombinedOutput()
	if err != nil {
		t.Fatalf("robo apply PLAN: %v\n%s", err, out)
	}
	if n, err := generationOf(mustRead(t, filepath.Join(f.dst, "a.txt"))); err != nil || n != 0 {
		t.Errorf("a.txt: version %d, %v", n, err)
	}
	f.noLeftovers(t)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
