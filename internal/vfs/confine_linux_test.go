package vfs

import "testing"

type resolveMode struct {
	name string
	set  func(t *testing.T)
}

// resolveModes: openat2 (when this kernel has it) and the component walk.
func resolveModes() []resolveMode {
	openat2Once.Do(func() {})
	had := noOpenat2
	var out []resolveMode
	if !had {
		out = append(out, resolveMode{"openat2", func(t *testing.T) {}})
	}
	return append(out, resolveMode{"walk", func(t *testing.T) {
		noOpenat2 = true
		t.Cleanup(func() { noOpenat2 = had })
	}})
}
