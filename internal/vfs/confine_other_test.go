//go:build !linux

package vfs

import "testing"

type resolveMode struct {
	name string
	set  func(t *testing.T)
}

func resolveModes() []resolveMode { return []resolveMode{{"walk", func(t *testing.T) {}}} }
