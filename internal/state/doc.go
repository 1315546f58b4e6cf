// Package state owns robo's record of what it has applied: the JSON state
// file (format version, a serial that goes up on every write, a lineage that
// identifies one history, and one record per backup set) and the exclusive
// lock that guards it.
//
// Writes are atomic: the new state goes to a temporary file in the same
// directory, is fsynced and renamed over the old one, and the previous
// version is kept as a .backup file first. The lock is an OS file lock (so a
// crashed holder never leaves it held) with a sidecar file saying who holds
// it. The package knows nothing of configs, plans or engines.
package state
