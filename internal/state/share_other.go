//go:build !windows

package state

import (
	"os"
	"time"
)

// RenameRetryFor is how long Rename retries on Windows; elsewhere a rename
// over an open file always succeeds and is never retried.
const RenameRetryFor time.Duration = 0

func openShared(path string) (*os.File, error) { return os.Open(path) }

func rename(from, to string) error { return os.Rename(from, to) }
