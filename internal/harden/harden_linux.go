package harden

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

func process() error {
	var errs []error
	// Not dumpable: the kernel writes no core (to a file or to a
	// core_pattern pipe) and /proc/PID/{mem,environ,...} belong to root.
	// It is reset by execve, so hooks and other children are not affected.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		errs = append(errs, fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", err))
	}
	if err := noCore(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Dumpable reports the calling process's PR_GET_DUMPABLE value (0: not
// dumpable); for tests and diagnostics.
func Dumpable() (int, error) {
	return unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
}
