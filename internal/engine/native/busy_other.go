//go:build !windows

package native

// osBusy: only Windows has errors that mean "another program holds the
// file" (busy_windows.go).
func osBusy(error) bool { return false }
