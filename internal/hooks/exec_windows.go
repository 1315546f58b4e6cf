//go:build windows

package hooks

import "os/exec"

// killGroup leaves the default: a timeout or interrupt kills the command's
// process. Its own children are not killed (a job object would be needed);
// the output pipes are closed after waitDelay so robo does not wait for them.
func killGroup(cmd *exec.Cmd) {}
