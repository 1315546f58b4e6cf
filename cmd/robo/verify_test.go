package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tt "github.com/robo-backup/robo/internal/testtree"
)

// backedUp writes a source tree for testConfig's set, applies it, and
// returns the config dir, the source and the destination.
func backedUp(t *testing.T) (conf, src, dst string) {
	t.Helper()
	conf, dst = testConfig(t)
	src = filepath.Join(filepath.Dir(conf), "src")
	put(t, src, "docs/b.txt", "bravo", tt.Base)
	put(t, src, "docs/deep/c.txt", "charlie", tt.Base)
	put(t, src, "other/d.txt", "delta", tt.Base)
	e, out, errb := testEnv("", false)
	if code := run([]string{"-chdir", conf, "apply", "-auto-approve"}, e); code != exitOK {
		t.Fatalf("apply: exit %d: %s %s", code, out, errb)
	}
	return conf, src, dst
}

func put(t *testing.T, root, rel, data string, at time.Time) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

func runRobo(t *testing.T, stdin string, interactive bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	e, out, errb := testEnv(stdin, interactive)
	code = run(args, e)
	return code, out.String(), errb.String()
}

// notHeldOpen requires that no handle robo opened in this process is still
// open on dir (issue 14): on Windows an open directory handle keeps anyone
// from renaming or deleting the directory, so a root left open by a
// command makes a long-running robo (watch, ui) hold every root it ever
// touched. It renames dir and back, which Windows refuses while a handle
// is open; on Unix it always succeeds.
func notHeldOpen(t *testing.T, dir string) {
	t.Helper()
	if err := os.Rename(dir, dir+".moved"); err != nil {
		t.Fatalf("%s is still held open by robo: %v", dir, err)
	}
	if err := os.Rename(dir+".moved", dir); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCommand(t *testing.T) {
	conf, _, dst := backedUp(t)
	if code, out, errb := runRobo(t, "", false, "-chdir", conf, "verify"); code != exitOK || !strings.Contains(out, `"docs": match (4 files`) {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	// Same size, same time, other bytes: only -checksum sees it.
	put(t, dst, "docs/b.txt", "BRAVO", tt.Base)
	if code, out, _ := runRobo(t, "", false, "-chdir", conf, "verify", "docs"); code != exitOK {
		t.Fatalf("exit %d without -checksum: %s", code, out)
	}
	code, out, _ := runRobo(t, "", false, "-chdir", conf, "verify", "docs", "-checksum")
	if code != exitError || !strings.Contains(out, "content differs") || !strings.Contains(out, "docs/b.txt") || !strings.Contains(out, "DIFFERS") {
		t.Fatalf("exit %d: %s", code, out)
	}
	code, out, _ = runRobo(t, "", false, "-chdir", conf, "verify", "-checksum", "-json")
	var doc struct {
		FormatVersion string `json:"format_version"`
		OK            bool   `json:"ok"`
		Sets          []struct {
			Name        string         `json:"name"`
			OK          bool           `json:"ok"`
			Counts      map[string]int `json:"counts"`
			Differences []struct {
				Path, Kind string
			} `json:"differences"`
		} `json:"sets"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitError {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	if doc.FormatVersion != "1" || doc.OK || len(doc.Sets) != 1 || doc.Sets[0].OK || doc.Sets[0].Counts["hashed"] != 4 ||
		len(doc.Sets[0].Differences) != 1 || doc.Sets[0].Differences[0].Kind != "content_differs" {
		t.Fatalf("%+v", doc)
	}
	// An extra in a mirror fails; the versions folder is not an extra.
	put(t, dst, "docs/b.txt", "bravo", tt.Base)
	put(t, dst, ".robo-versions/20261126T142233Z/docs/b.txt", "old", tt.Base)
	if code, out, _ := runRobo(t, "", false, "-chdir", conf, "verify"); code != exitOK {
		t.Fatalf("versions folder counted: exit %d: %s", code, out)
	}
	put(t, dst, "stray.txt", "s", tt.Base)
	if code, out, _ := runRobo(t, "", false, "-chdir", conf, "verify"); code != exitError || !strings.Contains(out, "extra") || !strings.Contains(out, "stray.txt") {
		t.Fatalf("exit %d: %s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(conf, ".robo", "audit.jsonl"))
	if err != nil || strings.Count(string(b), "verify.finished") != 6 || !strings.Contains(string(b), "docs=differs") {
		t.Fatalf("audit trail: %v\n%s", err, b)
	}
	if code, _, errb := runRobo(t, "", false, "-chdir", conf, "verify", "nope"); code != exitError || !strings.Contains(errb, `no backup set named "nope"`) {
		t.Fatalf("exit %d: %s", code, errb)
	}
}

func treeDiff(t *testing.T, a, b string, ignore ...string) string {
	t.Helper()
	ta, err := tt.Read(a)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := tt.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	return tt.Diff(ta, tb, tt.Options{Ignore: func(p string) bool {
		for _, i := range ignore {
			if p == i || strings.HasPrefix(p, i+"/") {
				return true
			}
		}
		return false
	}})
}

func TestRestoreToDir(t *testing.T) {
	conf, _, dst := backedUp(t)
	put(t, dst, ".robo-versions/20261126T142233Z/a.txt", "old", tt.Base)
	to := filepath.Join(t.TempDir(), "restored")
	code, out, errb := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-to", to, "-auto-approve")
	if code != exitOK || !strings.Contains(out, "+ docs/deep/c.txt (7 B)") || !strings.Contains(out, "Restored 4 files") {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	if d := treeDiff(t, dst, to, ".robo-versions"); d != "" {
		t.Fatalf("restored tree differs:\n%s", d)
	}
	if _, err := os.Stat(filepath.Join(to, ".robo-versions")); !os.IsNotExist(err) {
		t.Fatal("the versions folder was restored")
	}
	// A second restore has nothing to do.
	if code, out, _ := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-to", to); code != exitOK || !strings.Contains(out, "Nothing to restore") {
		t.Fatalf("exit %d: %s", code, out)
	}
	b, _ := os.ReadFile(filepath.Join(conf, ".robo", "audit.jsonl"))
	if !strings.Contains(string(b), "restore.finished") {
		t.Fatalf("no restore.finished in the audit trail:\n%s", b)
	}
}

func TestRestorePaths(t *testing.T) {
	conf, _, dst := backedUp(t)
	to := filepath.Join(t.TempDir(), "restored")
	code, out, errb := runRobo(t, "", false, "-chdir", conf, "restore", "-path", "docs/deep", "-path", "a.txt", "docs", "-to", to, "-auto-approve")
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	notHeldOpen(t, dst) // the -path check used to leave the backup's root open
	notHeldOpen(t, to)
	var got []string
	filepath.WalkDir(to, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			r, _ := filepath.Rel(to, p)
			got = append(got, filepath.ToSlash(r))
		}
		return nil
	})
	if strings.Join(got, ",") != "a.txt,docs/deep/c.txt" {
		t.Fatalf("restored %v", got)
	}
	for _, bad := range []string{"../x", "docs/../../x", "/etc"} {
		if code, _, errb := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-path", bad, "-to", to, "-auto-approve"); code != exitError || !strings.Contains(errb, "-path") {
			t.Errorf("-path %s: exit %d: %s", bad, code, errb)
		}
	}
	if code, _, errb := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-path", "nope", "-to", to, "-auto-approve"); code != exitError || !strings.Contains(errb, "not in the backup") {
		t.Errorf("missing -path: exit %d: %s", code, errb)
	}
}

func TestRestoreKeepsNewer(t *testing.T) {
	conf, src, _ := backedUp(t)
	newer := tt.Base.Add(time.Hour)
	put(t, src, "docs/b.txt", "edited after the backup", newer)
	os.Remove(filepath.Join(src, "other", "d.txt"))
	code, out, errb := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-auto-approve")
	if code != exitOK || !strings.Contains(out, "= docs/b.txt kept: the target's copy is newer") || !strings.Contains(out, "1 file to copy") {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "docs", "b.txt")); string(b) != "edited after the backup" {
		t.Fatalf("newer file overwritten: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "other", "d.txt")); string(b) != "delta" {
		t.Fatalf("d.txt not restored: %q", b)
	}
	if code, out, _ := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-auto-approve", "-overwrite-newer"); code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "docs", "b.txt")); string(b) != "bravo" {
		t.Fatalf("-overwrite-newer: %q", b)
	}
}

func TestRestoreConfirmation(t *testing.T) {
	conf, _, _ := backedUp(t)
	to := filepath.Join(t.TempDir(), "restored")
	code, _, errb := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-to", to)
	if code != exitError || !strings.Contains(errb, "pass -auto-approve") {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if _, err := os.Stat(to); !os.IsNotExist(err) {
		t.Fatal("restored without confirmation")
	}
	if code, out, _ := runRobo(t, "no\n", true, "-chdir", conf, "restore", "docs", "-to", to); code != exitError || !strings.Contains(out, "Only 'yes'") {
		t.Fatalf("exit %d after no: %s", code, out)
	}
	if _, err := os.Stat(to); !os.IsNotExist(err) {
		t.Fatal("restored after no")
	}
	if code, out, errb := runRobo(t, "yes\n", true, "-chdir", conf, "restore", "docs", "-to", to); code != exitOK {
		t.Fatalf("exit %d after yes: %s %s", code, out, errb)
	}
	if b, _ := os.ReadFile(filepath.Join(to, "a.txt")); string(b) != "a" {
		t.Fatalf("a.txt: %q", b)
	}
}

func TestRestoreVersion(t *testing.T) {
	conf, _, dst := backedUp(t)
	v := filepath.Join(dst, ".robo-versions")
	put(t, v, "20261125T090000Z/a.txt", "monday", tt.Base)
	put(t, v, "20261126T142233Z/docs/b.txt", "old bravo", tt.Base.Add(-time.Hour))
	to := filepath.Join(t.TempDir(), "restored")
	code, out, errb := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-version", "2026-11-26T14:22:33Z", "-to", to, "-auto-approve")
	if code != exitOK || !strings.Contains(out, "(version 20261126T142233Z)") {
		t.Fatalf("exit %d: %s %s", code, out, errb)
	}
	if d := treeDiff(t, filepath.Join(v, "20261126T142233Z"), to); d != "" {
		t.Fatalf("restored version differs:\n%s", d)
	}
	code, _, errb = runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-version", "2027", "-to", to, "-auto-approve")
	if code != exitError || !strings.Contains(errb, "the versions are: 20261125T090000Z, 20261126T142233Z") {
		t.Fatalf("exit %d: %s", code, errb)
	}
	code, _, errb = runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-version", "2026-11", "-to", to, "-auto-approve")
	if code != exitError || !strings.Contains(errb, "matches 2 versions") {
		t.Fatalf("exit %d: %s", code, errb)
	}
}

// TestRestoreRefusesTargetsInTheBackup (issue 13): -to the destination, a
// directory inside it, or a link that points into it is refused before
// anything is read or written; the backup is left as it was.
func TestRestoreRefusesTargetsInTheBackup(t *testing.T) {
	conf, _, dst := backedUp(t)
	before := tt.Snapshot(t, dst)
	refused := func(to string) {
		t.Helper()
		code, out, errb := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-to", to, "-auto-approve")
		if code == exitOK || !strings.Contains(errb, "overlaps the destination") {
			t.Errorf("-to %s: exit %d: %s %s", to, code, out, errb)
		}
		if d := tt.Diff(before, tt.Snapshot(t, dst), tt.Options{DirTimes: true}); d != "" {
			t.Fatalf("-to %s: the backup changed:\n%s", to, d)
		}
	}
	refused(dst)
	refused(filepath.Join(dst, "docs"))
	// Through links (skipped where links cannot be made: Windows without
	// the privilege, Wine).
	links := t.TempDir()
	tt.Symlink(t, dst, filepath.Join(links, "to-dst"))
	tt.Symlink(t, filepath.Join(dst, "docs"), filepath.Join(links, "to-docs"))
	for _, to := range []string{filepath.Join(links, "to-dst"), filepath.Join(links, "to-docs"), filepath.Join(links, "to-docs", "not", "yet")} {
		refused(to)
	}
}
