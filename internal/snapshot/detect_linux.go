package snapshot

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const zfsSuperMagic = 0x2FC12FC1

// detect finds the snapshottable volume source lies on.
func detect(source string) (*volume, error) {
	p, err := filepath.EvalSymlinks(source)
	if err != nil {
		return nil, &UnsupportedError{Source: source, Why: fmt.Sprintf("it cannot be read (%v)", err)}
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(p, &sfs); err != nil {
		return nil, &UnsupportedError{Source: source, Why: fmt.Sprintf("it cannot be read (%v)", err)}
	}
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return nil, &UnsupportedError{Source: source, Why: fmt.Sprintf("it cannot be read (%v)", err)}
	}
	m := mountOf(p, st.Dev)
	switch uint32(sfs.Type) {
	case btrfsSuperMagic:
		v, err := btrfsVolume(p)
		if err != nil {
			return nil, err
		}
		return withSource(v, source, p), nil
	case zfsSuperMagic:
		if m == nil {
			return nil, &UnsupportedError{Source: source, FSType: "zfs", Why: "its mount is not in /proc/self/mountinfo"}
		}
		return withSource(&volume{kind: KindZFS, key: "zfs:" + m.source, root: m.point, fsType: "zfs",
			extra: map[string]string{"dataset": m.source, "mountroot": m.root}}, source, p), nil
	}
	fsType := "unknown"
	if m != nil {
		fsType = m.fsType
	}
	if v := lvmVolume(st.Dev, m); v != nil {
		return withSource(v, source, p), nil
	}
	return nil, &UnsupportedError{Source: source, FSType: fsType, Why: supportedLinux + "; put the source on one of them, or set snapshot = \"auto\" to copy it live"}
}

// withSource records the source, as configured and with its links
// resolved (what maps into the snapshot).
func withSource(v *volume, source, resolved string) *volume {
	v.source, v.resolved = source, resolved
	return v
}

// mount is one line of /proc/self/mountinfo.
type mount struct {
	dev    uint64
	root   string // the mount's root within its file system
	point  string
	fsType string
	source string
	opts   string
}

// mountOf is the mount p lies on: the longest mount point containing p
// with p's device (nil when none is found).
func mountOf(p string, dev uint64) *mount {
	var best *mount
	for _, m := range mounts() {
		if m.dev != dev {
			continue
		}
		if _, err := relUnder(m.point, p); err != nil {
			continue
		}
		if best == nil || len(m.point) > len(best.point) {
			best = m
		}
	}
	return best
}

func mounts() []*mount {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []*mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m := parseMountinfo(sc.Text()); m != nil {
			out = append(out, m)
		}
	}
	return out
}

// parseMountinfo parses "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw".
func parseMountinfo(line string) *mount {
	f := strings.Fields(line)
	sep := -1
	for i, x := range f {
		if x == "-" && i >= 6 {
			sep = i
			break
		}
	}
	if sep < 0 || len(f) < sep+3 {
		return nil
	}
	maj, min, ok := strings.Cut(f[2], ":")
	if !ok {
		return nil
	}
	a, err1 := strconv.ParseUint(maj, 10, 32)
	b, err2 := strconv.ParseUint(min, 10, 32)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &mount{dev: unix.Mkdev(uint32(a), uint32(b)), root: unescapeMount(f[3]), point: unescapeMount(f[4]),
		opts: f[5], fsType: f[sep+1], source: unescapeMount(f[sep+2])}
}

// unescapeMount undoes the kernel's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
