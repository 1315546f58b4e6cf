package robocopy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Version identifies a robocopy build: its file version (5.1.10.1027,
// 6.3.9600.16384, 10.0.19041.1) and, for the builds that print one in their
// banner, the release name (XP010, XP026, XP027). The zero value means
// unknown, which robo treats as a current build (see [Version.Release]).
type Version struct {
	Major, Minor, Build, Revision int
	// Name is the release name printed by old builds ("XP026"), if known.
	Name string
}

// Release is a group of robocopy builds that accept the same switches
// robo uses. docs/robocopy.md has the matrix.
type Release int

const (
	// ReleaseCurrent is 10.0.19041 and later (Windows 10 2004, Server
	// 2022, Windows 11): /XJ also excludes symbolic links.
	ReleaseCurrent Release = iota
	// Release10 is 10.0 before 19041 (Windows 10 1507-1909, Server
	// 2016/2019): /SJ exists; /XJ excludes junctions only.
	Release10
	// Release6 is 6.x (Windows 8, 8.1, Server 2012/2012 R2): /DCOPY:DAT,
	// /MT, /SL, /XJD and /XJF; no /SJ.
	Release6
	// Release5 is 5.1.10.1027 as shipped with Windows 7 / Server 2008 R2
	// (XP027): /MT and /DCOPY:T; no /DCOPY:DAT, no /SJ.
	Release5
	// ReleaseXP is XP010 and XP026 (Resource Kit, Vista / Server 2008):
	// no /MT and no /DCOPY at all.
	ReleaseXP
)

var releaseNames = map[Release]string{
	ReleaseCurrent: "10.0.19041 or later", Release10: "10.0 before 19041", Release6: "6.x",
	Release5: "5.1.10.1027 (XP027)", ReleaseXP: "XP026 or older",
}

func (r Release) String() string { return releaseNames[r] }

// Release groups v. An unknown version is ReleaseCurrent.
func (v Version) Release() Release {
	switch {
	case v.Name != "" && strings.HasPrefix(strings.ToUpper(v.Name), "XP") && v.xpNumber() < 27:
		return ReleaseXP
	case v.Name != "" && strings.HasPrefix(strings.ToUpper(v.Name), "XP"):
		return Release5
	case v.Major == 0 && v.Minor == 0 && v.Build == 0:
		return ReleaseCurrent
	case v.Major < 5:
		return ReleaseXP
	case v.Major == 5:
		return Release5
	case v.Major < 10:
		return Release6
	case v.Major == 10 && v.Minor == 0 && v.Build < 19041:
		return Release10
	default:
		return ReleaseCurrent
	}
}

func (v Version) xpNumber() int {
	n, _ := strconv.Atoi(strings.TrimLeft(v.Name[2:], "0"))
	return n
}

// IsZero reports an unknown version.
func (v Version) IsZero() bool { return v == Version{} }

func (v Version) String() string {
	num := fmt.Sprintf("%d.%d.%d.%d", v.Major, v.Minor, v.Build, v.Revision)
	switch {
	case v.IsZero():
		return "unknown"
	case v.Name != "" && v.Major == 0:
		return v.Name
	case v.Name != "":
		return num + " (" + v.Name + ")"
	}
	return num
}

var versionNumRe = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?$`)

// ParseVersion reads "10.0.19041.1", "6.3.9600", "5.1.10.1027" or a
// release name such as "XP026".
func ParseVersion(s string) (Version, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 3 && strings.EqualFold(s[:2], "XP") {
		if _, err := strconv.Atoi(s[2:]); err == nil {
			v := Version{Name: strings.ToUpper(s)}
			if v.xpNumber() >= 26 {
				v.Major, v.Minor, v.Build, v.Revision = 5, 1, 10, 1027
			}
			return v, nil
		}
	}
	m := versionNumRe.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("robocopy version %q: want a file version such as 10.0.19041.1 or a release name such as XP026", s)
	}
	n := func(x string) int { i, _ := strconv.Atoi(x); return i }
	return Version{Major: n(m[1]), Minor: n(m[2]), Build: n(m[3]), Revision: n(m[4])}, nil
}

// bannerVersionRe finds the version some builds print in their banner
// ("ROBOCOPY :: Robust File Copy for Windows :: Version XP010" in the
// Resource Kit builds; FORMAT.md §1). Current builds print none.
var bannerVersionRe = regexp.MustCompile(`(?i)::\s*(?:\S+\s+)?(XP\d{3}|\d+\.\d+(?:\.\d+){0,2})\s*$`)

// VersionFromBanner returns the version printed in a banner line, if any.
func VersionFromBanner(line string) (Version, bool) {
	m := bannerVersionRe.FindStringSubmatch(strings.TrimRight(line, " \t"))
	if m == nil || !bannerRe.MatchString(line) {
		return Version{}, false
	}
	v, err := ParseVersion(m[1])
	return v, err == nil
}

// FileVersion reads the file version of robocopy.exe from its version
// resource (VS_FIXEDFILEINFO). It is pure Go and works on any OS, e.g. on
// a robocopy.exe under wine.
func FileVersion(path string) (Version, error) {
	f, err := os.Open(path)
	if err != nil {
		return Version{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return Version{}, fmt.Errorf("read %s: %w", path, err)
	}
	v, ok := fixedFileVersion(b)
	if !ok {
		return Version{}, fmt.Errorf("%s has no version resource", path)
	}
	return v, nil
}

// fixedFileVersion finds VS_FIXEDFILEINFO (signature 0xFEEF04BD, then the
// structure version, then dwFileVersionMS and dwFileVersionLS) in b.
func fixedFileVersion(b []byte) (Version, bool) {
	sig := []byte{0xBD, 0x04, 0xEF, 0xFE}
	for off := 0; ; {
		i := bytes.Index(b[off:], sig)
		if i < 0 {
			return Version{}, false
		}
		i += off
		off = i + 1
		if i%4 != 0 || len(b) < i+16 {
			continue
		}
		ms := binary.LittleEndian.Uint32(b[i+8:])
		ls := binary.LittleEndian.Uint32(b[i+12:])
		v := Version{Major: int(ms >> 16), Minor: int(ms & 0xFFFF), Build: int(ls >> 16), Revision: int(ls & 0xFFFF)}
		if v.Major == 0 && v.Minor == 0 {
			continue
		}
		return v, true
	}
}

// errNoSwitch is returned by CheckArgs for a switch a version lacks.
var errNoSwitch = errors.New("invalid parameter")

// releaseSwitches lists the switches robo may pass that a release does NOT
// accept (robocopy answers "ERROR : Invalid Parameter" and exit 16).
var releaseLacks = map[Release][]string{
	ReleaseXP: {"/MT", "/DCOPY", "/XJD", "/XJF", "/SJ", "/J", "/NOOFFLOAD", "/COMPRESS", "/IM", "/LFSM", "/NOCLONE", "/SPARSE", "/IORATE", "/IOMAXSIZE", "/THRESHOLD", "/NODCOPY"},
	Release5:  {"/SJ", "/J", "/NOOFFLOAD", "/COMPRESS", "/IM", "/LFSM", "/NOCLONE", "/SPARSE", "/IORATE", "/IOMAXSIZE", "/THRESHOLD", "/NODCOPY"},
	Release6:  {"/SJ", "/J", "/NOOFFLOAD", "/COMPRESS", "/IM", "/LFSM", "/NOCLONE", "/SPARSE", "/IORATE", "/IOMAXSIZE", "/THRESHOLD"},
	Release10: {"/COMPRESS", "/LFSM", "/NOCLONE", "/SPARSE", "/IORATE", "/IOMAXSIZE", "/THRESHOLD"},
}

// dcopyFlags are the /DCOPY letters each release accepts.
var dcopyFlags = map[Release]string{ReleaseXP: "", Release5: "T", Release6: "DAT", Release10: "DAT", ReleaseCurrent: "DATEX"}

// CheckArgs reports the first argument of args (robocopy's argument vector
// without the program name, as [BuildArgs] makes it) that robocopy of
// version v would reject as an invalid parameter, naming its 1-based
// position as robocopy does. It is the check a fake robocopy.exe uses to
// behave like a given version.
func CheckArgs(v Version, args []string) error {
	r := v.Release()
	for i, a := range args {
		sw := switchName(a)
		if sw == "" {
			continue
		}
		for _, x := range releaseLacks[r] {
			if sw == x {
				return fmt.Errorf("%w #%d : %q (robocopy %s has no %s)", errNoSwitch, i+1, a, r, sw)
			}
		}
		if sw == "/DCOPY" {
			val, _ := switchValue(a)
			for _, c := range strings.ToUpper(val) {
				if !strings.ContainsRune(dcopyFlags[r], c) {
					return fmt.Errorf("%w #%d : %q (robocopy %s accepts /DCOPY:%s only)", errNoSwitch, i+1, a, r, dcopyFlags[r])
				}
			}
		}
	}
	return nil
}
