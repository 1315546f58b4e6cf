package robocopy

import (
	"sort"
	"strings"
)

// Problem is one objection to an argument passed through Options.ExtraArgs.
// It is an error so that callers can join problems. Index is the argument's
// position in the list (so a config diagnostic can point at the element).
type Problem struct {
	Index   int    `json:"index"`
	Arg     string `json:"arg"`
	Message string `json:"message"`
}

func (p Problem) Error() string { return p.Arg + ": " + p.Message }

// Verdict says what robo does with one switch in extra_args.
type Verdict int

const (
	// Refused: the switch changes or hides robocopy's listing, touches the
	// source, runs forever, or belongs to robo; the config is rejected.
	Refused Verdict = iota
	// Mapped: robo has an attribute for it; the config is rejected with the
	// attribute's name, so that both engines and the plan see the setting.
	Mapped
	// Allowed: harmless to robo's plan (the /L listing runs with it too, so
	// the plan shows its effect) and passed as written.
	Allowed
)

// SwitchPolicy is robo's decision for one robocopy switch.
type SwitchPolicy struct {
	Verdict Verdict
	// Why is the reason in words, ending with what to do instead (for a
	// mapped switch, the robo attribute).
	Why string
}

const (
	listingWhy = "changes or hides lines of robocopy's listing, which robo reads to make the plan: the plan would not show what the run copies or deletes (max_delete and the empty-source refusal would see nothing); remove it"
	ownedWhy   = "is passed by robo itself for its log reading; remove it"
	foreverWhy = "robo schedules runs itself; remove it"
	sourceWhy  = "a backup must never modify the source; remove it"
)

