//go:build !windows

package engine

import "os"

// openSpill makes a temporary file in dir, readable only by its owner,
// and unlinks it at once: it goes when its last descriptor closes, at the
// latest when robo exits, however it exits.
func openSpill(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, ".robo-changes-*.tmp")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
