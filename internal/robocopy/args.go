package robocopy

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Options describes one robocopy job as robo wants to run it. The zero value
// copies (no purge) recursively without empty directories (/S), with zero
// retries and zero wait.
type Options struct {
	// Source and Destination are absolute directory paths (`C:\data`,
	// `\\server\share\dir`). A trailing backslash is removed except on a drive
	// root such as `C:\`, which is kept as is (see [BuildArgs]).
	Source, Destination string

	// Mirror makes the destination an exact copy: files and directories that
	// exist only in the destination are DELETED. With CopyEmptyDirs it is
	// /MIR, without it /S /PURGE. (/MIR also overwrites the security of
	// existing destination directories, /E /PURGE does not; SEMANTICS.md §2.1.)
	Mirror bool
	// CopyEmptyDirs copies empty directories too: /E (or /MIR) instead of /S.
	CopyEmptyDirs bool

	// Include lists file name filespecs (names or wildcards, no paths) placed
	// after the destination. Empty means all files (robocopy's *.*).
	Include []string
	// ExcludeFiles (/XF) takes names, paths or wildcards; ExcludeDirs (/XD)
	// names or paths. Do not end a path with a backslash.
	ExcludeFiles, ExcludeDirs []string

	// ExcludeOlder skips source files older than the destination copy (/XO);
	// by default robocopy overwrites a newer destination file.
	ExcludeOlder bool
	// FATTimes compares times with 2-second granularity (/FFT); needed for
	// FAT/exFAT, many NAS and Samba destinations.
	FATTimes bool
	// DSTCompensation treats a difference of exactly one hour as equal (/DST).
	DSTCompensation bool
	// SkipLinks excludes junction points and (on 10.0.19041+) symbolic links
	// (/XJ). CopyLinks copies symbolic links as links instead of following
	// them (/SL). /SJ (junctions as junctions) is deliberately not used: it
	// does not exist on builds before Windows 10; pass it through ExtraArgs if
	// wanted. SkipLinks and CopyLinks are mutually exclusive.
	SkipLinks, CopyLinks bool

	// Threads > 1 adds /MT:n (n from 2 to 128). 0 or 1 means single-threaded.
	// Under /MT the log lists full paths and no directory lines.
	Threads int
	// Retries (/R:n) and RetryWait (/W:n, seconds, rounded up) are ALWAYS
	// passed: robocopy's defaults are 1,000,000 retries 30 s apart and can
	// be changed per machine with /REG.
	Retries   int
	RetryWait time.Duration

	// ListOnly reports what would be done without copying, deleting or
	// touching timestamps (/L).
	ListOnly bool
	// UnilogPath, when set, makes robocopy write its log as UTF-16LE to this
	// file (/UNILOG:path, overwritten each run) and also to the console
	// (/TEE). Without it the log goes only to standard output, in the OEM
	// code page.
	UnilogPath string
	// Copy is what to copy of each file, robocopy's /COPY: letters in
	// canonical order ("DATSOU"), possibly with robo's E (extended
	// attributes), which BuildArgs drops: robocopy copies a file's EAs with
	// its data. "" means robocopy's default, DAT. DATS is passed as /SEC
	// and DATSOU as /COPYALL, robocopy's own names for them.
	Copy string
	// DirCopy is what to copy of each directory, /DCOPY: letters (D, A, T,
	// E). "" means robocopy's default, DA. Releases without /DCOPY:
	// (XP026) or with /DCOPY:T only (5.1.10.1027) get what they can, and
	// [Limitations] names the rest; E before 10.0.19041 is an error.
	DirCopy string
	// IncludeTweaked copies Tweaked files, whose size and time are the same
	// but whose attributes differ (/IT): without it robocopy treats them as
	// Same and an attribute-only change never reaches the destination.
	IncludeTweaked bool
	// FixSecurity re-applies the copied security (S, O, U) to every file,
	// skipped ones too (/SECFIX): robocopy otherwise copies security only
	// with a file's data, so a permission-only change is never propagated.
	FixSecurity bool

	// ExtraArgs are appended verbatim after everything else: the user's
	// escape hatch. They are checked with [ValidateExtraArgs].
	ExtraArgs []string

	// Version is the robocopy that will run these arguments; BuildArgs
	// passes only switches it accepts (see [Limitations] for what it then
	// cannot honour). The zero value means a current build.
	Version Version
}

