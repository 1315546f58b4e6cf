// Package native owns robo's own copy engine: a march-style walk that
// classifies both trees with robocopy's rules (Scan) and an executor that
// performs a planned change list with guards, temp-file-and-rename writes and
// a pool of workers (Apply).
//
// It reads and writes only through internal/vfs, so the same code serves a
// local folder and, later, an SMB share. It imports engine, filter and vfs,
// never plan or apply.
package native
