package robocopy

import (
	"strings"
)

// Problem is one objection to an argument passed through Options.ExtraArgs.
// It is an error so that callers can join problems.
type Problem struct {
	Arg     string `json:"arg"`
	Message string `json:"message"`
}

func (p Problem) Error() string { return p.Arg + ": " + p.Message }

// forbidden maps switches (upper case, without ":value") that a reconciler
// must never pass to the reason, in words a person understands.
var forbidden = map[string]string{
	"/MON":     "makes robocopy run forever, watching the source for changes; robo schedules runs itself",
	"/MOT":     "makes robocopy run forever, re-running when the source changes; robo schedules runs itself",
	"/RH":      "restricts copying to run hours, so a job could wait for hours before starting; robo schedules runs itself",
	"/PF":      "checks run hours per file, so a job could pause midway; robo schedules runs itself",
	"/JOB":     "loads switches from a job file that robo cannot see; put the settings in robo's config instead",
	"/SAVE":    "writes a job file instead of leaving the configuration in robo's config",
	"/QUIT":    "makes robocopy stop after processing the command line, so nothing would be copied",
	"/NOSD":    "belongs to job files (no source directory); robo always passes the source",
	"/NODD":    "belongs to job files (no destination directory); robo always passes the destination",
	"/IF":      "belongs to job files (include files); use the include setting instead",
	"/REG":     "would store retry settings as this machine's defaults in the registry, changing every other robocopy run",
	"/L":       "is list-only mode; use robo's dry-run (plan) instead so robo knows nothing was copied",
	"/LOG":     "robo owns logging: it chooses the log file and format it parses",
	"/LOG+":    "robo owns logging: it chooses the log file and format it parses",
	"/UNILOG":  "robo owns logging: it chooses the log file and format it parses",
	"/UNILOG+": "robo owns logging: it chooses the log file and format it parses",
	"/MOV":     "moves files, deleting them from the source after copying; a backup must never touch the source",
	"/MOVE":    "moves files and directories, deleting them from the source; a backup must never touch the source",
	"/CREATE":  "creates only the directory tree and zero-length files, destroying the data in the backup copies",
	"/MIR":     "deletes files in the destination; set mode = \"mirror\" instead so robo's deletion safeguards apply",
	"/PURGE":   "deletes files in the destination; set mode = \"mirror\" instead so robo's deletion safeguards apply",
	"/R":       "robo always passes the retry count from its retries setting; set it there",
	"/W":       "robo always passes the retry wait from its retry_wait setting; set it there",
}

// ValidateExtraArgs checks user-supplied robocopy arguments. threads is the
// configured thread count (Options.Threads); a value above 1 means robo adds
// /MT itself. It reports switches robo must never pass (run-forever,
// job-file, logging, moving and deleting switches, /R and /W which robo always
// sets) and combinations robocopy rejects or that silently change behaviour:
// /MT with /IPG or /EFSRAW; /LFSM with /MT, /EFSRAW, /B or /ZB; /XX with
// /MIR or /PURGE. Matching is case-insensitive and ignores a ":value" suffix.
// Arguments that are not switches (values of /XF, /XD, /A+: ...) pass.
func ValidateExtraArgs(args []string, threads int) []Problem {
	var probs []Problem
	present := map[string]string{} // switch -> argument as written
	for _, a := range args {
		if strings.TrimSpace(a) == "" {
			probs = append(probs, Problem{Arg: a, Message: "empty argument; remove it"})
			continue
		}
		if strings.ContainsAny(a, "\x00\r\n") {
			probs = append(probs, Problem{Arg: a, Message: "contains a newline or NUL character"})
			continue
		}
		sw := switchName(a)
		if sw == "" {
			continue
		}
		if _, dup := present[sw]; !dup {
			present[sw] = a
		}
		if why, bad := forbidden[sw]; bad {
			probs = append(probs, Problem{Arg: a, Message: why})
		}
		if sw == "/MT" && threads > 1 {
			probs = append(probs, Problem{Arg: a, Message: "threads are already set in robo's config (/MT added by robo); set them in one place only"})
		}
		if sw == "/MT" {
			if v, ok := switchValue(a); ok && !validThreads(v) {
				probs = append(probs, Problem{Arg: a, Message: "the thread count must be a number from 1 to 128"})
			}
		}
	}
	mt, hasMT := present["/MT"]
	if threads > 1 {
		hasMT = true
		if mt == "" {
			mt = "threads setting (/MT)"
		}
	}
	conflict := func(a, b, why string) {
		if x, ok := present[a]; ok {
			probs = append(probs, Problem{Arg: x, Message: why + " (conflicts with " + b + ")"})
		}
	}
	if hasMT {
		conflict("/IPG", mt, "the inter-packet gap throttle cannot be used with multi-threaded copying; robocopy rejects the combination")
		conflict("/EFSRAW", mt, "copying encrypted files raw cannot be used with multi-threaded copying; robocopy rejects the combination")
	}
	if lf, ok := present["/LFSM"]; ok {
		if hasMT {
			probs = append(probs, Problem{Arg: lf, Message: "low-free-space mode cannot be used with multi-threaded copying (conflicts with " + mt + ")"})
		}
		for _, other := range []string{"/EFSRAW", "/B", "/ZB"} {
			if x, ok := present[other]; ok {
				probs = append(probs, Problem{Arg: lf, Message: "low-free-space mode cannot be used with " + x + "; robocopy rejects the combination"})
			}
		}
	}
	if xx, ok := present["/XX"]; ok {
		for _, p := range []string{"/MIR", "/PURGE"} {
			if x, ok := present[p]; ok {
				probs = append(probs, Problem{Arg: xx, Message: "/XX excludes extra files and directories, which silently turns off the purge requested by " + x})
			}
		}
	}
	return probs
}

// ValidateForSet is ValidateExtraArgs for a set that mirrors or not: with
// a mirror, /XX would silently turn robo's purge off.
func ValidateForSet(args []string, threads int, mirror bool) []Problem {
	probs := ValidateExtraArgs(args, threads)
	if mirror {
		for _, a := range args {
			if switchName(a) == "/XX" {
				probs = append(probs, Problem{Arg: a, Message: "/XX excludes extra files and directories, which silently turns mirroring (purge) off; drop /XX or set mode = \"copy\""})
			}
		}
	}
	return probs
}

// switchName returns the upper-case switch of a ("/MT:16" -> "/MT"), or ""
// when a is not a switch.
func switchName(a string) string {
	if !strings.HasPrefix(a, "/") || len(a) < 2 {
		return ""
	}
	name := a
	if i := strings.IndexByte(a, ':'); i > 0 {
		name = a[:i]
	}
	return strings.ToUpper(name)
}

func switchValue(a string) (string, bool) {
	i := strings.IndexByte(a, ':')
	if i < 0 {
		return "", false
	}
	return a[i+1:], true
}

func validThreads(v string) bool {
	n := 0
	if v == "" || len(v) > 3 {
		return false
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return false
		}
		n = n*10 + int(r-'0')
	}
	return n >= 1 && n <= 128
}

// hasSwitch reports whether args contain the switch name (upper case).
func hasSwitch(args []string, name string) bool {
	for _, a := range args {
		if switchName(a) == name {
			return true
		}
	}
	return false
}
