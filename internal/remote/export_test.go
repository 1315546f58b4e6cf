package remote

import "io"

// SetSFTPWire sets testOnlySFTPWire for the connections dialled until the
// returned function restores it.
func SetSFTPWire(f func(io.WriteCloser) io.WriteCloser) (restore func()) {
	old := testOnlySFTPWire
	testOnlySFTPWire = f
	return func() { testOnlySFTPWire = old }
}
