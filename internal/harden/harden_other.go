//go:build !unix && !windows

package harden

func process() error { return nil }
