package state

// syncDir is a no-op on Windows, where directories cannot be fsynced and
// MoveFileEx is used by os.Rename.
func syncDir(string) {}
