// Package shares owns robo's access to SMB shares named by UNC paths
// (\\server\share\dir). It provides building blocks; the config's share
// blocks and the engine's Open function are wired elsewhere.
//
// # What it owns
//
//   - UNC paths: ParseUNC, UNC.String, UNC.Within (case-insensitive, as on
//     Windows).
//   - Credentials (`DOMAIN\user` or `user@domain` via ParseUser, and a
//     password that String, GoString and every fmt verb redact; error texts
//     never contain it).
//   - Dial: robo's own SMB2/3 client connection (github.com/cloudsoda/go-smb2,
//     NTLM) to one share, with errors classified as ErrLogonFailure,
//     ErrNoSuchShare, ErrAccessDenied, ErrUnreachable or ErrTimeout and
//     worded with server, share and user. Conn.FS returns a vfs.FS rooted at
//     a directory of the share, for the native engine.
//   - Pool: opens UNC roots on the shares of several Mounts, dialling each
//     share on first use; Pool.Open fits native.Engine.Open. Refused logons
//     are not retried (repeating them can lock the account out). Each share
//     gets Options.Sessions sessions (default 2, each its own TCP
//     connection; the first dialled by the first Open, the others in the
//     background, once each), and a file system spreads its operations over
//     those that are up: a server serves one connection's requests in order
//     (Samba: one smbd process per connection).
//   - Connect (Windows only): a temporary deviceless connection
//     (WNetAddConnection2W with CONNECT_TEMPORARY, no drive letter) so the OS
//     and robocopy.exe reach the share as the configured account; its
//     disconnect func undoes it. Elsewhere it returns an error.
//
// # Behaviour of the SMB file system
//
//   - Names are slash-separated and validated (fs.ValidPath, no backslash);
//     errors are *fs.PathError naming the full UNC path and wrap
//     fs.ErrNotExist, fs.ErrExist, fs.ErrPermission, fs.ErrInvalid (invalid
//     names such as "a:b") and syscall.ENOTEMPTY where they apply.
//   - Times: modification times have 100 ns resolution (FILETIME); Chtimes
//     always sends a real access time (now). Creation times and the hidden,
//     system and archive attributes are neither read nor set.
//   - Modes: only the DOS read-only attribute exists. Files report 0644, or
//     0444 when read-only; directories 0755. Permission bits given to Mkdir
//     and CreateTemp are ignored. When a delete or rename is refused, a
//     read-only attribute on the target is cleared and the operation tried
//     once more (Windows servers refuse both on read-only files; Samba does
//     not).
//   - CreateTemp creates a new file with FILE_CREATE (O_EXCL); Rename
//     replaces its target (go-smb2 sends ReplaceIfExists).
//   - Large transfers: a Writer's ReadFrom (which io.Copy and io.CopyN use)
//     writes 1 MiB requests (go-smb2's largest), four in flight; a Reader
//     asks for 1 MiB at a time however little the caller reads. go-smb2
//     sends one request at a time and io.Copy's 32 KiB pieces would cost a
//     round trip each. Each message goes out with its transport header in
//     one write, and answers are read through a buffer (frameConn).
//   - Round trips for one small file copied from a local tree, with the
//     native engine: 10 requests (stat of the final name; create of the
//     temporary file, write, close; set times: create, set info, close;
//     rename: create, set info, close). go-smb2's public API cannot set
//     times or rename through the handle that wrote the file, nor compound
//     requests.
//   - Case: lookups are case-insensitive on Windows and on Samba's default
//     configuration; names differing only in case collide, so set the native
//     engine's FoldCase for any set with a share on either side. Names ending
//     in a dot or space do not round-trip (Samba shows them mangled).
//
// # Reconnects
//
// go-smb2 does not reconnect. A Conn does: an operation that fails because
// the connection broke (a *smb2.TransportError, or a server status saying
// the session or tree is gone) re-dials up to Options.Redials times (4),
// waiting Options.RedialWait (500 ms) before the second attempt and doubling
// up to 10 s, then runs once more on the new session. If re-dialling fails,
// the operation fails with a *LostError, which the native engine treats as
// transient and retries after its retry wait; for RedialWait after a failed
// re-dial, operations fail at once instead of each waiting the backoff
// again. Files already open when the connection broke stay broken: their
// reads and writes fail and the engine retries the whole change. A rename or
// remove repeated after a reconnect counts as done when the first attempt
// evidently succeeded. Refused logons are never retried.
//
// # Gaps
//
//   - No DFS: \\domain\dfsroot namespaces do not resolve (go-smb2 has no
//     referral support). Use the target server's own UNC path.
//   - No symbolic links: Symlink and Readlink fail with
//     ErrSymlinksUnsupported (also errors.ErrUnsupported). Links stored on
//     the server are reported as vfs.Symlink when recognisable: reparse
//     points (symlinks, junctions) on Windows servers and, since Samba shows
//     server-side Unix symlinks as their targets, directories whose file id
//     was already seen at another path in the same file system (a link to a
//     parent, or two entries of one listing sharing an id, in which case
//     both, including the real directory, are reported as links and so left
//     alone). Remove refuses entries reported as links.
//   - Confinement (confine.go): the server resolves every path, so before
//     the first operation beneath a directory in a file system's life, the
//     root and each directory on the way are checked: the same file id as
//     when this connection listed it, no reparse point, no link followed by
//     go-smb2 (STATUS_STOPPED_ON_SYMLINK is vfs.ErrNotFollowed). RootID
//     gives the plan the root's file id. A swap after a directory's check,
//     and for a plan made by another process a swap below the root on a
//     server that follows links itself (Samba), are not seen.
//   - Residual risk: a server-side directory symlink whose target is
//     listed later than the link, or lies outside the tree being walked (for
//     example elsewhere on the share), looks like an ordinary directory. A
//     mirror whose destination holds one and whose source lacks it deletes
//     the files seen through it, one by one (the engine never deletes a tree
//     at once, and never removes a non-empty directory): that is data outside
//     the mirror's own tree. Do not keep server-side symlinks in a mirror
//     destination on a Samba share, or set `follow symlinks = no` on it.
//     Links that point outside the share are hidden by Samba (wide links =
//     no) and are not at risk.
//   - Conn.FS operations are bound to the context given to FSContext (or
//     none): the engine's per-run cancellation reaches them only that way.
//   - Kerberos is not used (NTLM only), signing and encryption are
//     whatever the server requires.
//
// # Tests
//
// internal/shares/sambatest starts a private smbd on loopback for a test
// (config, passdb and shares under t.TempDir(), a free port, ~0.2 s), with
// shares data (read-write), ro (read-only) and private (denied by Unix
// permissions), two accounts, Kill and Restart for connection-loss tests.
// It needs samba and smbclient installed and root; without them the tests
// skip, unless ROBO_REQUIRE_SAMBA is set (CI sets it), when they fail. The
// tests here cover the file system operations, error classification and
// wording, password redaction, reconnects after the server is killed, and
// the engine conformance suite (enginetest.RunWith) in the directions
// local→share, share→local and share→share.
package shares