// Logging switches BuildArgs always adds (FORMAT.md §8):
//
//	/NP     no "nn%" progress: the log stays one line per entry
//	/BYTES  sizes as plain byte counts instead of "13.7 g"
//	/FP     full paths in file lines, the same with and without /MT
//
// The job header and summary are kept (no /NJH, /NJS): the parser takes the
// effective options and the counters from them. Dir lines are kept (no /NDL).
var loggingSwitches = []string{"/NP", "/BYTES", "/FP"}

// volumeRootExcludes are excluded when the source is the root of a volume:
// older builds purge inside System Volume Information (SEMANTICS.md §5.9).
var volumeRootExcludes = []string{"System Volume Information", "$RECYCLE.BIN"}

// BuildArgs returns robocopy's argument vector for o, without the program
// name. Every element is one argument: run it with os/exec (which quotes each
// element with syscall.EscapeArg on Windows), never through a shell. That is
// also why a drive root `C:\` may be passed as is: EscapeArg doubles a
// backslash that precedes a closing quote, so the trailing backslash cannot
// swallow the quote (the `"C:\src\"` trap of SEMANTICS.md §1).
//
// Order: source, destination, include filespecs, copy-mode switches, /XF
// list, /XD list, other options, logging switches, ExtraArgs.
func BuildArgs(o Options) ([]string, error) {
	var errs []error
	src, err := cleanDirArg("source", o.Source)
	if err != nil {
		errs = append(errs, err)
	}
	dst, err := cleanDirArg("destination", o.Destination)
	if err != nil {
		errs = append(errs, err)
	}
	if o.Threads < 0 || o.Threads > 128 {
		errs = append(errs, fmt.Errorf("threads must be between 1 and 128, got %d", o.Threads))
	}
	if o.Retries < 0 {
		errs = append(errs, fmt.Errorf("retries must not be negative, got %d", o.Retries))
	}
	if o.RetryWait < 0 {
		errs = append(errs, fmt.Errorf("retry wait must not be negative, got %s", o.RetryWait))
	}
	if o.SkipLinks && o.CopyLinks {
		errs = append(errs, errors.New("skip links (/XJ) and copy links (/SL) exclude each other: choose one"))
	}
	for _, spec := range o.Include {
		if spec == "" || strings.ContainsAny(spec, `\/`) {
			errs = append(errs, fmt.Errorf("include filespec %q must be a file name or wildcard without a path", spec))
		}
	}
	for _, list := range [][]string{o.ExcludeFiles, o.ExcludeDirs} {
		for _, x := range list {
			if strings.TrimSpace(x) == "" {
				errs = append(errs, errors.New("exclude entries must not be empty"))
			}
		}
	}
	if err := checkCopyLetters(o); err != nil {
		errs = append(errs, err)
	}
	for _, p := range ValidateForSet(o.ExtraArgs, o.Threads, o.Mirror) {
		errs = append(errs, p)
	}
	if err := CheckArgs(o.Version, o.ExtraArgs); err != nil {
		errs = append(errs, fmt.Errorf("extra argument: %w", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	args := []string{src, dst}
	args = append(args, o.Include...)
	switch {
	case o.Mirror && o.CopyEmptyDirs:
		args = append(args, "/MIR")
	case o.Mirror:
		args = append(args, "/S", "/PURGE")
	case o.CopyEmptyDirs:
		args = append(args, "/E")
	default:
		args = append(args, "/S")
	}
	if len(o.ExcludeFiles) > 0 {
		args = append(args, "/XF")
		args = append(args, o.ExcludeFiles...)
	}
	xd := append([]string(nil), o.ExcludeDirs...)
	if IsVolumeRoot(src) {
		for _, name := range volumeRootExcludes {
			if !containsFold(xd, name) {
				xd = append(xd, name)
			}
		}
	}
	if len(xd) > 0 {
		args = append(args, "/XD")
		args = append(args, xd...)
	}
	r := o.Version.Release()
	args = append(args, copySwitches(o.Copy)...)
	args = append(args, dcopySwitch(o.DirCopy, r)...)
	if o.IncludeTweaked {
		args = append(args, "/IT")
	}
	if o.FixSecurity {
		args = append(args, "/SECFIX")
	}
	if o.ExcludeOlder {
		args = append(args, "/XO")
	}
	if o.FATTimes {
		args = append(args, "/FFT")
	}
	if o.DSTCompensation {
		args = append(args, "/DST")
	}
	args = append(args, linkSwitches(o, r)...)
	if o.Threads > 1 && r != ReleaseXP {
		args = append(args, "/MT:"+strconv.Itoa(o.Threads))
	}
	args = append(args, "/R:"+strconv.Itoa(o.Retries), "/W:"+strconv.FormatInt(waitSeconds(o.RetryWait), 10))
	if o.ListOnly {
		args = append(args, "/L")
	}
	args = append(args, loggingSwitches...)
	if o.UnilogPath != "" {
		args = append(args, "/UNILOG:"+o.UnilogPath, "/TEE")
	}
	args = append(args, o.ExtraArgs...)
	return args, nil
}

// waitSeconds rounds d up to whole seconds.
func waitSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	if s > math.MaxInt32 {
		s = math.MaxInt32
	}
	return s
}

// cleanDirArg checks a source or destination path and strips a trailing
// backslash, except on a drive root (`C:\`), which must keep it: `C:` alone
// means the current directory of drive C.
func cleanDirArg(what, p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", fmt.Errorf("%s path is empty", what)
	}
	if strings.ContainsAny(p, "\x00\"\r\n\t") {
		return "", fmt.Errorf("%s path %q contains a quote, tab, newline or NUL", what, p)
	}
	if isDriveLetter(p) && len(p) == 2 {
		return "", fmt.Errorf("%s path %q is drive-relative (the current directory of drive %s); write %s\\ for the root", what, p, p, p)
	}
	if isDriveRoot(p) {
		return p[:2] + `\`, nil
	}
	for len(p) > 1 && (strings.HasSuffix(p, `\`) || strings.HasSuffix(p, "/")) && !isDriveRoot(p) {
		p = p[:len(p)-1]
	}
	return p, nil
}

func isDriveLetter(p string) bool {
	return len(p) >= 2 && p[1] == ':' && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z')
}

func isDriveRoot(p string) bool {
	return len(p) == 3 && isDriveLetter(p) && (p[2] == '\\' || p[2] == '/')
}

// IsVolumeRoot reports whether p names the root of a volume: a drive root
// (`C:\`, `C:`), a share root (`\\server\share`, with or without trailing
// backslash), or their `\\?\` forms (`\\?\C:\`, `\\?\UNC\server\share`,
// `\\?\Volume{GUID}\`). Forward slashes are accepted as separators.
func IsVolumeRoot(p string) bool {
	p = strings.ReplaceAll(p, "/", `\`)
	for len(p) > 3 && strings.HasSuffix(p, `\`) {
		p = p[:len(p)-1]
	}
	if hasPrefixFold(p, `\\?\`) || hasPrefixFold(p, `\\.\`) {
		rest := p[4:]
		if hasPrefixFold(rest, `UNC\`) {
			return isShareRoot(rest[4:])
		}
		if isDriveLetter(rest) && (len(rest) == 2 || rest == rest[:2]+`\`) {
			return true
		}
		return hasPrefixFold(rest, "Volume{") && !strings.Contains(strings.TrimSuffix(rest, `\`), `\`)
	}
	if isDriveLetter(p) && (len(p) == 2 || isDriveRoot(p)) {
		return true
	}
	if strings.HasPrefix(p, `\\`) {
		return isShareRoot(p[2:])
	}
	return false
}

// isShareRoot reports whether s is "server\share" with nothing after.
func isShareRoot(s string) bool {
	s = strings.TrimSuffix(s, `\`)
	parts := strings.Split(s, `\`)
	return len(parts) == 2 && parts[0] != "" && parts[1] != ""
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// linkSwitches maps robo's symlink setting to the switches release r
// knows, so that both engines treat links alike (docs/robocopy.md):
//
//   - skip: /XJ, which on 10.0.19041+ excludes junctions and symbolic
//     links. Older builds exclude only junctions with /XJ and would follow
//     symbolic links (copying what they point to, possibly from outside the
//     source), so there robo adds /SL: links are copied as links, never
//     followed.
//   - copy: /SL (symbolic links as links) and /SJ (junctions as junctions,
//     10.0+). Builds without /SJ would follow junctions (the profile
//     loops such as "Application Data"), so there robo excludes them
//     (/XJD, or /XJ on XP026 which has no /XJD).
func linkSwitches(o Options, r Release) []string {
	switch {
	case o.SkipLinks && r == ReleaseCurrent:
		return []string{"/XJ"}
	case o.SkipLinks:
		return []string{"/XJ", "/SL"}
	case !o.CopyLinks:
		return nil
	case r == ReleaseCurrent || r == Release10:
		return []string{"/SL", "/SJ"}
	case r == ReleaseXP:
		return []string{"/SL", "/XJ"}
	default:
		return []string{"/SL", "/XJD"}
	}
}

// Limitations lists, in words, the robo features that the robocopy version
// of o cannot honour with o's settings. The engine reports them in plans and
// results.
func Limitations(o Options) []string {
	r := o.Version.Release()
	var out []string
	v := o.Version.String()
	if o.Version.IsZero() {
		v = "of unknown version (assumed current)"
	}
	dc := o.DirCopy
	if dc == "" {
		dc = "DA"
	}
	if strings.Contains(dc, "T") && r == ReleaseXP {
		out = append(out, "robocopy "+v+" has no /DCOPY: directory timestamps are not copied")
	}
	if !strings.Contains(dc, "A") && (r == ReleaseXP || r == Release5) {
		out = append(out, "robocopy "+v+" has no /DCOPY:A: directory attributes are copied even though directory_copy leaves out A")
	}
	if o.Threads > 1 && r == ReleaseXP {
		out = append(out, fmt.Sprintf("robocopy %s has no /MT: threads = %d runs single-threaded", v, o.Threads))
	}
	if o.SkipLinks && r != ReleaseCurrent {
		out = append(out, "robocopy "+v+" cannot skip symbolic links (/XJ skips them from 10.0.19041): they are copied as links (/SL), never followed")
	}
	if o.CopyLinks && r != ReleaseCurrent && r != Release10 {
		out = append(out, "robocopy "+v+" cannot copy junctions as junctions (/SJ needs Windows 10): junctions are skipped")
	}
	for _, a := range o.ExtraArgs {
		if err := CheckArgs(o.Version, []string{a}); err != nil {
			out = append(out, fmt.Sprintf("robocopy %s does not accept extra argument %s: the run would fail", v, a))
		}
	}
	return out
}

// copySwitches maps /COPY: letters to robocopy's switch: none for its
// default DAT, /SEC for DATS, /COPYALL for DATSOU (robocopy's own names,
// exactly the same letters), /COPY:<letters> otherwise. E is dropped:
// robocopy copies a file's extended attributes with its data, and its
// /COPY: has no E.
func copySwitches(letters string) []string {
	l := strings.ReplaceAll(letters, "E", "")
	switch l {
	case "", "DAT":
		return nil
	case "DATS":
		return []string{"/SEC"}
	case "DATSOU":
		return []string{"/COPYALL"}
	}
	return []string{"/COPY:" + l}
}

// dcopySwitch maps /DCOPY: letters to what release r accepts (see
// dcopyFlags): nothing on XP026, which has no /DCOPY; /DCOPY:T on
// 5.1.10.1027 when timestamps are asked for (its directories get D and A
// without asking); the letters themselves from 6.x on. checkCopyLetters
// has already refused what r cannot do.
func dcopySwitch(letters string, r Release) []string {
	if letters == "" {
		letters = "DA"
	}
	switch r {
	case ReleaseXP:
		return nil
	case Release5:
		if strings.Contains(letters, "T") {
			return []string{"/DCOPY:T"}
		}
		return nil
	}
	return []string{"/DCOPY:" + letters}
}

// checkCopyLetters refuses copy letters robocopy does not have and
// directory letters release r cannot copy: rather than copying less than
// the set asks, the set fails to plan. Directory timestamps on XP026 and
// the attributes 5.1.10.1027 and XP026 always copy are robo's own default
// and are reported by [Limitations] instead.
func checkCopyLetters(o Options) error {
	for _, c := range o.Copy {
		if !strings.ContainsRune("DATSOUE", c) {
			return fmt.Errorf("copy letter %q is not one of robocopy's /COPY: letters D, A, T, S, O, U (or robo's E)", c)
		}
	}
	for _, c := range o.DirCopy {
		if !strings.ContainsRune("DATE", c) {
			return fmt.Errorf("directory_copy letter %q is not one of robocopy's /DCOPY: letters D, A, T, E", c)
		}
	}
	r := o.Version.Release()
	if strings.Contains(o.DirCopy, "E") && !strings.Contains(dcopyFlags[r], "E") {
		v := o.Version.String()
		return fmt.Errorf("robocopy %s cannot copy the extended attributes of directories (directory_copy = %q: /DCOPY:E needs robocopy 10.0.19041 or later, Windows 10 2004 / Server 2022): leave E out of directory_copy, or use engine = \"native\"", v, o.DirCopy)
	}
	return nil
}
