package hooks

import (
	"os"
	"path/filepath"
)

// LogFilePatterns are the names of the files robo writes in its logs
// directory: robocopy's run logs, the native engine's run logs and hook
// logs (internal/runlog prunes the same).
var LogFilePatterns = []string{"robocopy-run-*.log", "native-run-*.log", "hook-*.log"}

// PrepareLogDir makes dir ready for logs that list private paths: it is
// created 0700 when missing. An existing dir is tightened to 0700 only when
// robo created it, which robo can tell only by its traces: a real directory
// (not a link), owned by robo's user, with exactly the 0755 that robo
// versions before issue 13 gave it, and holding nothing but robo's own log
// files. Any other directory (a link, another owner, a mode someone chose,
// other files) is left as it is: robo never changes the permissions of a
// directory it did not create (docs/safety.md, "Files robo writes").
func PrepareLogDir(dir string) error {
	fi, err := os.Lstat(dir)
	if os.IsNotExist(err) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 || !ownedByMe(fi) {
		return nil // os.CreateTemp reports what is wrong with dir, if anything
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isLogName(e.Name()) {
			return nil
		}
	}
	return os.Chmod(dir, 0o700)
}

func isLogName(name string) bool {
	for _, p := range LogFilePatterns {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}