// switchPolicies is the extra_args policy, one entry per switch robocopy
// documents (upper case, without ":value"). A switch not listed here is
// refused: robo cannot tell whether it changes the listing. docs/robocopy.md
// carries the same table.
var switchPolicies = map[string]SwitchPolicy{
	// Mapped to robo attributes.
	"/MIR":     {Mapped, "deletes in the destination; use mode = \"mirror\" so that robo's deletion safeguards apply"},
	"/PURGE":   {Mapped, "deletes in the destination; use mode = \"mirror\" so that robo's deletion safeguards apply"},
	"/E":       {Mapped, "robo chooses recursion itself; use copy_empty_dirs = true"},
	"/S":       {Mapped, "robo chooses recursion itself; use copy_empty_dirs = false"},
	"/XF":      {Mapped, "use exclude_files, which both engines and the plan honour"},
	"/XD":      {Mapped, "use exclude_dirs, which both engines and the plan honour"},
	"/XO":      {Mapped, "use exclude_older = true"},
	"/FFT":     {Mapped, "use time_tolerance = \"2s\""},
	"/XJ":      {Mapped, "use symlinks = \"skip\" (robo passes the switches this robocopy version knows)"},
	"/XJD":     {Mapped, "use symlinks = \"skip\" (robo passes the switches this robocopy version knows)"},
	"/XJF":     {Mapped, "use symlinks = \"skip\" (robo passes the switches this robocopy version knows)"},
	"/SL":      {Mapped, "use symlinks = \"copy\" (robo passes the switches this robocopy version knows)"},
	"/SJ":      {Mapped, "use symlinks = \"copy\" (robo passes the switches this robocopy version knows)"},
	"/MT":      {Mapped, "use threads = n (robo drops /MT on robocopy versions without it)"},
	"/R":       {Mapped, "robo always passes the retry count; use retries = n"},
	"/W":       {Mapped, "robo always passes the retry wait; use retry_wait = \"10s\""},
	"/DCOPY":   {Mapped, "use directory_copy = \"DAT\" (robo's letters, robocopy's /DCOPY: vocabulary; robo passes what this robocopy version knows, so that the native engine and the plan see the same setting)"},
	"/NODCOPY": {Mapped, "robo always creates the directories it copies; use directory_copy = \"D\" to copy nothing else of them"},
	"/COPY":    {Mapped, "use copy = \"DATSOU\" (robocopy's /COPY: letters), so that both engines, the plan and robo verify see what the set copies"},
	"/SEC":     {Mapped, "use copy = \"sec\" (the same as DATS), so that both engines, the plan and robo verify see what the set copies"},
	"/COPYALL": {Mapped, "use copy = \"DATSOU\" (or \"all\", which adds extended attributes), so that both engines, the plan and robo verify see what the set copies"},
	"/SECFIX":  {Mapped, "robo passes /SECFIX itself when copy has S, O or U, so that a security-only change is propagated; set copy instead"},
	"/IT":      {Mapped, "robo passes /IT itself when copy has A, so that an attribute-only change is propagated; set copy instead (without A to leave it out)"},

	// Listing-changing switches: the plan would lie.
	"/NFL": {Refused, listingWhy}, "/NDL": {Refused, listingWhy}, "/NJH": {Refused, listingWhy},
	"/NJS": {Refused, listingWhy}, "/TS": {Refused, listingWhy}, "/ETA": {Refused, listingWhy},
	"/NC": {Refused, listingWhy}, "/NS": {Refused, listingWhy}, "/X": {Refused, listingWhy},
	"/UNICODE": {Refused, listingWhy}, "/QUIT": {Refused, "stops robocopy after reading the command line, so nothing would be listed or copied; remove it"},
	"/L":       {Refused, "is list-only mode, which robo uses for plans; use robo plan"},
	"/LOG":     {Refused, "robo owns logging: it chooses the log file and format it parses; remove it"},
	"/LOG+":    {Refused, "robo owns logging: it chooses the log file and format it parses; remove it"},
	"/UNILOG":  {Refused, "robo owns logging: it chooses the log file and format it parses; remove it"},
	"/UNILOG+": {Refused, "robo owns logging: it chooses the log file and format it parses; remove it"},
	// robo passes these itself; a second copy is harmless.
	"/NP": {Allowed, ownedWhy}, "/BYTES": {Allowed, ownedWhy}, "/FP": {Allowed, ownedWhy}, "/TEE": {Allowed, ownedWhy},
	"/V": {Allowed, "adds skipped-file lines (lowercase classes), which robo reads and ignores"},

	// Source-modifying, destructive or long-running.
	"/MOV":    {Refused, "moves files, deleting them from the source after copying; " + sourceWhy},
	"/MOVE":   {Refused, "moves files and directories, deleting them from the source; " + sourceWhy},
	"/M":      {Refused, "clears the archive attribute of the source files it copies; " + sourceWhy},
	"/A+":     {Refused, "sets attributes on the copies, so the destination no longer matches what the plan compared; remove it"},
	"/A-":     {Refused, "clears attributes on the copies, so the destination no longer matches what the plan compared; remove it"},
	"/CREATE": {Refused, "creates only the directory tree and zero-length files, destroying the data in the backup copies; remove it"},
	"/NOCOPY": {Refused, "copies no file data, so files the plan lists as copied would not be; remove it (copy = \"...\" says what the set copies, and always includes D)"},
	"/FAT":    {Refused, "creates 8.3 names in the destination, which no plan or state can follow; remove it"},
	"/MON":    {Refused, "makes robocopy run forever, watching the source for changes; " + foreverWhy},
	"/MOT":    {Refused, "makes robocopy run forever, re-running when the source changes; " + foreverWhy},
	"/RH":     {Refused, "restricts copying to run hours, so a job could wait for hours before starting; " + foreverWhy},
	"/PF":     {Refused, "checks run hours per file, so a job could pause midway; " + foreverWhy},
	"/JOB":    {Refused, "loads switches from a job file that robo cannot see; put the settings in robo's config instead"},
	"/SAVE":   {Refused, "writes a job file instead of leaving the configuration in robo's config; remove it"},
	"/NOSD":   {Refused, "belongs to job files (no source directory); robo always passes the source; remove it"},
	"/NODD":   {Refused, "belongs to job files (no destination directory); robo always passes the destination; remove it"},
	"/IF":     {Refused, "belongs to job files (include files); use include instead"},
	"/REG":    {Refused, "would store retry settings as this machine's defaults in the registry, changing every other robocopy run; remove it"},
	"/XX":     {Allowed, "excludes extra files and directories (refused for a mirror)"},

	// Harmless: selection and copy details that the /L listing reflects,
	// or transfer tuning.
	"/XN": {Allowed, ""}, "/XC": {Allowed, ""}, "/XL": {Allowed, ""}, "/IS": {Allowed, ""},
	"/IM": {Allowed, ""}, "/A": {Allowed, ""}, "/XA": {Allowed, ""}, "/IA": {Allowed, ""}, "/MAX": {Allowed, ""},
	"/MIN": {Allowed, ""}, "/MAXAGE": {Allowed, ""}, "/MINAGE": {Allowed, ""}, "/MAXLAD": {Allowed, ""},
	"/MINLAD": {Allowed, ""}, "/LEV": {Allowed, ""}, "/DST": {Allowed, ""}, "/256": {Allowed, ""},
	"/Z": {Allowed, ""}, "/B": {Allowed, ""}, "/ZB": {Allowed, ""}, "/J": {Allowed, ""}, "/EFSRAW": {Allowed, ""},
	"/TIMFIX": {Allowed, ""}, "/IPG": {Allowed, ""}, "/LFSM": {Allowed, ""}, "/COMPRESS": {Allowed, ""},
	"/NOOFFLOAD": {Allowed, ""}, "/TBD": {Allowed, ""}, "/SPARSE": {Allowed, ""}, "/NOCLONE": {Allowed, ""},
	"/IORATE": {Allowed, ""}, "/IOMAXSIZE": {Allowed, ""}, "/THRESHOLD": {Allowed, ""},
}

