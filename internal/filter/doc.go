// Package filter owns robo's file selection rules: robocopy-style wildcard
// patterns for include filespecs (/IF-like file arguments), excluded files (/XF)
// and excluded directories (/XD).
//
// Rules are compiled once and answer two questions during a walk: should this
// file be considered, and should this directory be descended into. Excluded
// directories prune whole subtrees on both the source and the destination side,
// exactly as robocopy's /XD does, so an excluded destination directory is never
// purged by a mirror.
//
// Matching is case-insensitive on every OS (robocopy's behaviour). A pattern
// without a slash matches an entry's name; a pattern with a slash matches the
// entry's path relative to the set's root. '*' matches any run of characters
// (including none) and '?' matches exactly one character. The package is a leaf:
// it imports nothing from robo.
package filter
