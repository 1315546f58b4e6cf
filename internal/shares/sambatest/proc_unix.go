//go:build unix

package sambatest

import "syscall"

func newProcessGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func sig(kill bool) syscall.Signal {
	if kill {
		return syscall.SIGKILL
	}
	return syscall.SIGTERM
}

func signalGroup(pgid int, kill bool) { syscall.Kill(-pgid, sig(kill)) }

func signalPid(pid int, kill bool) { syscall.Kill(pid, sig(kill)) }

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// pauseGroup stops (SIGSTOP) or continues (SIGCONT) a process group.
func pauseGroup(pgid int, stop bool) {
	if stop {
		syscall.Kill(-pgid, syscall.SIGSTOP)
	} else {
		syscall.Kill(-pgid, syscall.SIGCONT)
	}
}

// groupGone reports whether no process of the group is left (a zombie
// still counts until it is reaped).
func groupGone(pgid int) bool { return syscall.Kill(-pgid, 0) == syscall.ESRCH }
