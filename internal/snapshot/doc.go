// Package snapshot owns reading a backup set's source from a snapshot of
// its volume (issue 17, docs/snapshots.md): finding which volume a source
// lies on and whether it can be snapshotted (a btrfs subvolume, an LVM
// thin volume, a ZFS dataset, an APFS volume, an NTFS or ReFS volume
// through VSS), taking one snapshot per volume for all the sets of a run
// that share it (reference-counted), mapping a live path to the same path
// inside the snapshot, and removing the snapshot afterwards.
//
// Every snapshot is recorded, before it is created, in a registry under
// the state directory (one small 0600 file per snapshot, locked by the
// process that owns it), and the record goes only once the snapshot is
// removed: a snapshot whose owner died (kill -9, a power cut) is found and
// removed by Cleanup on the next start.
//
// Engines wraps the engines of a run so that a set with snapshot = "auto"
// or "required" is scanned, applied and verified from its snapshot, while
// the plan still records and apply still checks the live source root's
// identity (docs/snapshots.md, "Root identity").
//
// The package imports internal/engine (the engine interface it decorates)
// and internal/vfs (the root identity the engines use), nothing else of
// robo: it neither reads the configuration nor writes the state.
package snapshot
