package robocopy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
)

// Issue 16: a file robocopy lists as Tweaked (with /IT: same size and
// time, other attributes) is planned as an update of class Tweaked, not as
// a change of its data. The job is real sample 26 with one Older line's
// class set to Tweaked (no public log with a Tweaked line was found).
func TestTweakedLinePlansTweaked(t *testing.T) {
	j := *readSample(t, "26-older-extra-newdir-newfile-775kb-native-log.log")
	j.Files = append([]FileEntry(nil), j.Files...)
	tweaked := ""
	for i := range j.Files {
		if j.Files[i].Class == "Older" {
			j.Files[i].Class, j.Files[i].RawTag = "Tweaked", "Tweaked"
			tweaked = j.Files[i].FullPath
			break
		}
	}
	if tweaked == "" {
		t.Fatal("sample 26 has no Older line")
	}
	spec := engine.Spec{Source: `c:\Users\Hp\OneDrive\Desktop\Shubham OS\frontend`, Destination: `C:\USERS\Hp\OneDrive\Desktop\shubham-ai-os-fronted-tmp`, Mirror: true}
	res := ChangesFromJob(&j, spec)
	n := 0
	for _, c := range res.Changes.Slice() {
		if c.Class == engine.Tweaked {
			n++
			if c.Action != engine.Update || c.Kind != engine.KindFile || c.Phase != engine.PhaseCopy {
				t.Errorf("tweaked change %+v", c)
			}
		}
	}
	if n != 1 || len(res.Errors) != 0 {
		t.Fatalf("%d tweaked changes (want 1), errors %v", n, res.Errors)
	}
	// The tag is robocopy's own (and the Japanese one of its class table).
	for _, tag := range []string{"Tweaked", "マイナー変更した"} {
		if got := classifyFileTag(tag); got != "Tweaked" {
			t.Errorf("tag %q is %q", tag, got)
		}
	}
}

// A per-file privilege error copying security (ERROR 1314, "A required
// privilege is not held by the client": an owner or SACL the account may
// not set) fails that file and the set, with the code and the action. The
// error lines are built in the test in robocopy's ERROR line format, with
// Windows' message for 1314, inside real sample 03 (SOURCES.md).
func TestPrivilegeErrorCopyingSecurity(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(samplesDir, "03-extra-file-newer-tee-np.log"))
	if os.IsNotExist(err) {
		t.Skip("samples not found")
	}
	if err != nil {
		t.Fatal(err)
	}
	errLines := "2025/11/18 22:30:05 ERROR 1314 (0x00000522) Copying NTFS Security to Destination File \\\\Owl\\rwg$\\RWG_TO_OWL.bak\r\n" +
		"A required privilege is not held by the client.\r\n" +
		"2025/11/18 22:30:05 ERROR 1314 (0x00000522) Copying NTFS Security to Destination File \\\\Owl\\rwg$\\RWG_TO_OWL.bak\r\n" +
		"A required privilege is not held by the client.\r\n" +
		"ERROR: RETRY LIMIT EXCEEDED.\r\n"
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	at := strings.Index(s, "RWG_TO_OWL.bak\n") + len("RWG_TO_OWL.bak\n")
	log := ParseBytes([]byte(s[:at] + strings.ReplaceAll(errLines, "\r\n", "\n") + s[at:]))
	if len(log.Jobs) != 1 {
		t.Fatalf("%d jobs", len(log.Jobs))
	}
	j := log.Jobs[0]
	if len(j.Errors) != 2 || j.Errors[0].Code != 1314 || j.Errors[0].Action != "Copying NTFS Security to Destination File" ||
		j.Errors[0].Path != `\\Owl\rwg$\RWG_TO_OWL.bak` || j.Errors[0].Message != "A required privilege is not held by the client." || !j.Errors[1].RetryLimitExceeded {
		t.Fatalf("errors %+v", j.Errors)
	}
	if j.UnrecognizedCount != 0 {
		t.Errorf("unrecognized %q", j.Unrecognized)
	}
	res := ResultFromJob(&j, 9, true)
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Err, "error 1314") || !strings.Contains(res.Errors[0].Err, "A required privilege is not held") {
		t.Fatalf("result errors %+v", res.Errors)
	}
	if res.OK() {
		t.Error("a file whose security could not be set is a success")
	}
}

// The same error in a real log (SOURCES.md: a /COPYALL run to a NAS with
// /NJH /NJS, so no header or summary): robocopy's own ERROR 1314 line for
// a directory, then Windows' message.
func TestRealPrivilegeErrorCopyingSecurity(t *testing.T) {
	log := parseFixture(t, "real-error-1314-copyall-njh-njs.log")
	if len(log.Jobs) != 1 {
		t.Fatalf("%d jobs", len(log.Jobs))
	}
	j := log.Jobs[0]
	if len(j.Errors) != 1 || j.Errors[0].Code != 1314 || j.Errors[0].Action != "Copying NTFS Security to Destination Directory" ||
		j.Errors[0].Path != `\\TS453D\Yitzis Book Projects Backup\` || j.Errors[0].Message != "A required privilege is not held by the client." {
		t.Fatalf("errors %+v", j.Errors)
	}
	if j.UnrecognizedCount != 0 {
		t.Errorf("unrecognized %q", j.Unrecognized)
	}
	// robo never passes /NJS: the missing summary is a second error.
	res := ResultFromJob(&j, 8, true)
	if res.OK() || len(res.Errors) != 2 || !strings.Contains(res.Errors[0].Err, "error 1314 (0x00000522): A required privilege is not held") ||
		!strings.Contains(res.Errors[1].Err, "robocopy wrote no summary") {
		t.Fatalf("result %+v", res.Errors)
	}
}

// A missing auditing right stops robocopy (real sample 18, /COPYALL): the
// error says which of the set's letters needs which right.
func TestManageAuditingRightHint(t *testing.T) {
	j := readSample(t, "18-fatal-param-error-copyall-manage-auditing-right.log")
	err := privilegeHint(fatalError(j, 16), engine.Spec{Copy: "DATSOU"})
	for _, want := range []string{"You do not have the Manage Auditing user right", `copy = "DATSOU" includes U`, "leave U out of copy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if err := privilegeHint(fatalError(j, 16), engine.Spec{Copy: "DATS"}); strings.Contains(err.Error(), "includes U") {
		t.Errorf("hint without U: %v", err)
	}
}
