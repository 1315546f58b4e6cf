package hooks_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/robo-backup/robo/internal/hooks"
	"github.com/robo-backup/robo/schema"
)

func perm(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// Issue 13: hook logs list private paths (the command line, the hook's
// output). A hook run creates its logs directory 0700 and each log 0600;
// the 0755 directory an older robo made (robo's own log files only) is
// tightened to 0700; a directory robo did not make (another mode, other
// files, a link) keeps its permissions.
func TestLogDirPermissions(t *testing.T) {
	needSh(t)
	base := t.TempDir()
	run := func(logs string) string {
		r := &hooks.Runner{Dir: base, LogDir: logs, Sets: map[string]schema.Hooks{"db": {Before: []string{"sh", "-c", "echo hi"}}}}
		res := r.Run(context.Background(), hooks.Call{Set: "db", Phase: hooks.Before})
		if !res.OK() || res.LogFile == "" {
			t.Fatalf("%+v", res)
		}
		if got := perm(t, res.LogFile); got != 0o600 {
			t.Errorf("log %s is %o, want 600", res.LogFile, got)
		}
		return res.LogFile
	}
	chmod := func(p string, m os.FileMode) {
		if err := os.Chmod(p, m); err != nil { // umask-proof
			t.Fatal(err)
		}
	}

	fresh := filepath.Join(base, "fresh", ".robo", "logs")
	run(fresh)
	if got := perm(t, fresh); got != 0o700 {
		t.Errorf("new logs dir is %o, want 700", got)
	}

	// What robo made before: 0755 with its own logs in it.
	old := filepath.Join(base, "old")
	os.Mkdir(old, 0o755)
	chmod(old, 0o755)
	for _, n := range []string{"hook-db-before-20240101T000000Z-1.log", "native-run-db-20240101T000000Z.log", "robocopy-run-db-20240101T000000Z.log"} {
		os.WriteFile(filepath.Join(old, n), nil, 0o600)
	}
	run(old)
	if got := perm(t, old); got != 0o700 {
		t.Errorf("old robo logs dir is %o, want 700", got)
	}

	// Not robo's: a mode someone chose, or other files beside the logs.
	chosen := filepath.Join(base, "chosen")
	os.Mkdir(chosen, 0o750)
	chmod(chosen, 0o750)
	run(chosen)
	shared := filepath.Join(base, "shared")
	os.Mkdir(shared, 0o755)
	chmod(shared, 0o755)
	os.WriteFile(filepath.Join(shared, "README"), nil, 0o644)
	run(shared)
	// A link to a directory: neither the link nor its target changes.
	target := filepath.Join(base, "target")
	os.Mkdir(target, 0o755)
	chmod(target, 0o755)
	link := filepath.Join(base, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	run(link)
	for p, want := range map[string]os.FileMode{chosen: 0o750, shared: 0o755, target: 0o755} {
		if got := perm(t, p); got != want {
			t.Errorf("%s is %o, robo changed it (want %o)", p, got, want)
		}
	}
}
