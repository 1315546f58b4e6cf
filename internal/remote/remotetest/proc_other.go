//go:build !unix

package remotetest

import (
	"os"
	"syscall"
)

// The servers are Unix programs; on other systems lookups fail first and
// the tests skip, so these are only for the build.

func newProcessGroup() *syscall.SysProcAttr { return nil }

func killTree(pid int, _ []int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

func termGroup(pid int) { killTree(pid, nil) }

func groupGone(pgid int) bool { return true }

func pidGone(pid int) bool { return true }

func descendants(pid int) []int { return nil }
