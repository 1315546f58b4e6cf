package remote

import "io"

// SetSFTPWire sets testOnlySFTPWire for the connections dialled until the
// returned function restores it.
func SetSFTPWire(f func(io.WriteCloser) io.WriteCloser) (restore func()) {
	old := testOnlySFTPWire
	testOnlySFTPWire = f
	return func() { testOnlySFTPWire = old }
}

// SetWebDAVCachedDirs sets how many folders' records of times a WebDAV
// connection keeps in memory, until the returned function restores it.
func SetWebDAVCachedDirs(n int) (restore func()) {
	old := maxCachedDirs
	maxCachedDirs = n
	return func() { maxCachedDirs = old }
}

// WebDAVCachedDirs returns how many folders' records of times the WebDAV
// connection c holds now, and the most it held at once.
func WebDAVCachedDirs(c *Conn) (now, peak int) {
	f, err := c.Open("")
	if err != nil {
		return -1, -1
	}
	t := f.(*davFS).d.times
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.dirs), t.peak
}

// SetWebDAVMaxRecord sets the size from which a folder's record of times
// is refused, until the returned function restores it.
func SetWebDAVMaxRecord(n int64) (restore func()) {
	old := maxTimesFile
	maxTimesFile = n
	return func() { maxTimesFile = old }
}

// SetFlatBatch sets how many keys a flat listing reads at most (0: no
// flat listing), until the returned function restores it.
func SetFlatBatch(n int) (restore func()) {
	old := flatBatch
	flatBatch = n
	return func() { flatBatch = old }
}