// PolicyFor returns robo's policy for a switch ("/NFL", "/mt:8"; case and
// ":value" ignored), and false for a switch robo does not know (refused).
func PolicyFor(sw string) (SwitchPolicy, bool) {
	p, ok := switchPolicies[switchName(sw)]
	return p, ok
}

// PolicyTable lists every known switch with its policy, sorted, for docs
// and tests.
func PolicyTable() []struct {
	Switch string
	SwitchPolicy
} {
	out := make([]struct {
		Switch string
		SwitchPolicy
	}, 0, len(switchPolicies))
	for k, v := range switchPolicies {
		out = append(out, struct {
			Switch string
			SwitchPolicy
		}{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Switch < out[j].Switch })
	return out
}

// valueSwitches take the following arguments as their values.
var valueSwitches = map[string]bool{"/XF": true, "/XD": true}

// ValidateExtraArgs checks user-supplied robocopy arguments against the
// policy table (see [PolicyFor]): mapped and refused switches and unknown
// switches are problems, and so are bare arguments that robocopy would take
// as file name filters. threads is the configured thread count
// (Options.Threads). It also reports combinations robocopy rejects: /MT (or
// threads > 1) with /IPG or /EFSRAW; /LFSM with /MT, /EFSRAW, /B or /ZB.
// Matching is case-insensitive and ignores a ":value" suffix.
func ValidateExtraArgs(args []string, threads int) []Problem {
	var probs []Problem
	present := map[string]int{} // switch -> index of its first use
	inValues := false
	for i, a := range args {
		bad := func(msg string) { probs = append(probs, Problem{Index: i, Arg: a, Message: msg}) }
		if strings.TrimSpace(a) == "" {
			bad("empty argument; remove it")
			continue
		}
		if strings.ContainsAny(a, "\x00\r\n") {
			bad("contains a newline or NUL character")
			continue
		}
		sw := switchName(a)
		if sw == "" {
			if !inValues {
				bad("is not a switch: robocopy would take it as a file name filter, narrowing what is copied and purged behind the plan's back; use include")
			}
			continue
		}
		inValues = valueSwitches[sw]
		if _, dup := present[sw]; !dup {
			present[sw] = i
		}
		p, known := switchPolicies[sw]
		switch {
		case !known:
			bad("robo does not know this robocopy switch, so it cannot tell whether it changes what robocopy lists, copies or deletes; remove it (docs/robocopy.md lists the switches robo passes through)")
		case p.Verdict == Refused:
			bad(p.Why)
		case p.Verdict == Mapped:
			bad(p.Why)
		}
		if sw == "/MT" {
			if v, ok := switchValue(a); ok && !validThreads(v) {
				bad("the thread count must be a number from 1 to 128")
			}
		}
	}
	mtName, hasMT := "", false
	if i, ok := present["/MT"]; ok {
		mtName, hasMT = args[i], true
	}
	if threads > 1 {
		mtName, hasMT = "threads setting (/MT)", true
	}
	conflict := func(a, why string) {
		if i, ok := present[a]; ok {
			probs = append(probs, Problem{Index: i, Arg: args[i], Message: why + " (conflicts with " + mtName + ")"})
		}
	}
	if hasMT {
		conflict("/IPG", "the inter-packet gap throttle cannot be used with multi-threaded copying; robocopy rejects the combination")
		conflict("/EFSRAW", "copying encrypted files raw cannot be used with multi-threaded copying; robocopy rejects the combination")
	}
	if lf, ok := present["/LFSM"]; ok {
		if hasMT {
			probs = append(probs, Problem{Index: lf, Arg: args[lf], Message: "low-free-space mode cannot be used with multi-threaded copying (conflicts with " + mtName + ")"})
		}
		for _, other := range []string{"/EFSRAW", "/B", "/ZB"} {
			if x, ok := present[other]; ok {
				probs = append(probs, Problem{Index: lf, Arg: args[lf], Message: "low-free-space mode cannot be used with " + args[x] + "; robocopy rejects the combination"})
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
		for i, a := range args {
			if switchName(a) == "/XX" {
				probs = append(probs, Problem{Index: i, Arg: a, Message: "/XX excludes extra files and directories, which silently turns mirroring (purge) off; drop /XX or set mode = \"copy\""})
			}
		}
	}
	return probs
}

// switchName returns the upper-case switch of a ("/MT:16" -> "/MT",
// "/A+:R" -> "/A+"), or "" when a is not a switch.
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
