// Package shares will own access to SMB shares by UNC path: temporary
// deviceless connections on Windows and a built-in SMB2 client elsewhere,
// each cleaned up after use. Not implemented yet: see the shares and
// secrets issue.
package shares
