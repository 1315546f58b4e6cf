package harden

// Process hardens the calling process against crash dumps (see the package
// documentation). It is idempotent. An error says which step failed; the
// steps that could be done are done all the same.
func Process() error { return process() }
