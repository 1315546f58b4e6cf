package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// LVM thin snapshots go through the lvm2 CLI (lvs, lvcreate, lvchange,
// lvremove) and mount(8): a thin snapshot needs no size, is created in the
// thin pool, activated, mounted read-only on a robo-owned directory under
// the registry (mnt/NAME) and removed afterwards. A thick (non-thin) LV is
// not snapshotted: its snapshot needs a copy-on-write area whose size robo
// cannot know, and it is invalidated when that area fills up mid-copy.

func init() { providers[KindLVM] = lvmProvider{} }

// cmdTimeout bounds each lvm or mount command.
const cmdTimeout = 2 * time.Minute

// run runs a command and returns its output, or an error with it.
func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// LVM in a container or an initrd may have no udev: do not wait for it.
	cmd.Env = append(os.Environ(), "LVM_SUPPRESS_FD_WARNINGS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// lvmVolume is the thin LV behind dev, when it is one (nil otherwise).
func lvmVolume(dev uint64, m *mount) *volume {
	if m == nil {
		return nil
	}
	sys := fmt.Sprintf("/sys/dev/block/%d:%d/dm/", unix.Major(dev), unix.Minor(dev))
	uuid, err := os.ReadFile(sys + "uuid")
	if err != nil || !strings.HasPrefix(string(uuid), "LVM-") {
		return nil
	}
	name, err := os.ReadFile(sys + "name")
	if err != nil {
		return nil
	}
	if _, err := exec.LookPath("lvs"); err != nil {
		return nil
	}
	out, err := run(context.Background(), "lvs", "--noheadings", "--separator", "|", "-o", "vg_name,lv_name,segtype", "/dev/mapper/"+strings.TrimSpace(string(name)))
	if err != nil {
		return nil
	}
	f := strings.Split(strings.TrimSpace(out), "|")
	if len(f) != 3 || f[2] != "thin" {
		return nil
	}
	vglv := f[0] + "/" + f[1]
	return &volume{kind: KindLVM, key: "lvm:" + vglv, root: m.point, fsType: m.fsType,
		extra: map[string]string{"vg": f[0], "lv": f[1], "mountroot": m.root}}
}

// dmPath is the device-mapper node of vg/lv.
func dmPath(vg, lv string) string {
	return "/dev/mapper/" + strings.ReplaceAll(vg, "-", "--") + "-" + strings.ReplaceAll(lv, "-", "--")
}

type lvmProvider struct{}

func (lvmProvider) prepare(v *volume, rec *Snapshot) error {
	rec.Device = v.extra["vg"] + "/" + rec.Name
	rec.Mount = filepath.Join(v.extra["registry"], "mnt", rec.Name)
	rec.Root = rec.Mount
	if r := v.extra["mountroot"]; r != "" && r != "/" {
		rec.Root = filepath.Join(rec.Mount, r)
	}
	return nil
}

func (lvmProvider) create(ctx context.Context, v *volume, rec *Snapshot) error {
	vg, lv := v.extra["vg"], v.extra["lv"]
	if _, err := run(ctx, "lvcreate", "--quiet", "--snapshot", "--setactivationskip", "n", "--name", rec.Name, vg+"/"+lv); err != nil {
		return err
	}
	if _, err := run(ctx, "lvchange", "--quiet", "--activate", "y", "--ignoreactivationskip", rec.Device); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(rec.Mount), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(rec.Mount, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	opts := "ro"
	switch v.fsType {
	case "xfs":
		opts += ",nouuid,norecovery" // the origin, mounted, has the same UUID
	case "ext4", "ext3":
		opts += ",noload" // the journal is replayed by nobody: a crash-consistent image
	}
	_, err := run(ctx, "mount", "-t", v.fsType, "-o", opts, dmPath(vg, rec.Name), rec.Mount)
	return err
}

func (lvmProvider) remove(rec *Snapshot) error {
	vg, name, ok := strings.Cut(rec.Device, "/")
	if !ok || !namePattern.MatchString(name) || name != rec.Name || strings.HasPrefix(vg, "-") {
		return fmt.Errorf("not a robo snapshot: %s", rec.Device)
	}
	ctx := context.Background()
	if rec.Mount != "" {
		if isMountPoint(rec.Mount) {
			if _, err := run(ctx, "umount", rec.Mount); err != nil {
				return err
			}
		}
		if err := os.Remove(rec.Mount); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if _, err := exec.LookPath("lvs"); err != nil {
		return fmt.Errorf("cannot remove LVM snapshot %s: %v", rec.Device, err)
	}
	if _, err := run(ctx, "lvs", "--noheadings", rec.Device); err != nil {
		return nil // gone (or never created)
	}
	_, err := run(ctx, "lvremove", "--quiet", "--yes", rec.Device)
	return err
}

// isMountPoint reports whether dir is a mount point now.
func isMountPoint(dir string) bool {
	for _, m := range mounts() {
		if m.point == dir {
			return true
		}
	}
	return false
}
