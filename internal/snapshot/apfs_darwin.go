package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"
)

// APFS local snapshots (macOS): tmutil localsnapshot takes a snapshot of
// the APFS volumes Time Machine includes (the system's data volume), named
// com.apple.TimeMachine.DATE.local; robo mounts it read-only with
// mount_apfs -s on a robo-owned directory beside the registry, reads it,
// unmounts it and deletes it with tmutil deletelocalsnapshots DATE. It
// needs root and, since macOS 10.15, Full Disk Access for robo. Built and
// vetted on every commit, never run by this project's CI (no macOS host):
// docs/snapshots.md says so.

func init() { providers[KindAPFS] = apfsProvider{} }

func detect(source string) (*volume, error) {
	p, err := filepath.EvalSymlinks(source)
	if err != nil {
		return nil, &UnsupportedError{Source: source, Why: fmt.Sprintf("it cannot be read (%v)", err)}
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(p, &sfs); err != nil {
		return nil, &UnsupportedError{Source: source, Why: fmt.Sprintf("it cannot be read (%v)", err)}
	}
	fsType := unix.ByteSliceToString(sfs.Fstypename[:])
	mnt := unix.ByteSliceToString(sfs.Mntonname[:])
	if fsType != "apfs" {
		return nil, &UnsupportedError{Source: source, FSType: fsType, Why: "robo takes APFS local snapshots (tmutil) on macOS; put the source on an APFS volume, or set snapshot = \"auto\" to copy it live"}
	}
	dev := unix.ByteSliceToString(sfs.Mntfromname[:])
	return &volume{kind: KindAPFS, key: "apfs:" + mnt, root: mnt, fsType: fsType, source: source, resolved: p,
		extra: map[string]string{"device": dev}}, nil
}

var tmutilDate = regexp.MustCompile(`\b(\d{4}-\d{2}-\d{2}-\d{6})\b`)

type apfsProvider struct{}

func (apfsProvider) prepare(v *volume, rec *Snapshot) error {
	rec.Device = v.root
	rec.Mount = filepath.Join(v.extra["registry"], "mnt", rec.Name)
	rec.Root = rec.Mount
	return nil
}

func (apfsProvider) create(ctx context.Context, v *volume, rec *Snapshot) error {
	out, err := run(ctx, "tmutil", "localsnapshot")
	if err != nil {
		return err
	}
	m := tmutilDate.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("tmutil localsnapshot did not name the snapshot it made: %s", strings.TrimSpace(out))
	}
	rec.ID = m[1]
	if err := os.MkdirAll(rec.Mount, 0o700); err != nil {
		return err
	}
	_, err = run(ctx, "mount_apfs", "-o", "ro", "-s", "com.apple.TimeMachine."+rec.ID+".local", v.extra["device"], rec.Mount)
	return err
}

func (apfsProvider) remove(rec *Snapshot) error {
	ctx := context.Background()
	if rec.Mount != "" {
		var sfs unix.Statfs_t
		if unix.Statfs(rec.Mount, &sfs) == nil && unix.ByteSliceToString(sfs.Mntonname[:]) == rec.Mount {
			if _, err := run(ctx, "umount", rec.Mount); err != nil {
				return err
			}
		}
		if err := os.Remove(rec.Mount); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if rec.ID == "" || rec.ID == rec.Name {
		return nil // never created
	}
	if !tmutilDate.MatchString(rec.ID) {
		return fmt.Errorf("not an APFS snapshot date: %q", rec.ID)
	}
	out, _ := run(ctx, "tmutil", "listlocalsnapshotdates", rec.Device)
	if !strings.Contains(out, rec.ID) {
		return nil // gone
	}
	_, err := run(ctx, "tmutil", "deletelocalsnapshots", rec.ID)
	return err
}
