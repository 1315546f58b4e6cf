// Package remotetest starts real storage servers on loopback for the tests
// of robo's remote destinations: OpenSSH's sshd for SFTP, versitygw for S3,
// Microsoft's Azurite for Azure Blob Storage and rclone's WebDAV server. No
// server is faked: each Start* runs the real program as a child of the test,
// on a free port of 127.0.0.1, with its files under t.TempDir(), waits until
// it answers (failing with its output when it does not within 120 s), and
// stops its whole process group in t.Cleanup. A program that is not
// installed skips the test with the reason, unless ROBO_REQUIRE_REMOTES=1
// (set by .ci/run), which makes it a failure.
//
// The servers and where each comes from:
//
//   - SFTP: Debian's openssh-server (`sshd -f CONFIG -D -e -p PORT`, Subsystem
//     sftp internal-sftp), with its own ed25519 host key and an
//     authorized_keys file holding a fresh ed25519 client key. It runs as the
//     test's user; as root it needs PermitRootLogin prohibit-password and
//     StrictModes no (the key files are in a temporary directory). There is
//     no chroot, so remote paths are absolute paths under SFTP.Root. sshd's
//     per-connection children leave the process group (setsid), so Stop
//     also kills every descendant found in /proc.
//   - S3: versitygw v1.8.0 (`go install
//     github.com/versity/versitygw/cmd/versitygw@v1.8.0`), the posix backend:
//     a bucket is a directory under S3.Root and an object a file in it.
//     MinIO's module has no semver versions on the module proxy and Debian's
//     radosgw needs a Ceph cluster. The bucket is created with a PUT signed
//     by this package's small SigV4 signer (sigv4.go, standard library only),
//     so it carries the gateway's ownership metadata as any client-made
//     bucket does. StartS3Versioned enables S3 versioning on it
//     (versitygw's --versioning-dir).
//   - Azure: Azurite 3.37.0 (`npm install azurite@3.37.0`), started as
//     `azurite-blob --blobHost 127.0.0.1 --blobPort PORT --location DIR
//     --skipApiVersionCheck --loose`, with the emulator's well-known
//     account; the container is created with a Shared Key-signed PUT
//     (azure.go). Clients must use path-style URLs (Azure.Endpoint).
//   - WebDAV: Debian's rclone 1.60 (`rclone serve webdav`) over a
//     directory, with basic auth. It was chosen over Apache's mod_dav
//     because it runs unprivileged without configuration (Apache refuses to
//     run as root and would need a www-data-writable tree), is already
//     installed for the benchmarks, and is a real, widely used server
//     (golang.org/x/net/webdav underneath, plus rclone's handling of
//     X-OC-Mtime). A test-only golang.org/x/net/webdav binary would be the
//     same code without the parts clients rely on.
//
// Each server type embeds its process: Stop (graceful, then SIGKILL to the
// tree), Kill (SIGKILL at once), Restart (same port, same files) and Log
// (the end of its output) serve tests of unreachable endpoints and dying
// servers. S3.Do, Azure.Do and WebDAV.Do send one authenticated request, so
// tests can look at what a client stored (metadata, versions) without a
// client library.
//
// # AWS_CA_BUNDLE
//
// This machine (and CI) exports AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt.
// Measured against this package's versitygw on a plain-http loopback
// endpoint, with static keys:
//
//   - Debian's rclone 1.60 CLI (AWS SDK for Go v1) refuses to build its S3
//     client: "LoadCustomCABundleError: unable to load custom CA bundle,
//     HTTPClient's transport unsupported type ... *fshttp.Transport", before
//     any request. The SDK applies the bundle to the HTTP client whatever
//     the endpoint's scheme, and rclone's own transport is not one it can
//     change.
//   - rclone v1.76.0's backend/s3 used as a library (AWS SDK for Go v2,
//     env_auth=false) and minio-go v7 both work, with the variable set, set
//     to a missing file, or unset: neither reads it.
//
// So robo must not depend on the variable being unset, and must not pass it
// on by accident: build the S3 client from robo's own configuration (static
// credentials, robo's http.Transport, TLS roots from the remote block or the
// system), never from the SDK's default environment loading
// (config.LoadDefaultConfig reads AWS_CA_BUNDLE and fails the same way with
// a transport it cannot rebuild). Test it with AWS_CA_BUNDLE set, as CI
// does, and also set to a missing file. Only tools outside robo get
// `env -u AWS_CA_BUNDLE`, for their own process (bench/offsite.sh does it
// for Debian's rclone): the variable names CA certificates for TLS, which a
// plain-http endpoint never uses.
//
// # Servers' own limits worth knowing
//
//   - rclone serve webdav 1.60 ignores X-OC-Mtime on PUT (the file gets the
//     upload time) and has no other way to set a modification time, so a
//     WebDAV client cannot keep mtimes on this server.
//   - Debian's rclone 1.60 cannot reach Azurite (its azureblob endpoint is
//     a host suffix; use_emulator builds "blob.core.windows.net"); a newer
//     rclone can.
package remotetest
