package robocopy

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
)

// The fixtures in testdata/fixtures were written for these tests (not
// copied from real logs); each exercises one rule of FORMAT.md.

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFixture(t *testing.T, name string) *Log {
	t.Helper()
	l, err := Parse(bytes.NewReader(readFixture(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func i64(v int64) *int64     { return &v }
func f64(v float64) *float64 { return &v }
func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %#v\n want %#v", what, got, want)
	}
}

func TestFixtureUTF16TwoJobs(t *testing.T) {
	raw := readFixture(t, "unilog-utf16le-two-jobs.log")
	check := func(t *testing.T, l *Log, enc string) {
		eq(t, "encoding", l.Encoding, enc)
		if len(l.Jobs) != 2 {
			t.Fatalf("jobs = %d, want 2", len(l.Jobs))
		}
		j := l.Jobs[0]
		eq(t, "source", j.Source, `C:\Data\Docs\`)
		eq(t, "dest", j.Destination, `E:\Backup\Docs\`)
		eq(t, "started", j.Started, "Monday, January 5, 2026 10:00:00 AM")
		eq(t, "ended", j.Ended, "Monday, January 5, 2026 10:00:02 AM")
		eq(t, "files", j.Files, []FileEntry{
			{Class: "New File", RawTag: "New File", Size: 1234, Path: "café.txt", FullPath: `C:\Data\Docs\café.txt`},
			{Class: "Newer", RawTag: "Newer", Size: 987654, Path: "plan ünïcode.xlsx", FullPath: `C:\Data\Docs\plan ünïcode.xlsx`},
		})
		eq(t, "summary", j.Summary, &Summary{
			Dirs: Row{Total: 1, Copied: 0, Skipped: 1, Mismatch: 0, Failed: 0, Extras: 0}, Files: Row{Total: 2, Copied: 2, Skipped: 0, Mismatch: 0, Failed: 0, Extras: 0}, Bytes: Row{Total: 988888, Copied: 988888, Skipped: 0, Mismatch: 0, Failed: 0, Extras: 0},
			Times:            &TimesRow{"0:00:01", "0:00:01", "0:00:00", "0:00:00"},
			SpeedBytesPerSec: i64(988888), SpeedMegaBytesPerMin: f64(56.582),
		})
		j = l.Jobs[1]
		eq(t, "job2 options", j.Options, "*.* /S /E /DCOPY:DA /COPY:DAT /NP /BYTES /PURGE /MIR /R:0 /W:0")
		eq(t, "job2 dirs", j.Dirs, []DirEntry{
			{Class: "", Count: 0, Path: `C:\Data\Music\`},
			{Class: "*EXTRA Dir", RawTag: "*EXTRA Dir", Count: -1, Path: `E:\Backup\Music\old\`},
			{Class: "New Dir", RawTag: "New Dir", Count: 1, Path: `C:\Data\Music\日本\`},
		})
		eq(t, "job2 files", j.Files, []FileEntry{
			{Class: "*EXTRA File", RawTag: "*EXTRA File", Size: 10, Path: "stale.m3u", FullPath: `E:\Backup\Music\stale.m3u`},
			{Class: "New File", RawTag: "New File", Size: 5000000, Path: "曲.flac", FullPath: `C:\Data\Music\日本\曲.flac`},
		})
		eq(t, "job2 dirs row", j.Summary.Dirs, Row{Total: 2, Copied: 1, Skipped: 1, Mismatch: 0, Failed: 0, Extras: 1})
		eq(t, "job2 speed", j.Summary.SpeedBytesPerSec, (*int64)(nil))
		eq(t, "job2 ended", j.Ended, "Monday, January 5, 2026 10:00:04 AM")
	}
	t.Run("bom", func(t *testing.T) { check(t, ParseBytes(raw), "utf-16le") })
	t.Run("no bom", func(t *testing.T) { check(t, ParseBytes(raw[2:]), "utf-16le") })
	t.Run("big endian", func(t *testing.T) {
		s, _ := xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM).NewDecoder().Bytes(raw[2:])
		be, _ := xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM).NewEncoder().Bytes(s)
		check(t, ParseBytes(append([]byte{0xFE, 0xFF}, be...)), "utf-16be")
	})
	t.Run("utf-8 with bom", func(t *testing.T) {
		s, _ := xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM).NewDecoder().Bytes(raw[2:])
		check(t, ParseBytes(append([]byte{0xEF, 0xBB, 0xBF}, s...)), "utf-8")
	})
}

func TestFixtureCRProgress(t *testing.T) {
	l := parseFixture(t, "cr-progress.log")
	j := l.Jobs[0]
	eq(t, "files", j.Files, []FileEntry{
		{Class: "New File", RawTag: "New File", Size: 1610612736, Path: "holiday.mkv", FullPath: `D:\Video\holiday.mkv`},
		{Class: "Changed", RawTag: "Changed", Size: 4404019, Path: "clip one.mp4", FullPath: `D:\Video\clip one.mp4`},
		{Class: "Older", RawTag: "Older", Size: 0, Path: "empty.txt", FullPath: `D:\Video\empty.txt`},
	})
	eq(t, "bytes", j.Summary.Bytes, Row{Total: 1614907703, Copied: 1614907703, Skipped: 0, Mismatch: 0, Failed: 0, Extras: 0})
	eq(t, "speed", *j.Summary.SpeedMegaBytesPerMin, 70.64)
	eq(t, "unrecognized", j.Unrecognized, []string(nil))
}

func TestFixtureDestEquals(t *testing.T) {
	l := parseFixture(t, "dest-equals-lf.log")
	j := l.Jobs[0]
	eq(t, "source", j.Source, `\\fileserver\share\`)
	eq(t, "dest", j.Destination, `F:\mirror\share\`)
	eq(t, "xf", j.ExcludeFiles, []string{"*.tmp", "~$*"})
	eq(t, "xd", j.ExcludeDirs, []string{"System Volume Information", "$RECYCLE.BIN"})
	eq(t, "include", j.Include, []string{"*.*"})
	eq(t, "options", j.Options, "*.* /S /E /DCOPY:DA /COPY:DAT /NP /R:2 /W:10")
	eq(t, "times", j.Summary.Times, &TimesRow{"0:00:01", "0:00:01", "0:00:00", "0:00:00"})
	eq(t, "no speed", j.Summary.SpeedBytesPerSec, (*int64)(nil))
	eq(t, "truncated/fatal", [2]bool{j.Truncated, j.Fatal}, [2]bool{false, false})
}

func TestFixtureMTInterleaved(t *testing.T) {
	l := parseFixture(t, "mt-interleaved.log")
	j := l.Jobs[0]
	f := func(class string, size int64, p string) FileEntry {
		return FileEntry{Class: class, RawTag: class, Size: size, Path: p, FullPath: p}
	}
	eq(t, "files", j.Files, []FileEntry{
		f("New File", 100, `C:\src\a.txt`),
		f("New File", 200, `C:\src\sub\b-long.txt`),
		f("Newer", 300, `C:\src\locked.db`),
		f("New File", 400, `C:\src\c.txt`),
		f("Newer", 300, `C:\src\locked.db`),
		f("*EXTRA File", 1024, `Z:\dst\gone.txt`),
	})
	eq(t, "dirs", j.Dirs, []DirEntry{{Class: "*EXTRA Dir", RawTag: "*EXTRA Dir", Count: -1, Path: `Z:\dst\gone\`}})
	msg := "The process cannot access the file because it is being used by another process."
	eq(t, "errors", j.Errors, []Error{
		{Code: 32, HasCode: true, Action: "Copying File", Path: `C:\src\locked.db`, Message: msg, Time: "2026/03/04 08:00:01"},
		{Code: 32, HasCode: true, Action: "Copying File", Path: `C:\src\locked.db`, Message: msg, Time: "2026/03/04 08:00:06"},
		{Code: 32, HasCode: true, Action: "Copying File", Path: `C:\src\locked.db`, Message: msg, Time: "2026/03/04 08:00:11", RetryLimitExceeded: true},
	})
	eq(t, "retries", j.Retries, 2)
	eq(t, "files row", j.Summary.Files, Row{Total: 5, Copied: 3, Skipped: 1, Mismatch: 0, Failed: 1, Extras: 1})
	eq(t, "fatal", j.Fatal, false)
	eq(t, "unrecognized", j.Unrecognized, []string(nil))
}

func TestFixtureMissingSummary(t *testing.T) {
	j := parseFixture(t, "missing-summary-killed.log").Jobs[0]
	eq(t, "summary", j.Summary, (*Summary)(nil))
	eq(t, "truncated", j.Truncated, true)
	eq(t, "fatal", j.Fatal, false)
	eq(t, "ended", j.Ended, "")
	eq(t, "last file", j.Files[len(j.Files)-1], FileEntry{Class: "New File", RawTag: "New File", Size: 2097152, Path: "IMG_0001.jpg", FullPath: `C:\Users\me\photos\IMG_0001.jpg`})
	eq(t, "counts", [2]int{len(j.Files), len(j.Dirs)}, [2]int{2, 2})
}

func TestFixtureRussianCP866(t *testing.T) {
	raw := readFixture(t, "ru-cp866-localized.log")
	check := func(t *testing.T, l *Log) {
		eq(t, "encoding", l.Encoding, "cp866")
		j := l.Jobs[0]
		eq(t, "started", j.Started, "понедельник, 5 января 2026 г. 12:00:00")
		eq(t, "source", j.Source, `C:\Документы\`)
		eq(t, "dest", j.Destination, `D:\Архив\`)
		eq(t, "xd", j.ExcludeDirs, []string{"кэш"})
		eq(t, "files", j.Files, []FileEntry{
			{Class: "New File", RawTag: "Новый файл", Size: 512, Path: "отчёт.docx", FullPath: `C:\Документы\отчёт.docx`},
			{Class: "Newer", RawTag: "Новее", Size: 1048576, Path: "план.xlsx", FullPath: `C:\Документы\план.xlsx`},
			{Class: "*EXTRA File", RawTag: "*ДОПОЛНИТЕЛЬНЫЙ файл", Size: 64, Path: "старый.txt", FullPath: `D:\Архив\старый.txt`},
		})
		eq(t, "summary", j.Summary, &Summary{
			Dirs: Row{Total: 1, Copied: 0, Skipped: 1, Mismatch: 0, Failed: 0, Extras: 0}, Files: Row{Total: 3, Copied: 2, Skipped: 0, Mismatch: 0, Failed: 0, Extras: 1}, Bytes: Row{Total: 1048576, Copied: 1048576, Skipped: 0, Mismatch: 0, Failed: 0, Extras: 64},
			Times:            &TimesRow{"0:00:01", "0:00:01", "0:00:00", "0:00:00"},
			SpeedBytesPerSec: i64(1049088), SpeedMegaBytesPerMin: f64(60),
		})
		eq(t, "ended", j.Ended, "понедельник, 5 января 2026 г. 12:00:01")
		eq(t, "unrecognized", j.Unrecognized, []string(nil))
	}
	t.Run("detected", func(t *testing.T) { check(t, ParseBytes(raw)) })
	t.Run("explicit", func(t *testing.T) {
		l, err := ParseWith(bytes.NewReader(raw), ParseOptions{Encoding: charmap.CodePage866})
		if err != nil {
			t.Fatal(err)
		}
		check(t, l)
	})
}

func TestFixturePastedConsole(t *testing.T) {
	j := parseFixture(t, "pasted-console-spaces.log").Jobs[0]
	eq(t, "source", j.Source, `C:\iso\`)
	eq(t, "dest", j.Destination, `\\srv\iso\`)
	eq(t, "include", j.Include, []string{"*.iso"})
	eq(t, "options", j.Options, "/DCOPY:DA /COPY:DAT /R:5 /W:5")
	eq(t, "dirs", j.Dirs, []DirEntry{
		{Class: "", Count: 1, Path: `C:\iso\`},
		{Class: "*EXTRA Dir", RawTag: "*EXTRA Dir", Count: -1, Path: `\\srv\iso\old\`},
		{Class: "New Dir", RawTag: "New Dir", Count: 1, Path: `C:\iso\linux\`},
	})
	eq(t, "files", j.Files, []FileEntry{
		{Class: "New File", RawTag: "New File", Size: 4509715661, Path: "win 11.iso", FullPath: `C:\iso\win 11.iso`},
		{Class: "Newer", RawTag: "Newer", Size: 123456, Path: "debian 12.iso", FullPath: `C:\iso\linux\debian 12.iso`},
	})
	eq(t, "bytes", j.Summary.Bytes.Total, int64(4509715661))
	eq(t, "ended", j.Ended, "Friday, May 1, 2026 3:00:40 PM")
}

func TestFixtureParamError(t *testing.T) {
	j := parseFixture(t, "param-error-backup-right.log").Jobs[0]
	eq(t, "fatal/truncated", [2]bool{j.Fatal, j.Truncated}, [2]bool{true, false})
	eq(t, "summary", j.Summary, (*Summary)(nil))
	eq(t, "errors", j.Errors, []Error{{Message: "You do not have the Backup and Restore Files user rights. You need these to perform Backup copies (/B or /ZB).", Fatal: true}})
	eq(t, "unrecognized", j.Unrecognized, []string(nil))
}

func TestFixtureNoHeaderBytesTS(t *testing.T) {
	l := parseFixture(t, "njh-bytes-ts.log")
	if len(l.Jobs) != 1 {
		t.Fatalf("jobs = %d", len(l.Jobs))
	}
	j := l.Jobs[0]
	eq(t, "source", j.Source, "")
	eq(t, "files", j.Files, []FileEntry{
		{Class: "New File", RawTag: "新しいファイル", Size: 12345678901, Path: "big.bin", FullPath: `C:\proj\big.bin`, Timestamp: "2026/01/02 03:04:05"},
		{Class: "Newer", RawTag: "新しい", Size: 7, Path: "small.txt", FullPath: `C:\proj\small.txt`, Timestamp: "2026/01/02 03:04:06"},
		{Class: "Same", RawTag: "同じ", Size: 100, Path: "same.txt", FullPath: `C:\proj\same.txt`, Timestamp: "2026/01/01 00:00:00"},
	})
	eq(t, "bytes", j.Summary.Bytes, Row{Total: 12345679008, Copied: 12345678908, Skipped: 100, Mismatch: 0, Failed: 0, Extras: 0})
	eq(t, "ended", j.Ended, "2026年1月2日 3:04:07")
}

func TestWriteText(t *testing.T) {
	var buf strings.Builder
	l := parseFixture(t, "mt-interleaved.log")
	l.Jobs = append(l.Jobs, parseFixture(t, "missing-summary-killed.log").Jobs...)
	if err := l.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := `job 1 of 2 (log encoding utf-8)
  source:      C:\src\
  destination: Z:\dst\
  options:     *.* /S /E /DCOPY:DA /COPY:DAT /MT:16 /R:2 /W:5
  started:     Wednesday, March 4, 2026 8:00:00 AM
  ended:       Monday, January 5, 2026 10:00:02 AM
  entries:     6 files, 1 dirs listed; 2 retries
                  Total       Copied      Skipped     Mismatch       FAILED       Extras
  Dirs:               2            2            2            0            0            1
  Files:              5            3            1            0            1            1
  Bytes:           1000          700            0            0          300         1024
  Times:        0:00:01      0:00:01                                0:00:00      0:00:00
  speed:    140 bytes/s
  errors (3):
    2026/03/04 08:00:01 error 32 (0x00000020): Copying File C:\src\locked.db
      The process cannot access the file because it is being used by another process.
    2026/03/04 08:00:06 error 32 (0x00000020): Copying File C:\src\locked.db
      The process cannot access the file because it is being used by another process.
    2026/03/04 08:00:11 error 32 (0x00000020): Copying File C:\src\locked.db
      The process cannot access the file because it is being used by another process.
      retry limit exceeded: robocopy gave up

job 2 of 2 (log encoding utf-8)
  source:      C:\Users\me\
  destination: E:\me\
  options:     *.* /S /E /DCOPY:DA /COPY:DAT /NP /R:0 /W:0
  started:     Thursday, April 2, 2026 1:00:00 AM
  ended:       (not in log)
  entries:     2 files, 2 dirs listed; 0 retries
  summary: unknown (no summary in log: killed or fatal run)
  TRUNCATED: the log ends before the job's summary
`
	if got := buf.String(); got != want {
		t.Errorf("WriteText:\n%s\nwant:\n%s\n%s", got, want, firstDiff(want, got))
	}
}
