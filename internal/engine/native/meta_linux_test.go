package native_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
)

// Metadata fidelity on real trees (issue 16): mode, owner, ACLs and
// extended attributes are copied as the set's copy letters say, and a
// source change to any of them is planned as a Tweaked update listing what
// differs, then applied.

func metaSpec(t *testing.T, copyLetters string) (engine.Spec, string, string) {
	t.Helper()
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	return engine.Spec{Name: "meta", Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true, Threads: 2,
		Copy: copyLetters, DirCopy: "DATE"}, src, dst
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func out(t *testing.T, name string, args ...string) string {
	t.Helper()
	b, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, b)
	}
	return string(b)
}

func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"setfacl", "getfacl", "setfattr", "getfattr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian: apt-get install acl attr)", tool)
		}
	}
}

func write(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	tm := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(p, tm, tm); err != nil {
		t.Fatal(err)
	}
}

func stat(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func applyMeta(t *testing.T, e *native.Engine, sp engine.Spec, cs []engine.Change) *engine.Result {
	t.Helper()
	if err := engine.ValidateChanges(&sp, cs, true); err != nil {
		t.Fatalf("the plan does not validate: %v", err)
	}
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: engine.ChangeListOf(cs)}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || len(res.Skipped) > 0 {
		t.Fatalf("apply: errors %v, skipped %v", res.Errors, res.Skipped)
	}
	return res
}

func scanAll(t *testing.T, e *native.Engine, sp engine.Spec) *engine.ScanResult {
	t.Helper()
	res, err := e.Scan(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("scan errors: %v", res.Errors)
	}
	return res
}

// tweaks renders the Tweaked changes as "path: what differs".
func tweaks(cs []engine.Change) []string {
	var outl []string
	for i := range cs {
		c := &cs[i]
		if c.Class != engine.Tweaked || c.Action != engine.Update || c.Size != 0 {
			outl = append(outl, c.Path+": not a tweak: "+c.Action.String()+" "+c.Class.String())
			continue
		}
		outl = append(outl, c.Path+": "+strings.Join(engine.DescribeDiffers(c), ", "))
	}
	return outl
}

func TestMetaAllClassesAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown to other users)")
	}
	needTools(t)
	e := native.New()
	sp, src, dst := metaSpec(t, "DATSOUE")
	write(t, filepath.Join(src, "a.txt"), "a", 0o604)
	write(t, filepath.Join(src, "tool"), "#!/bin/sh", 0o4755)
	write(t, filepath.Join(src, "d/b.txt"), "b", 0o640)
	run(t, "chown", "1000:1001", filepath.Join(src, "d/b.txt"))
	run(t, "setfacl", "-m", "u:65534:rw", filepath.Join(src, "a.txt"))
	run(t, "setfattr", "-n", "user.tag", "-v", "blue", filepath.Join(src, "d/b.txt"))
	run(t, "setfattr", "-n", "trusted.origin", "-v", "x", filepath.Join(src, "a.txt"))
	run(t, "setfacl", "-d", "-m", "u:65534:rx", filepath.Join(src, "d"))
	run(t, "setfattr", "-n", "user.dirtag", "-v", "1", filepath.Join(src, "d"))
	if err := os.Symlink("a.txt", filepath.Join(src, "l")); err != nil {
		t.Fatal(err)
	}
	run(t, "chown", "-h", "1000:1000", filepath.Join(src, "l"))
	sp.CopySymlinks = true
	os.Chmod(filepath.Join(src, "d"), 0o750)
	os.Chown(filepath.Join(src, "d"), 1002, 1003)

	applyMeta(t, e, sp, scanAll(t, e, sp).Changes.Slice())
	check := func() {
		t.Helper()
		for _, p := range []string{"a.txt", "tool", "d/b.txt", "d", "l"} {
			s, d := stat(t, filepath.Join(src, p)), stat(t, filepath.Join(dst, p))
			if s.Mode != d.Mode || s.Uid != d.Uid || s.Gid != d.Gid {
				t.Errorf("%s: mode %o owner %d:%d, source %o %d:%d", p, d.Mode, d.Uid, d.Gid, s.Mode, s.Uid, s.Gid)
			}
			if p == "l" {
				continue
			}
			if a, b := out(t, "getfacl", "-cpn", filepath.Join(src, p)), out(t, "getfacl", "-cpn", filepath.Join(dst, p)); a != b {
				t.Errorf("%s: ACL\n%s\nsource:\n%s", p, b, a)
			}
			if a, b := xattrs(t, filepath.Join(src, p)), xattrs(t, filepath.Join(dst, p)); a != b {
				t.Errorf("%s: xattrs\n%s\nsource:\n%s", p, b, a)
			}
		}
	}
	check()
	if cs := scanAll(t, e, sp).Changes; cs.Len() != 0 {
		t.Fatalf("after the copy: %v", tweaks(cs.Slice()))
	}

	// Each class changed in the source is a Tweaked update with what
	// differs, and nothing else.
	os.Chmod(filepath.Join(src, "a.txt"), 0o600)
	run(t, "setfacl", "-m", "u:65534:r", filepath.Join(src, "a.txt"))
	run(t, "chown", "0:0", filepath.Join(src, "d/b.txt"))
	run(t, "setfattr", "-n", "user.tag", "-v", "red", filepath.Join(src, "d/b.txt"))
	run(t, "setfattr", "-x", "user.dirtag", filepath.Join(src, "d"))
	os.Chmod(filepath.Join(src, "d"), 0o755)
	run(t, "chown", "-h", "0:0", filepath.Join(src, "l"))
	sc := scanAll(t, e, sp)
	// (setfacl recomputes the mask, which is the mode's group bits.)
	want := []string{"a.txt: mode 0664 → 0640, acl", "d: mode 0750 → 0755, xattr", "d/b.txt: owner 1000:1001 → 0:0, xattr", "l: owner 1000:1000 → 0:0"}
	if got := tweaks(sc.Changes.Slice()); !reflect.DeepEqual(got, want) {
		t.Fatalf("tweaks:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	dataBefore := stat(t, filepath.Join(dst, "d/b.txt")).Ino
	applyMeta(t, e, sp, sc.Changes.Slice())
	check()
	if stat(t, filepath.Join(dst, "d/b.txt")).Ino != dataBefore {
		t.Error("a tweak rewrote the file instead of setting its metadata")
	}
	if cs := scanAll(t, e, sp).Changes; cs.Len() != 0 {
		t.Fatalf("after the tweaks: %v", tweaks(cs.Slice()))
	}

	// An update of the data carries the metadata too.
	write(t, filepath.Join(src, "a.txt"), "aa", 0o640)
	run(t, "chown", "1000:1000", filepath.Join(src, "a.txt"))
	applyMeta(t, e, sp, scanAll(t, e, sp).Changes.Slice())
	check()
}

func xattrs(t *testing.T, p string) string {
	t.Helper()
	b, err := exec.Command("getfattr", "-d", "-m", "^(user|trusted)\\.", "--absolute-names", p).CombinedOutput()
	if err != nil {
		t.Fatalf("getfattr %s: %v %s", p, err, b)
	}
	return strings.ReplaceAll(string(b), p, "")
}

// With the default copy ("DAT") a chmod is a Tweaked update and a chown
// is not looked at.
func TestMetaDefaultCopy(t *testing.T) {
	e := native.New()
	sp, src, dst := metaSpec(t, "")
	sp.DirCopy = ""
	write(t, filepath.Join(src, "a.txt"), "a", 0o444)
	write(t, filepath.Join(src, "b.txt"), "b", 0o644)
	applyMeta(t, e, sp, scanAll(t, e, sp).Changes.Slice())
	if m := stat(t, filepath.Join(dst, "a.txt")).Mode & 0o7777; m != 0o444 {
		t.Errorf("a.txt copied with mode %o, want the source's 0444 exactly", m)
	}
	os.Chmod(filepath.Join(src, "b.txt"), 0o600)
	if os.Geteuid() == 0 {
		os.Chown(filepath.Join(src, "a.txt"), 1234, 1234)
	}
	sc := scanAll(t, e, sp)
	if got := tweaks(sc.Changes.Slice()); !reflect.DeepEqual(got, []string{"b.txt: mode 0644 → 0600"}) {
		t.Fatalf("tweaks: %v", got)
	}
	applyMeta(t, e, sp, sc.Changes.Slice())
	if m := stat(t, filepath.Join(dst, "b.txt")).Mode & 0o7777; m != 0o600 {
		t.Errorf("b.txt: mode %o after the tweak", m)
	}
	// A read-only destination file is still updated (renamed over).
	write(t, filepath.Join(src, "a.txt"), "new", 0o444)
	applyMeta(t, e, sp, scanAll(t, e, sp).Changes.Slice())
	if b, _ := os.ReadFile(filepath.Join(dst, "a.txt")); string(b) != "new" {
		t.Errorf("a.txt: %q", b)
	}
}

// A tweak is guarded: a destination file changed since the plan keeps its
// metadata.
func TestMetaTweakGuarded(t *testing.T) {
	e := native.New()
	sp, src, dst := metaSpec(t, "")
	write(t, filepath.Join(src, "a.txt"), "a", 0o644)
	applyMeta(t, e, sp, scanAll(t, e, sp).Changes.Slice())
	os.Chmod(filepath.Join(src, "a.txt"), 0o600)
	sc := scanAll(t, e, sp)
	write(t, filepath.Join(dst, "a.txt"), "changed", 0o644)
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "destination file changed since the plan") {
		t.Fatalf("skipped %v errors %v", res.Skipped, res.Errors)
	}
	if m := stat(t, filepath.Join(dst, "a.txt")).Mode & 0o777; m != 0o644 {
		t.Errorf("mode %o", m)
	}
}

