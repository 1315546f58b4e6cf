// Package enginetest is the conformance suite that every engine passes: real
// temporary trees, a Scan, an Apply, and byte-for-byte comparisons of the
// result. Engines call Run from their own tests.
package enginetest
