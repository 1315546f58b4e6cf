package robocopy

import (
	"strconv"
	"strings"
)

// ExitCode is robocopy's process exit status, a bitmask (SEMANTICS.md §4):
//
//	0x01 one or more files copied
//	0x02 extra files or directories found (deleted under /MIR or /PURGE)
//	0x04 mismatched files or directories found
//	0x08 some files or directories could not be copied
//	0x10 fatal: nothing was copied (usage error, missing privilege,
//	     source or destination inaccessible)
//
// Success is a code below 8. A negative code (os/exec reports -1 when the
// process was killed by a signal or did not exit normally) is treated as fatal.
type ExitCode int

// Exit code bits.
const (
	ExitCopied     ExitCode = 0x01
	ExitExtras     ExitCode = 0x02
	ExitMismatches ExitCode = 0x04
	ExitFailed     ExitCode = 0x08
	ExitFatal      ExitCode = 0x10
)

// Fatal reports a serious error: robocopy copied nothing (code >= 16), or the
// process did not exit normally (negative code).
func (c ExitCode) Fatal() bool { return c >= ExitFatal || c < 0 }

// Failed reports that some files or directories could not be copied (bit 8)
// or that the run was fatal.
func (c ExitCode) Failed() bool { return c.Fatal() || c&ExitFailed != 0 }

// Copied reports that at least one file was copied.
func (c ExitCode) Copied() bool { return !c.Fatal() && c&ExitCopied != 0 }

// Extras reports that extra files or directories (present only in the
// destination) were found; with /MIR or /PURGE they were deleted.
func (c ExitCode) Extras() bool { return !c.Fatal() && c&ExitExtras != 0 }

// Mismatches reports that mismatched entries (file versus directory) were found.
func (c ExitCode) Mismatches() bool { return !c.Fatal() && c&ExitMismatches != 0 }

// OK reports success: a code from 0 to 7 (4 to 7 carry warnings).
func (c ExitCode) OK() bool { return c >= 0 && c < ExitFailed }

// String gives the code and its meaning in words, for example
// "3: files copied; extra files or directories found (deleted with /MIR)".
func (c ExitCode) String() string {
	n := strconv.Itoa(int(c))
	switch {
	case c < 0:
		return n + ": robocopy did not exit normally (killed or crashed); outcome unknown"
	case c >= ExitFatal:
		return n + ": fatal error: robocopy copied nothing (usage error, missing privilege, or source/destination inaccessible)"
	case c == 0:
		return n + ": no change: nothing copied, no extras, no mismatches, no failures (already in sync)"
	}
	var parts []string
	if c&ExitCopied != 0 {
		parts = append(parts, "files copied")
	}
	if c&ExitExtras != 0 {
		parts = append(parts, "extra files or directories found (deleted with /MIR)")
	}
	if c&ExitMismatches != 0 {
		parts = append(parts, "mismatched files or directories found (housekeeping needed)")
	}
	if c&ExitFailed != 0 {
		parts = append(parts, "some files or directories could not be copied (failures)")
	}
	return n + ": " + strings.Join(parts, "; ")
}
