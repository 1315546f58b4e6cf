// Package vfstest holds test helpers for code that reads and writes through
// vfs. Faulty wraps a real FS and fails chosen operations: tests run as root
// on these machines, where permission bits do not stop reads, so it is the
// only way to see an unreadable directory or a flaky disk. It is imported
// only by tests.
package vfstest
