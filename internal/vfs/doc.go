// Package vfs owns the narrow file-system interface that the native engine
// reads and writes through, and its local-disk implementation.
//
// An FS is bound to a root directory. Every name passed to it is a
// slash-separated path relative to that root ("" is the root itself), so the
// engine never builds OS paths and the same code drives a local folder or, with
// another implementation, an SMB share. Listings never follow symbolic links:
// a link is reported as a link.
//
// The package is a leaf: it imports nothing from robo.
package vfs
