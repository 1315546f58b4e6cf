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
				ListOnly: true, UnilogPath: `C:\ProgramData\robo\logs\job 1.log`, CopyDirTimestamps: true,
				ExtraArgs: []string{"/XA:SH", "/COMPRESS"}},
			want: []string{`C:\src`, `D:\dst`, "*.doc", "*.xls", "/E", "/XF", "~*", "Thumbs.db", "/XD", ".git", `C:\src\tmp`,
				"/DCOPY:DAT", "/XO", "/XJ", "/R:3", "/W:5", "/L", "/NP", "/BYTES", "/FP",
				`/UNILOG:C:\ProgramData\robo\logs\job 1.log`, "/TEE", "/XA:SH", "/COMPRESS"},
		},
		{
			name: "drive root source keeps its backslash and gets volume excludes",
			o:    Options{Source: `D:\`, Destination: `\\nas\backup\d\`, CopyLinks: true, ExcludeDirs: []string{"$recycle.bin"}},
			want: []string{`D:\`, `\\nas\backup\d`, "/S", "/XD", "$recycle.bin", "System Volume Information",
				"/DCOPY:DA", "/SL", "/R:0", "/W:0", "/NP", "/BYTES", "/FP"},
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
		{"xx with mirror", Options{Source: `C:\a`, Destination: `D:\x`, Mirror: true, ExtraArgs: []string{"/xx"}}, "silently turns mirroring (purge) off"},
	}
	for _, tt := range tests {
		_, err := BuildArgs(tt.o)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestValidateExtraArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		threads int
		want    []Problem
	}{
		{"fine", []string{"/XA:H", "/COMPRESS", "/XF", "*.tmp", "/mt:4"}, 0, nil},
		{"forbidden, case and value", []string{"/Log+:c:\\x.log", "/unilog:x", "/MOVE", "/create", "/JOB:x.rcj", "/l"}, 0, []Problem{
			{"/Log+:c:\\x.log", forbidden["/LOG+"]},
			{"/unilog:x", forbidden["/UNILOG"]},
			{"/MOVE", forbidden["/MOVE"]},
			{"/create", forbidden["/CREATE"]},
			{"/JOB:x.rcj", forbidden["/JOB"]},
			{"/l", forbidden["/L"]},
		}},
		{"MT twice and IPG", []string{"/MT:8", "/IPG:50"}, 16, []Problem{
			{"/MT:8", "threads are already set in robo's config (/MT added by robo); set them in one place only"},
			{"/IPG:50", "the inter-packet gap throttle cannot be used with multi-threaded copying; robocopy rejects the combination (conflicts with /MT:8)"},
		}},
		{"threads setting with EFSRAW", []string{"/efsraw"}, 2, []Problem{
			{"/efsraw", "copying encrypted files raw cannot be used with multi-threaded copying; robocopy rejects the combination (conflicts with threads setting (/MT))"},
		}},
		{"LFSM", []string{"/LFSM:5G", "/B", "/mt"}, 0, []Problem{
			{"/LFSM:5G", "low-free-space mode cannot be used with multi-threaded copying (conflicts with /mt)"},
			{"/LFSM:5G", "low-free-space mode cannot be used with /B; robocopy rejects the combination"},
		}},
		{"bad MT value", []string{"/MT:200"}, 0, []Problem{{"/MT:200", "the thread count must be a number from 1 to 128"}}},
		{"XX with purge", []string{"/XX", "/purge"}, 0, []Problem{
			{"/purge", forbidden["/PURGE"]},
			{"/XX", "/XX excludes extra files and directories, which silently turns off the purge requested by /purge"},
		}},
		{"empty", []string{" "}, 0, []Problem{{" ", "empty argument; remove it"}}},
	}
	for _, tt := range tests {
		got := ValidateExtraArgs(tt.args, tt.threads)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got  %q\n want %q", tt.name, got, tt.want)
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
