package robocopy

import (
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
)

// inUseLog is a run that gave up on a file another process held open. The
// ERROR 32 line and its message are real robocopy output: a pentest
// write-up's notes of `robocopy /B C:\Windows\NTDS .\ntds ntds.dit`
// (December 2022; code index file id 4272567613, the index names no
// repository; SOURCES.md, "Lines built inside tests"). The header, the
// retry lines and the summary around them are in the layout of the real
// logs of testdata (FORMAT.md), written for this test.
const inUseLog = "\r\n" +
	"-------------------------------------------------------------------------------\r\n" +
	"   ROBOCOPY     ::     Robust File Copy for Windows                              \r\n" +
	"-------------------------------------------------------------------------------\r\n" +
	"\r\n" +
	"  Started : Saturday, December 10, 2022 3:20:45 PM\r\n" +
	"   Source : C:\\Windows\\NTDS\\\r\n" +
	"     Dest : C:\\Users\\svc_backup\\ntds\\\r\n" +
	"\r\n" +
	"    Files : ntds.dit\r\n" +
	"\t    \r\n" +
	"  Options : /DCOPY:DA /COPY:DAT /B /R:1 /W:1 \r\n" +
	"\r\n" +
	"------------------------------------------------------------------------------\r\n" +
	"\r\n" +
	"\t                   1\tC:\\Windows\\NTDS\\\r\n" +
	"\t    New File  \t\t  20.0 m\tntds.dit\r\n" +
	"2022/12/10 15:20:45 ERROR 32 (0x00000020) Copying File C:\\Windows\\NTDS\\ntds.dit\r\n" +
	"The process cannot access the file because it is being used by another process.\r\n" +
	"Waiting 1 seconds... Retrying...\r\n" +
	"\t    New File  \t\t  20.0 m\tntds.dit\r\n" +
	"2022/12/10 15:20:46 ERROR 32 (0x00000020) Copying File C:\\Windows\\NTDS\\ntds.dit\r\n" +
	"The process cannot access the file because it is being used by another process.\r\n" +
	"\r\n" +
	"ERROR: RETRY LIMIT EXCEEDED.\r\n" +
	"\r\n" +
	"------------------------------------------------------------------------------\r\n" +
	"\r\n" +
	"               Total    Copied   Skipped  Mismatch    FAILED    Extras\r\n" +
	"    Dirs :         1         0         1         0         0         0\r\n" +
	"   Files :         1         0         0         0         1         0\r\n" +
	"   Bytes :   20.00 m         0         0         0   20.00 m         0\r\n" +
	"   Times :   0:00:01   0:00:01                       0:00:00   0:00:00\r\n" +
	"   Ended : Saturday, December 10, 2022 3:20:46 PM\r\n" +
	"\r\n"

// Issue 16: a file robocopy could not copy because another process holds
// it open is of robo's changing-files class, named with its reason, not a
// generic error, and the run keeps its failure bit.
func TestInUseFileIsChanging(t *testing.T) {
	l := ParseBytes([]byte(inUseLog))
	if len(l.Jobs) != 1 {
		t.Fatalf("%d jobs", len(l.Jobs))
	}
	res := ResultFromJob(&l.Jobs[0], 8, false)
	if len(res.Errors) != 0 {
		t.Fatalf("errors %+v", res.Errors)
	}
	if len(res.Changing) != 1 || res.Changing[0].Path != `C:\Windows\NTDS\ntds.dit` || res.Changing[0].Op != "Copying File" ||
		!strings.Contains(res.Changing[0].Err, "error 32 (0x00000020): The process cannot access the file because it is being used by another process.") {
		t.Fatalf("changing %+v", res.Changing)
	}
	if res.OK() || res.ExitCode()&engine.ExitFailed == 0 || res.Counters.Files.Failed != 1 {
		t.Errorf("ok %v exit %d counters %+v", res.OK(), res.ExitCode(), res.Counters.Files)
	}
	// The same code on a destination file (a deletion robocopy could not
	// make) stays an error.
	dst := strings.ReplaceAll(inUseLog, `ERROR 32 (0x00000020) Copying File C:\Windows\NTDS\ntds.dit`, `ERROR 32 (0x00000020) Deleting Extra File C:\Users\svc_backup\ntds\old.dit`)
	l = ParseBytes([]byte(dst))
	res = ResultFromJob(&l.Jobs[0], 8, true)
	if len(res.Changing) != 0 || len(res.Errors) != 1 {
		t.Fatalf("a destination in use: changing %+v errors %+v", res.Changing, res.Errors)
	}
}
