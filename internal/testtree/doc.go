// Package testtree builds real directory trees for tests and compares them
// byte for byte (restic's TestDir idea). It is imported only by tests.
package testtree
