// Package adopt owns robo import: it takes over destinations that already
// hold a backup (made by robocopy, rsync -a, cp -a or an earlier robo) by
// recording a set as applied when a fresh plan of it has nothing to do.
//
// It reads a plan.Plan and updates a state.State; it walks no trees (the
// plan did), touches no destination, and prints nothing: cmd/robo renders
// the plan's change lines for the sets that differ and writes the state
// under the lock.
package adopt
