//go:build !windows

package hooks

import (
	"os/exec"
	"syscall"
)

// killGroup starts the command in its own process group and makes a
// timeout or interrupt kill the whole group, so a shell script's children
// die with it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		// A negative pid names the process group.
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
}

// setCmdLine does nothing: Unix passes argv as it is.
func setCmdLine(cmd *exec.Cmd, argv []string) {}
