package native_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
)

// Issue 16: a destination file an admin made immutable or append-only is
// reported as such, not fought and not shown as a bare "operation not
// permitted". The flag stays set, the file unchanged.
func TestImmutableDestinationIsReported(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (chattr +i)")
	}
	if _, err := exec.LookPath("chattr"); err != nil {
		t.Skip("chattr not installed (Debian: e2fsprogs)")
	}
	e := native.New()
	sp, src, dst := metaSpec(t, "DAT")
	write(t, filepath.Join(src, "upd.txt"), "new content", 0o644)
	write(t, filepath.Join(dst, "upd.txt"), "old", 0o644)
	write(t, filepath.Join(dst, "gone.txt"), "extra", 0o644)
	write(t, filepath.Join(src, "log.txt"), "lines 1 and 2", 0o644)
	write(t, filepath.Join(dst, "log.txt"), "line 1", 0o644)
	chattr := func(flag, p string) {
		t.Helper()
		if out, err := exec.Command("chattr", flag, p).CombinedOutput(); err != nil {
			t.Skipf("this file system does not take chattr %s (%s): %v", flag, strings.TrimSpace(string(out)), err)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", "-a", p).Run() })
	}
	chattr("+i", filepath.Join(dst, "upd.txt"))
	chattr("+i", filepath.Join(dst, "gone.txt"))
	chattr("+a", filepath.Join(dst, "log.txt"))

	scan := scanAll(t, e, sp)
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: scan.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, fe := range res.Errors {
		got[fe.Path] = fe.Err
	}
	for path, want := range map[string]string{
		"upd.txt": "the destination file is immutable (chattr +i)",
		"log.txt": "the destination file is append-only (chattr +a)",
	} {
		if !strings.Contains(got[path], want) || !strings.Contains(got[path], "operation not permitted") {
			t.Errorf("%s: error %q, want it to say %q", path, got[path], want)
		}
	}
	// Deletions do not run after a failed copy; the file is intact.
	if b, _ := os.ReadFile(filepath.Join(dst, "upd.txt")); string(b) != "old" {
		t.Errorf("the immutable file changed: %q", b)
	}

	// Once the copies succeed, the deletion of an immutable file is
	// reported the same way.
	exec.Command("chattr", "-i", filepath.Join(dst, "upd.txt")).Run()
	exec.Command("chattr", "-a", filepath.Join(dst, "log.txt")).Run()
	os.Remove(filepath.Join(src, "log.txt"))
	scan = scanAll(t, e, sp)
	res, err = e.Apply(context.Background(), engine.Job{Spec: sp, Changes: scan.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var del string
	for _, fe := range res.Errors {
		if fe.Path == "gone.txt" {
			del = fe.Err
		}
	}
	if !strings.Contains(del, "the destination file is immutable (chattr +i): robo does not clear the flag; chattr -i it") {
		t.Errorf("deleting gone.txt: error %q (all: %v)", del, res.Errors)
	}
	if _, err := os.Stat(filepath.Join(dst, "gone.txt")); err != nil {
		t.Errorf("the immutable file was removed: %v", err)
	}
}
