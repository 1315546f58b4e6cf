//go:build windows

package hooks

import (
	"os/exec"
	"syscall"
)

// killGroup leaves the default: a timeout or interrupt kills the command's
// process. Its own children are not killed (a job object would be needed);
// the output pipes are closed after waitDelay so robo does not wait for them.
func killGroup(cmd *exec.Cmd) {}

// setCmdLine gives cmd.exe its command line verbatim (cmdExeLine); other
// programs get Go's quoting, which is what the C runtime parses back.
func setCmdLine(cmd *exec.Cmd, argv []string) {
	if line, ok := cmdExeLine(argv); ok {
		cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: line}
	}
}
