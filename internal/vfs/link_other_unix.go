//go:build darwin

package vfs

// linkAt links obase of ofd as nbase of nfd once check accepts it, by
// name (macOS has no link from a descriptor).
func linkAt(ofd int, obase string, nfd int, nbase string, check func(Entry) string) (string, error) {
	return linkByName(ofd, obase, nfd, nbase, check)
}
