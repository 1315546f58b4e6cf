package state

import "io"

// Files robo replaces by renaming a new file over them (the state file, its
// backup, the watch status file) are read and renamed through ReadFile and
// Rename. On Windows a file can be renamed over only when every process
// holding it open allowed FILE_SHARE_DELETE; os.Open does not, so robo
// status, the dashboard or /metrics reading the state made an apply's state
// write fail with "Sharing violation" or "Access denied" (issue 14). The
// readers here allow it, and Rename retries briefly when a process robo does
// not control (a virus scanner, a backup agent, a script) holds the file.

// ReadFile reads a file that robo replaces by rename, without keeping that
// rename from happening on Windows.
func ReadFile(path string) ([]byte, error) {
	f, err := openShared(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Rename is os.Rename, retried on Windows for up to RenameRetryFor while the
// target (or the source) is open in a process that did not allow it to be
// replaced. Elsewhere it is os.Rename.
func Rename(from, to string) error { return rename(from, to) }

// ReplaceFile replaces path with b: a temporary file beside it, renamed
// over it with Rename. It is not fsynced: for files that need not survive
// a crash (the watch status file).
func ReplaceFile(path string, b []byte) error { return writeFile(path, b, false) }
