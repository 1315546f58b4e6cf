//go:build !linux && !windows

package snapshot

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

const cmdTimeout = 2 * time.Minute

// run runs a command and returns its output, or an error with it.
func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
