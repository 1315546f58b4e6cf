package robocopy

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBuildArgs(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{
			name: "zero-ish copy",
			o:    Options{Source: `C:\data\`, Destination: `E:\backup\data`},
			want: []string{`C:\data`, `E:\backup\data`, "/S", "/DCOPY:DA", "/R:0", "/W:0", "/NP", "/BYTES", "/FP"},
		},
		{
			name: "mirror with empty dirs, threads, retries rounded up",
			o: Options{Source: `\\nas\share\photos\`, Destination: `D:\photos`, Mirror: true, CopyEmptyDirs: true,
				Threads: 16, Retries: 2, RetryWait: 1500 * time.Millisecond, FATTimes: true, DSTCompensation: true},
			want: []string{`\\nas\share\photos`, `D:\photos`, "/MIR", "/DCOPY:DA", "/FFT", "/DST", "/MT:16", "/R:2", "/W:2", "/NP", "/BYTES", "/FP"},
		},
		{
			name: "mirror without empty dirs is /S /PURGE",
			o:    Options{Source: `C:\a`, Destination: `D:\b`, Mirror: true, Retries: 1, RetryWait: time.Second},
			want: []string{`C:\a`, `D:\b`, "/S", "/PURGE", "/DCOPY:DA", "/R:1", "/W:1", "/NP", "/BYTES", "/FP"},
		},
		{
			name: "copy with empty dirs, include, excludes, everything else",
			o: Options{Source: `C:\src`, Destination: `D:\dst`, CopyEmptyDirs: true, Include: []string{"*.doc", "*.xls"},
				ExcludeFiles: []string{"~*", "Thumbs.db"}, ExcludeDirs: []string{".git", `C:\src\tmp`},
				ExcludeOlder: true, SkipLinks: true, Threads: 1, Retries: 3, RetryWait: 5 * time.Second,
				ListOnly: true, UnilogPath: `C:\ProgramData\robo\logs\job 1.log`, DirCopy: "DAT",
				ExtraArgs: []string{"/XA:SH", "/COMPRESS"}},
			want: []string{`C:\src`, `D:\dst`, "*.doc", "*.xls", "/E", "/XF", "~*", "Thumbs.db", "/XD", ".git", `C:\src\tmp`,
				"/DCOPY:DAT", "/XO", "/XJ", "/R:3", "/W:5", "/L", "/NP", "/BYTES", "/FP",
				`/UNILOG:C:\ProgramData\robo\logs\job 1.log`, "/TEE", "/XA:SH", "/COMPRESS"},
		},
		{
			name: "drive root source keeps its backslash and gets volume excludes",
			o:    Options{Source: `D:\`, Destination: `\\nas\backup\d\`, CopyLinks: true, ExcludeDirs: []string{"$recycle.bin"}},
			want: []string{`D:\`, `\\nas\backup\d`, "/S", "/XD", "$recycle.bin", "System Volume Information",
				"/DCOPY:DA", "/SL", "/SJ", "/R:0", "/W:0", "/NP", "/BYTES", "/FP"},
		},
		{
			name: "share root source gets volume excludes",
			o:    Options{Source: `\\server\share\`, Destination: `E:\s`},
			want: []string{`\\server\share`, `E:\s`, "/S", "/XD", "System Volume Information", "$RECYCLE.BIN",
				"/DCOPY:DA", "/R:0", "/W:0", "/NP", "/BYTES", "/FP"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildArgs(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("BuildArgs =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

func TestBuildArgsErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string // substring of the error
	}{
		{"empty source", Options{Destination: `D:\x`}, "source path is empty"},
		{"drive relative", Options{Source: `C:`, Destination: `D:\x`}, `source path "C:" is drive-relative`},
		{"quote in path", Options{Source: `C:\a"b`, Destination: `D:\x`}, "contains a quote"},
		{"threads", Options{Source: `C:\a`, Destination: `D:\x`, Threads: 129}, "threads must be between 1 and 128, got 129"},
		{"retries", Options{Source: `C:\a`, Destination: `D:\x`, Retries: -1}, "retries must not be negative"},
		{"wait", Options{Source: `C:\a`, Destination: `D:\x`, RetryWait: -time.Second}, "retry wait must not be negative"},
		{"links", Options{Source: `C:\a`, Destination: `D:\x`, SkipLinks: true, CopyLinks: true}, "exclude each other"},
		{"include path", Options{Source: `C:\a`, Destination: `D:\x`, Include: []string{`sub\*.txt`}}, "without a path"},
		{"extra forbidden", Options{Source: `C:\a`, Destination: `D:\x`, ExtraArgs: []string{"/mon:1"}}, "/mon:1: makes robocopy run forever"},
		{"extra unknown to the version", Options{Source: `C:\a`, Destination: `D:\x`, ExtraArgs: []string{"/COMPRESS"}, Version: Version{Major: 6, Minor: 3, Build: 9600}}, `invalid parameter #1 : "/COMPRESS" (robocopy 6.x has no /COMPRESS)`},
		{"xx with mirror", Options{Source: `C:\a`, Destination: `D:\x`, Mirror: true, ExtraArgs: []string{"/xx"}}, "silently turns mirroring (purge) off"},
	}
	for _, tt := range tests {
		_, err := BuildArgs(tt.o)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

// TestValidateExtraArgs covers each verdict of the extra_args policy
// (issue 15 point 1): listing-changing, source-modifying and unknown
// switches and bare file filters are refused, switches robo has an
// attribute for name it, harmless ones pass.
func TestValidateExtraArgs(t *testing.T) {
	why := func(sw string) string { p, _ := PolicyFor(sw); return p.Why }
	tests := []struct {
		name    string
		args    []string
		threads int
		want    []Problem
	}{
		{"harmless", []string{"/XA:H", "/COMPRESS", "/ipg:50", "/V", "/NP", "/TIMFIX", "/MAXAGE:30"}, 0, nil},
		// Issue 16: what is copied belongs to the copy and directory_copy
		// attributes, which both engines, the plan and verify honour.
		{"metadata switches point at copy", []string{"/copy:DATS", "/SEC", "/COPYALL", "/SECFIX", "/IT", "/DCOPY:DAT", "/NODCOPY", "/NOCOPY"}, 0, []Problem{
			{0, "/copy:DATS", `use copy = "DATSOU" (robocopy's /COPY: letters), so that both engines, the plan and robo verify see what the set copies`},
			{1, "/SEC", why("/SEC")}, {2, "/COPYALL", why("/COPYALL")}, {3, "/SECFIX", why("/SECFIX")}, {4, "/IT", why("/IT")},
			{5, "/DCOPY:DAT", why("/DCOPY")}, {6, "/NODCOPY", why("/NODCOPY")}, {7, "/NOCOPY", why("/NOCOPY")},
		}},
		{"listing-changing switches of admins' .bat files", []string{"/NFL", "/ndl", "/NJH", "/NJS", "/TS", "/ETA", "/NC", "/NS", "/X"}, 0, []Problem{
			{0, "/NFL", listingWhy}, {1, "/ndl", listingWhy}, {2, "/NJH", listingWhy}, {3, "/NJS", listingWhy},
			{4, "/TS", listingWhy}, {5, "/ETA", listingWhy}, {6, "/NC", listingWhy}, {7, "/NS", listingWhy}, {8, "/X", listingWhy},
		}},
		{"source-modifying and job switches", []string{"/M", "/A+:R", "/a-:H", "/MOV", "/MOVE", "/CREATE", "/MON:1", "/MOT:5", "/RH:0800-1700", "/PF", "/JOB:x", "/SAVE:x", "/QUIT", "/L"}, 0, []Problem{
			{0, "/M", why("/M")}, {1, "/A+:R", why("/A+")}, {2, "/a-:H", why("/A-")}, {3, "/MOV", why("/MOV")},
			{4, "/MOVE", why("/MOVE")}, {5, "/CREATE", why("/CREATE")}, {6, "/MON:1", why("/MON")}, {7, "/MOT:5", why("/MOT")},
			{8, "/RH:0800-1700", why("/RH")}, {9, "/PF", why("/PF")}, {10, "/JOB:x", why("/JOB")}, {11, "/SAVE:x", why("/SAVE")},
			{12, "/QUIT", why("/QUIT")}, {13, "/L", why("/L")},
		}},
		{"mapped to attributes", []string{"/MIR", "/XO", "/FFT", "/MT:8", "/XJ", "/SL", "/R:3", "/XF", "*.tmp", "x.bak"}, 0, []Problem{
			{0, "/MIR", why("/MIR")}, {1, "/XO", "use exclude_older = true"}, {2, "/FFT", `use time_tolerance = "2s"`},
			{3, "/MT:8", why("/MT")}, {4, "/XJ", why("/XJ")}, {5, "/SL", why("/SL")}, {6, "/R:3", why("/R")}, {7, "/XF", why("/XF")},
		}},
		{"unknown switch and bare filter", []string{"/FROB", "*.docx"}, 0, []Problem{
			{0, "/FROB", "robo does not know this robocopy switch, so it cannot tell whether it changes what robocopy lists, copies or deletes; remove it (docs/robocopy.md lists the switches robo passes through)"},
			{1, "*.docx", "is not a switch: robocopy would take it as a file name filter, narrowing what is copied and purged behind the plan's back; use include"},
		}},
		{"threads with IPG", []string{"/IPG:50"}, 16, []Problem{
			{0, "/IPG:50", "the inter-packet gap throttle cannot be used with multi-threaded copying; robocopy rejects the combination (conflicts with threads setting (/MT))"},
		}},
		{"LFSM", []string{"/LFSM:5G", "/B"}, 4, []Problem{
			{0, "/LFSM:5G", "low-free-space mode cannot be used with multi-threaded copying (conflicts with threads setting (/MT))"},
			{0, "/LFSM:5G", "low-free-space mode cannot be used with /B; robocopy rejects the combination"},
		}},
		{"duplicates point at each element", []string{"/NFL", "/NFL"}, 0, []Problem{{0, "/NFL", listingWhy}, {1, "/NFL", listingWhy}}},
		{"empty", []string{" "}, 0, []Problem{{0, " ", "empty argument; remove it"}}},
	}
	for _, tt := range tests {
		got := ValidateExtraArgs(tt.args, tt.threads)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got  %q\n want %q", tt.name, got, tt.want)
		}
	}
	// Every refused or mapped switch says what to do instead.
	for _, row := range PolicyTable() {
		if row.Verdict != Allowed && !strings.Contains(row.Why, "use ") && !strings.Contains(row.Why, "remove it") && !strings.Contains(row.Why, "instead") {
			t.Errorf("%s: reason %q does not say what to do instead", row.Switch, row.Why)
		}
	}
}

func TestIsVolumeRoot(t *testing.T) {
	for p, want := range map[string]bool{
		`C:\`: true, `c:`: true, `C:/`: true, `\\server\share`: true, `\\server\share\`: true,
		`\\?\C:\`: true, `\\?\UNC\srv\sh\`: true, `\\?\Volume{0a1b}\`: true,
		`C:\data`: false, `\\server\share\dir`: false, `\\server`: false, `\\?\C:\x`: false,
		`\\?\UNC\srv\sh\x`: false, `relative`: false, ``: false,
	} {
		if got := IsVolumeRoot(p); got != want {
			t.Errorf("IsVolumeRoot(%q) = %v, want %v", p, got, want)
		}
	}
}

// windowsEscapeArg quotes one argument the way Go's syscall.EscapeArg does on
// Windows (MSVCRT rules): backslashes are literal unless they precede a
// quote, so a run of backslashes before a quote is doubled.
func windowsEscapeArg(s string) string {
	if s == "" {
		return `""`
	}
	if !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1))
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(c)
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// windowsSplitArgs parses a command line with the MSVCRT rules robocopy's
// runtime uses: 2n backslashes + quote -> n backslashes and a quote toggle;
// 2n+1 backslashes + quote -> n backslashes and a literal quote.
func windowsSplitArgs(cmd string) []string {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case c == '\\':
			n := 0
			for i < len(cmd) && cmd[i] == '\\' {
				n++
				i++
			}
			if i < len(cmd) && cmd[i] == '"' {
				cur.WriteString(strings.Repeat(`\`, n/2))
				if n%2 == 1 {
					cur.WriteByte('"')
				} else {
					inQuote = !inQuote
				}
			} else {
				cur.WriteString(strings.Repeat(`\`, n))
				i--
			}
			have = true
		case c == '"':
			inQuote = !inQuote
			have = true
		case (c == ' ' || c == '\t') && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

// TestWindowsQuotingRoundTrip shows why BuildArgs may keep `C:\` and paths
// with spaces as separate argv elements: quoted the way os/exec quotes on
// Windows, a trailing backslash does not escape the closing quote. The naive
// form `"C:\src\"` shows the trap.
func TestWindowsQuotingRoundTrip(t *testing.T) {
	argv := []string{`C:\`, `C:\My Data\`, `D:\Back up`, "/XD", `C:\src\node modules\`, "/UNILOG:C:\\log dir\\r.log", "/R:0"}
	var parts []string
	for _, a := range argv {
		parts = append(parts, windowsEscapeArg(a))
	}
	line := strings.Join(parts, " ")
	if got := windowsSplitArgs(line); !reflect.DeepEqual(got, argv) {
		t.Errorf("round trip of %s:\n got  %q\n want %q", line, got, argv)
	}
	naive := `"C:\My Data\" "D:\Back up" /R:0`
	if got := windowsSplitArgs(naive); len(got) != 2 || got[0] != `C:\My Data" D:\Back` {
		t.Errorf("naive quoting = %q; expected the trailing backslash to swallow the quote", got)
	}
}