// As an unprivileged user (uid 65534, the test binary run again), a set
// that copies owners copies what it may, says per file what it may not,
// and does not fail.
func TestMetaUnprivileged(t *testing.T) {
	if dir := os.Getenv("ROBO_META_CHILD"); dir != "" {
		unprivilegedChild(t, dir)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to start the unprivileged child")
	}
	dir, err := os.MkdirTemp("", "robo-meta-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	exe, _ := os.Executable()
	bin := filepath.Join(dir, "native.test")
	copyBin(t, exe, bin)
	src := filepath.Join(dir, "src")
	write(t, filepath.Join(src, "mine.txt"), "m", 0o640)
	write(t, filepath.Join(src, "theirs.txt"), "t", 0o644)
	os.Chown(dir, 65534, 65534)
	os.Chown(src, 65534, 65534)
	os.Chown(filepath.Join(src, "mine.txt"), 65534, 65534)
	os.Chown(filepath.Join(src, "theirs.txt"), 1000, 1000)
	cmd := exec.Command(bin, "-test.run=^TestMetaUnprivileged$", "-test.v")
	cmd.Env = append(os.Environ(), "ROBO_META_CHILD="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "--- PASS: TestMetaUnprivileged") {
		t.Fatalf("unprivileged child: %v\n%s", err, b)
	}
	if st := stat(t, filepath.Join(dir, "dst/theirs.txt")); st.Uid != 65534 || st.Mode&0o777 != 0o644 {
		t.Errorf("theirs.txt: %d %o", st.Uid, st.Mode)
	}
}

func unprivilegedChild(t *testing.T, dir string) {
	if os.Geteuid() != 65534 {
		t.Fatalf("child runs as %d", os.Geteuid())
	}
	e := native.New()
	sp := engine.Spec{Name: "meta", Source: filepath.Join(dir, "src"), Destination: filepath.Join(dir, "dst"), Mirror: true,
		CopyEmptyDirs: true, Threads: 2, Copy: "DATO"}
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: scanAll(t, e, sp).Changes}, engine.Discard)
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v %+v", err, res)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "theirs.txt: owner 1000:1000 not kept: only root may give a file away (robo runs as uid 65534)") {
		t.Fatalf("warnings: %q", res.Warnings)
	}
	if m := stat(t, filepath.Join(sp.Destination, "mine.txt")).Mode & 0o777; m != 0o640 {
		t.Errorf("mine.txt: %o", m)
	}
	// The owner still differs, so the next plan says so again (and the
	// next apply warns again): the gap is never silent.
	if got := tweaks(scanAll(t, e, sp).Changes.Slice()); !reflect.DeepEqual(got, []string{"theirs.txt: owner 65534:65534 → 1000:1000"}) {
		t.Fatalf("tweaks: %v", got)
	}
}

