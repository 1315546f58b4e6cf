// Package audit owns robo's tamper-evident audit trail: an append-only file
// of JSON lines, one security-relevant event each (configuration loaded,
// plan and apply started and finished, state lock and unlock, secret
// decrypted, share connected and disconnected, service installed and
// removed). Every entry carries a sequence number and the hash of the
// previous entry, and its own hash over everything else, so Verify finds an
// edited, removed, inserted or reordered entry and says where. The file is
// rotated by size (Log.MaxSize, Log.Keep); the chain runs across the
// rotated files and Verify checks it across them, naming file and line.
//
// What it cannot see: lost entries at the very end (a truncated tail looks
// like a shorter trail) unless the caller compares with a head it recorded
// elsewhere, and a trail rewritten wholesale by someone who recomputes every
// hash. Entries never hold secret values: callers pass names only.
//
// The package imports nothing from robo.
package audit
