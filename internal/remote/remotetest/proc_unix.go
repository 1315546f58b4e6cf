//go:build unix

package remotetest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

func newProcessGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killTree sends SIGKILL to the process group pid, to every descendant of
// pid found in /proc now and to the processes in earlier (descendants found
// before an earlier signal): sshd's per-connection children call setsid and
// so leave the group.
func killTree(pid int, earlier []int) {
	kids := append(descendants(pid), earlier...)
	syscall.Kill(-pid, syscall.SIGKILL)
	for _, k := range kids {
		syscall.Kill(k, syscall.SIGKILL)
	}
}

// termGroup asks the process group to stop (SIGTERM).
func termGroup(pid int) { syscall.Kill(-pid, syscall.SIGTERM) }

// descendants lists the processes below pid by their parent ids in /proc
// (empty where there is no /proc).
func descendants(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	parent := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces; the
		// parent id is the second field after the closing parenthesis.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		pp, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		parent[pp] = append(parent[pp], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range parent[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// groupGone reports whether no process of the group is left.
func groupGone(pgid int) bool { return syscall.Kill(-pgid, 0) == syscall.ESRCH }

// pidGone reports whether process pid has exited: no such process, or a
// zombie waiting for its parent (init, for an orphan) to reap it.
func pidGone(pid int) bool {
	if syscall.Kill(pid, 0) == syscall.ESRCH {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return os.IsNotExist(err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && strings.HasPrefix(s[i+1:], " Z")
}
