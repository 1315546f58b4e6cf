package harden

import "golang.org/x/sys/windows"

// process keeps Windows Error Reporting from handling a crash of robo (and
// so from writing a LocalDumps dump or sending one to Microsoft). The Go
// runtime sets these flags at start, but GOTRACEBACK=wer clears
// SEM_NOGPFAULTERRORBOX; setting them again here undoes that.
func process() error {
	const mode = windows.SEM_FAILCRITICALERRORS | windows.SEM_NOGPFAULTERRORBOX | windows.SEM_NOOPENFILEERRORBOX
	old := windows.SetErrorMode(mode)
	windows.SetErrorMode(old | mode)
	return nil
}