func copyBin(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	o, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(o, in); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMetaOwnerModeExact: with owners and modes copied (O and A) and no
// ACL, the copy's owner, group and mode are the source's exactly, setuid,
// setgid and sticky bits included (a chown clears setuid and setgid, so
// they are set after it), bits the umask would take included, for new
// files (an anonymous file linked in), updates (a temporary file renamed
// over the old one) and a file whose directory was created by the copy.
func TestMetaOwnerModeExact(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (chown to other users)")
	}
	e := native.New()
	sp, src, dst := metaSpec(t, "DATO")
	files := []struct {
		name     string
		mode     os.FileMode
		uid, gid int
	}{
		{"plain", 0o640, 1000, 1001},
		{"setgid", 0o2755 | os.ModeSetgid, 1000, 1001},
		{"setgid-noexec", 0o2644 | os.ModeSetgid, 1002, 1003},
		{"setuid", 0o4750 | os.ModeSetuid, 1000, 1000},
		{"sticky", 0o1777 | os.ModeSticky, 1001, 1002},
		{"all", 0o7777 | os.ModeSetuid | os.ModeSetgid | os.ModeSticky, 1003, 1004},
		{"wide", 0o777, 0, 1005},
		{"narrow", 0o400, 1006, 0},
		{"sub/deep", 0o2750 | os.ModeSetgid, 1007, 1008},
	}
	put := func(content string) {
		for _, f := range files {
			p := filepath.Join(src, f.name)
			write(t, p, content+f.name, f.mode)
			if err := os.Chown(p, f.uid, f.gid); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, f.mode); err != nil { // chown cleared setuid/setgid
				t.Fatal(err)
			}
			tm := time.Date(2024, 1, 1, 0, 0, 0, len(content), time.UTC)
			if err := os.Chtimes(p, tm, tm); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(when string) {
		t.Helper()
		for _, f := range files {
			s, d := stat(t, filepath.Join(src, f.name)), stat(t, filepath.Join(dst, f.name))
			if s.Mode&0o7777 != uint32(f.mode.Perm())|uint32(s.Mode&0o7000) || s.Uid != uint32(f.uid) {
				t.Fatalf("%s: the source is %o %d:%d", f.name, s.Mode, s.Uid, s.Gid)
			}
			if d.Mode != s.Mode || d.Uid != s.Uid || d.Gid != s.Gid || d.Mtim != s.Mtim {
				t.Errorf("%s %s: mode %o owner %d:%d time %v, source %o %d:%d %v", when, f.name, d.Mode, d.Uid, d.Gid, d.Mtim, s.Mode, s.Uid, s.Gid, s.Mtim)
			}
			b, err := os.ReadFile(filepath.Join(dst, f.name))
			if a, _ := os.ReadFile(filepath.Join(src, f.name)); err != nil || string(a) != string(b) {
				t.Errorf("%s %s: content %q, source %q (%v)", when, f.name, b, a, err)
			}
		}
	}
	put("one ")
	applyMeta(t, e, sp, scanAll(t, e, sp).Changes.Slice())
	check("created")
	put("second ")
	applyMeta(t, e, sp, scanAll(t, e, sp).Changes.Slice())
	check("updated")
	if cs := scanAll(t, e, sp).Changes; cs.Len() != 0 {
		t.Fatalf("after the update: %v", tweaks(cs.Slice()))
	}
}
