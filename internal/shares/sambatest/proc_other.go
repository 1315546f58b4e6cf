//go:build !unix

package sambatest

import (
	"os"
	"syscall"
)

// The fixture needs Unix (smbd, process groups); Available reports false
// before any of these could run.

func newProcessGroup() *syscall.SysProcAttr { return nil }

func signalGroup(pid int, kill bool) { signalPid(pid, kill) }

func signalPid(pid int, kill bool) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

func alive(pid int) bool { return false }

func pauseGroup(pgid int, stop bool) {}

func groupGone(pgid int) bool { return true }
