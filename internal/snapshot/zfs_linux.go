package snapshot

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// ZFS snapshots go through the zfs CLI: zfs snapshot DATASET@NAME, read
// through the dataset's DATASET_MOUNTPOINT/.zfs/snapshot/NAME (mounted by
// ZFS on first access, read-only by nature), zfs destroy DATASET@NAME
// afterwards. Not tested on this project's CI (Debian's kernel has no ZFS
// module): docs/snapshots.md says so.

func init() { providers[KindZFS] = zfsProvider{} }

type zfsProvider struct{}

func (zfsProvider) prepare(v *volume, rec *Snapshot) error {
	ds := v.extra["dataset"]
	if ds == "" || strings.HasPrefix(ds, "-") || strings.ContainsAny(ds, "@ \t\n") {
		return fmt.Errorf("%s is not a ZFS dataset name robo can snapshot", ds)
	}
	rec.ID = ds + "@" + rec.Name
	rec.Device = ds
	rec.Root = filepath.Join(v.root, ".zfs", "snapshot", rec.Name)
	if r := v.extra["mountroot"]; r != "" && r != "/" {
		rec.Root = filepath.Join(rec.Root, r)
	}
	return nil
}

func (zfsProvider) create(ctx context.Context, v *volume, rec *Snapshot) error {
	if _, err := exec.LookPath("zfs"); err != nil {
		return fmt.Errorf("the zfs command is needed to snapshot %s: %v", v.root, err)
	}
	_, err := run(ctx, "zfs", "snapshot", rec.ID)
	return err
}

func (zfsProvider) remove(rec *Snapshot) error {
	ds, name, ok := strings.Cut(rec.ID, "@")
	if !ok || ds != rec.Device || name != rec.Name || !namePattern.MatchString(name) || strings.HasPrefix(ds, "-") {
		return fmt.Errorf("not a robo snapshot: %s", rec.ID)
	}
	if _, err := exec.LookPath("zfs"); err != nil {
		return fmt.Errorf("cannot remove ZFS snapshot %s: %v", rec.ID, err)
	}
	ctx := context.Background()
	if _, err := run(ctx, "zfs", "list", "-H", "-t", "snapshot", "-o", "name", rec.ID); err != nil {
		return nil // gone (or never created)
	}
	_, err := run(ctx, "zfs", "destroy", rec.ID)
	return err
}
