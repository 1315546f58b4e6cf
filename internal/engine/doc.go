// Package engine owns robo's model of robocopy's semantics and the interface
// that every copy engine implements.
//
// The model: a Spec is one backup set fully resolved (roots, mode, filters,
// tolerances, retries); Classify is the one equality function that puts a file
// present on both sides into robocopy's classes (Same, Newer, Older, Changed);
// a Change is one planned file operation carrying the metadata seen when it
// was planned, so that it can be guarded when it is applied; a Result holds
// robocopy's counters (Dirs/Files/Bytes × Total/Copied/Skipped/Mismatch/
// FAILED/Extras) and the exit-code bits derived from them.
//
// Engines (internal/engine/native, internal/robocopy) implement Engine. They
// import this package and never import plan or apply; enginetest holds the
// conformance suite they all pass.
package engine
