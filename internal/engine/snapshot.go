package engine

import "time"

// SnapshotRef names the snapshot a set was read from (docs/snapshots.md):
// set in Result.Snapshot by internal/snapshot's engine wrapper, nil when
// the set was read live.
type SnapshotRef struct {
	Kind    string    `json:"kind"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// Volume is the live directory the snapshot is of.
	Volume string `json:"volume"`
	// Source is the path the engine read the set's source from.
	Source string `json:"source"`
}
