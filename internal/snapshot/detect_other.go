//go:build !linux && !windows && !darwin

package snapshot

import "runtime"

func detect(source string) (*volume, error) {
	return nil, &UnsupportedError{Source: source, Why: "robo takes no snapshots on " + runtime.GOOS}
}
