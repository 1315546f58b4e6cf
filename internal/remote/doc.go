// Package remote owns robo's offsite destinations: connecting to a remote
// declared by a remote block (schema.Remote, translated by cmd/robo into a
// Config with its secrets resolved) and presenting a folder on it as a
// vfs.FS, so that the native engine's plan, guards, max_delete, empty-source
// refusal, deletions skipped after an error, filters, versions, verify and
// restore apply to it unchanged.
//
// It reaches SFTP servers through github.com/pkg/sftp (the client
// rclone's own sftp backend uses), with host keys checked against the
// remote's known_hosts lines, WebDAV servers through a small client on
// net/http and encoding/xml (webdav.go; why not a library:
// docs/offsite.md), which records the times robo gives files in a file in
// each folder because WebDAV cannot set them (webdav_times.go), and
// S3 through minio-go's low-level Core API and Azure Blob through
// Microsoft's azblob SDK, both as objFS (objfs.go): one vfs.FS over a small
// objStore interface per store, with implicit directories and marker
// objects, mtimes in rclone's metadata, and files written through
// vfs.AtomicCreator so that an object appears only whole, by a conditional
// write on what the destination guard saw.
//
// Bandwidth (a timetable, Config.BWLimit) and the number of files moving at
// once (Config.Transfers) are enforced here, for every FS of one Conn, so
// that a set's threads never exceed what the link was sized for.
//
// The package imports only internal/vfs. Errors name the remote and the
// path, never a credential.
package remote
