package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// btrfs snapshots are taken and deleted with the kernel's ioctls, not the
// btrfs CLI: robo needs no btrfs-progs at run time, and every step works
// on open directory descriptors, so no path component can be swapped
// between the checks and the snapshot (the subvolume's root is writable
// by others in general).

// hiddenDir is the robo-owned directory at the root of a subvolume that
// holds its snapshots while a run reads them (mode 0700, owned by robo's
// user, removed when empty).
const hiddenDir = ".robo-snapshots"

const (
	btrfsSuperMagic = 0x9123683E
	// btrfsFirstFreeObjectID is the inode number of every subvolume's
	// root directory.
	btrfsFirstFreeObjectID = 256
	btrfsSubvolRdonly      = 1 << 1
	// BTRFS_IOC_SNAP_CREATE_V2 = _IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2)
	btrfsIocSnapCreateV2 = 0x50009417
	// BTRFS_IOC_SNAP_DESTROY = _IOW(0x94, 15, struct btrfs_ioctl_vol_args)
	btrfsIocSnapDestroy = 0x5000940F
	btrfsSubvolNameMax  = 4039
	btrfsPathNameMax    = 4087
)

// btrfsVolArgsV2 is struct btrfs_ioctl_vol_args_v2 (4096 bytes).
type btrfsVolArgsV2 struct {
	Fd      int64
	Transid uint64
	Flags   uint64
	Unused  [4]uint64
	Name    [btrfsSubvolNameMax + 1]byte
}

// btrfsVolArgs is struct btrfs_ioctl_vol_args (4096 bytes).
type btrfsVolArgs struct {
	Fd   int64
	Name [btrfsPathNameMax + 1]byte
}

func init() {
	if unsafe.Sizeof(btrfsVolArgsV2{}) != 4096 || unsafe.Sizeof(btrfsVolArgs{}) != 4096 {
		panic("btrfs ioctl argument layout")
	}
	providers[KindBtrfs] = btrfsProvider{}
}

// btrfsVolume finds the subvolume p (resolved, on btrfs) lies in: the
// nearest ancestor on the same device whose inode is 256.
func btrfsVolume(p string) (*volume, error) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	dev := st.Dev
	d := p
	for {
		var ds unix.Stat_t
		if err := unix.Stat(d, &ds); err != nil {
			return nil, &os.PathError{Op: "stat", Path: d, Err: err}
		}
		if ds.Dev == dev && ds.Ino == btrfsFirstFreeObjectID {
			return &volume{kind: KindBtrfs, key: fmt.Sprintf("btrfs:%d", dev), root: d, fsType: "btrfs",
				extra: map[string]string{"hidden": hiddenDir}}, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return nil, fmt.Errorf("cannot find the btrfs subvolume %s lies in", p)
		}
		d = parent
	}
}

type btrfsProvider struct{}

func (btrfsProvider) prepare(v *volume, rec *Snapshot) error {
	rec.Device = filepath.Join(v.root, hiddenDir)
	rec.Root = filepath.Join(rec.Device, rec.Name)
	return nil
}

func (btrfsProvider) create(_ context.Context, v *volume, rec *Snapshot) error {
	src, err := unix.Open(v.root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: v.root, Err: err}
	}
	defer unix.Close(src)
	var st unix.Stat_t
	if err := unix.Fstat(src, &st); err != nil || st.Ino != btrfsFirstFreeObjectID {
		return fmt.Errorf("%s is no longer the root of a btrfs subvolume", v.root)
	}
	if err := unix.Mkdirat(src, hiddenDir, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return &os.PathError{Op: "mkdir", Path: rec.Device, Err: err}
	}
	dir, err := openOwnDir(src, rec.Device)
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	var args btrfsVolArgsV2
	args.Fd = int64(src)
	args.Flags = btrfsSubvolRdonly
	copy(args.Name[:], rec.Name)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(dir), btrfsIocSnapCreateV2, uintptr(unsafe.Pointer(&args))); e != 0 {
		return fmt.Errorf("cannot create a read-only btrfs snapshot of %s in %s: %w", v.root, rec.Device, e)
	}
	return nil
}

// openOwnDir opens name beneath parent without following a link and
// checks that it is robo's: a directory owned by robo's user that no one
// else can enter. Anything else (made by another user to catch robo's
// snapshots) is refused.
func openOwnDir(parent int, path string) (int, error) {
	fd, err := unix.Openat(parent, hiddenDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Uid != uint32(os.Geteuid()) || st.Mode&0o077 != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("%s is not robo's (owner uid %d, mode %04o; robo makes it owned by uid %d with mode 0700): remove it and run again",
			path, st.Uid, st.Mode&0o7777, os.Geteuid())
	}
	return fd, nil
}

func (btrfsProvider) remove(rec *Snapshot) error {
	if !namePattern.MatchString(rec.Name) || filepath.Base(rec.Device) != hiddenDir {
		return fmt.Errorf("not a robo snapshot: %s in %s", rec.Name, rec.Device)
	}
	volRoot := filepath.Dir(rec.Device)
	parent, err := unix.Open(volRoot, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return &os.PathError{Op: "open", Path: volRoot, Err: err}
	}
	defer unix.Close(parent)
	dir, err := openOwnDir(parent, rec.Device)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	var st unix.Stat_t
	switch err := unix.Fstatat(dir, rec.Name, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case errors.Is(err, unix.ENOENT):
		// Never created, or already deleted.
	case err != nil:
		return &os.PathError{Op: "stat", Path: rec.Root, Err: err}
	case st.Ino != btrfsFirstFreeObjectID || st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return fmt.Errorf("%s is not a btrfs snapshot: left alone", rec.Root)
	default:
		var args btrfsVolArgs
		copy(args.Name[:], rec.Name)
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(dir), btrfsIocSnapDestroy, uintptr(unsafe.Pointer(&args))); e != 0 && e != unix.ENOENT {
			return fmt.Errorf("cannot delete the btrfs snapshot %s: %w", rec.Root, e)
		}
	}
	// The directory goes when it is empty (another run's snapshot may
	// still be in it).
	unix.Unlinkat(parent, hiddenDir, unix.AT_REMOVEDIR)
	return nil
}
