package robocopy

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// VersionArgsTable is the argument vector robo passes per robocopy version
// for one mirror set with every version-dependent feature on (threads,
// directory timestamps, symlinks). The fake robocopy.exe under wine checks
// each row with CheckArgs (issue 15 points 3 and 6).
var versionArgsTable = []struct {
	version string
	links   string // "skip" or "copy"
	want    []string
	limits  []string // substrings of Limitations
}{
	{"XP026", "skip", []string{"/MIR", "/XJ", "/SL", "/R:1", "/W:1"}, []string{"no /DCOPY", "no /MT", "cannot skip symbolic links"}},
	{"XP026", "copy", []string{"/MIR", "/SL", "/XJ", "/R:1", "/W:1"}, []string{"no /DCOPY", "no /MT", "cannot copy junctions"}},
	{"5.1.10.1027", "skip", []string{"/MIR", "/DCOPY:T", "/XJ", "/SL", "/MT:8", "/R:1", "/W:1"}, []string{"cannot skip symbolic links"}},
	{"5.1.10.1027", "copy", []string{"/MIR", "/DCOPY:T", "/SL", "/XJD", "/MT:8", "/R:1", "/W:1"}, []string{"cannot copy junctions"}},
	{"6.3.9600.16384", "skip", []string{"/MIR", "/DCOPY:DAT", "/XJ", "/SL", "/MT:8", "/R:1", "/W:1"}, []string{"cannot skip symbolic links"}},
	{"6.3.9600.16384", "copy", []string{"/MIR", "/DCOPY:DAT", "/SL", "/XJD", "/MT:8", "/R:1", "/W:1"}, []string{"cannot copy junctions"}},
	{"10.0.17763.1", "skip", []string{"/MIR", "/DCOPY:DAT", "/XJ", "/SL", "/MT:8", "/R:1", "/W:1"}, []string{"cannot skip symbolic links"}},
	{"10.0.17763.1", "copy", []string{"/MIR", "/DCOPY:DAT", "/SL", "/SJ", "/MT:8", "/R:1", "/W:1"}, nil},
	{"10.0.19041.1", "skip", []string{"/MIR", "/DCOPY:DAT", "/XJ", "/MT:8", "/R:1", "/W:1"}, nil},
	{"10.0.22621.1", "copy", []string{"/MIR", "/DCOPY:DAT", "/SL", "/SJ", "/MT:8", "/R:1", "/W:1"}, nil},
	{"", "skip", []string{"/MIR", "/DCOPY:DAT", "/XJ", "/MT:8", "/R:1", "/W:1"}, nil},
}

func TestArgsPerVersion(t *testing.T) {
	for _, row := range versionArgsTable {
		t.Run(row.version+"-"+row.links, func(t *testing.T) {
			var v Version
			if row.version != "" {
				var err error
				if v, err = ParseVersion(row.version); err != nil {
					t.Fatal(err)
				}
			}
			o := Options{Source: `C:\src`, Destination: `D:\dst`, Mirror: true, CopyEmptyDirs: true, Threads: 8,
				Retries: 1, RetryWait: time.Second, DirCopy: "DAT", SkipLinks: row.links == "skip", CopyLinks: row.links == "copy", Version: v}
			args, err := BuildArgs(o)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{`C:\src`, `D:\dst`}, row.want...)
			want = append(want, "/NP", "/BYTES", "/FP")
			if !reflect.DeepEqual(args, want) {
				t.Fatalf("args\n %q\nwant\n %q", args, want)
			}
			if err := CheckArgs(v, args); err != nil {
				t.Fatalf("robo passes an argument its version rejects: %v", err)
			}
			lim := strings.Join(Limitations(o), "\n")
			for _, s := range row.limits {
				if !strings.Contains(lim, s) {
					t.Errorf("limitations %q lack %q", lim, s)
				}
			}
			if len(row.limits) == 0 && lim != "" {
				t.Errorf("unexpected limitations %q", lim)
			}
		})
	}
}

// The switches issue 15 names are rejected by the versions that lack them,
// as robocopy itself answers "Invalid Parameter".
func TestCheckArgs(t *testing.T) {
	for _, c := range []struct {
		v, arg string
		ok     bool
	}{
		{"5.1.10.1027", "/DCOPY:DAT", false}, {"5.1.10.1027", "/DCOPY:T", true}, {"XP026", "/DCOPY:T", false},
		{"XP026", "/MT:8", false}, {"6.1", "/SJ", false}, {"10.0.14393.2636", "/SJ", true},
		{"10.0.17763", "/COMPRESS", false}, {"10.0.22000", "/COMPRESS", true}, {"10.0.19041", "/DCOPY:DATE", true},
	} {
		v, err := ParseVersion(c.v)
		if err != nil {
			t.Fatal(err)
		}
		err = CheckArgs(v, []string{`C:\a`, `D:\b`, c.arg})
		if (err == nil) != c.ok {
			t.Errorf("%s %s: %v", c.v, c.arg, err)
		}
		if err != nil && !strings.Contains(err.Error(), "#3") {
			t.Errorf("%s %s: position not named: %v", c.v, c.arg, err)
		}
	}
}

func TestVersionDetection(t *testing.T) {
	// Current builds print no version in the banner (every sample);
	// the Resource Kit builds print "Version XP010" after the product.
	if _, ok := VersionFromBanner("   ROBOCOPY     ::     Robust File Copy for Windows                              "); ok {
		t.Error("version found in a current banner")
	}
	v, ok := VersionFromBanner("   ROBOCOPY     ::     Robust File Copy for Windows     ::     Version XP010")
	if !ok || v.Release() != ReleaseXP || v.String() != "XP010" {
		t.Errorf("XP010 banner: %v %v", v, ok)
	}
	// robocopy.exe's file version from its VS_FIXEDFILEINFO.
	b := make([]byte, 64)
	copy(b[8:], []byte{0xBD, 0x04, 0xEF, 0xFE, 0, 0, 1, 0})
	binary.LittleEndian.PutUint32(b[16:], 10<<16|0)
	binary.LittleEndian.PutUint32(b[20:], 19041<<16|3636)
	p := filepath.Join(t.TempDir(), "robocopy.exe")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := FileVersion(p)
	if err != nil || v.String() != "10.0.19041.3636" || v.Release() != ReleaseCurrent {
		t.Fatalf("file version %v %v", v, err)
	}
	if _, err := FileVersion(filepath.Join(t.TempDir(), "none.exe")); err == nil {
		t.Fatal("no error for a missing file")
	}
	for s, r := range map[string]Release{"XP026": ReleaseXP, "XP027": Release5, "5.1.10.1027": Release5, "6.2.9200": Release6, "10.0.18362": Release10, "10.0.19041.1": ReleaseCurrent} {
		v, err := ParseVersion(s)
		if err != nil || v.Release() != r {
			t.Errorf("%s: %v %v, want %v", s, v.Release(), err, r)
		}
	}
}
