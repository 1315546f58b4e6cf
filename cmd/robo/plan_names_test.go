package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	tt "github.com/robo-backup/robo/internal/testtree"
)

// Issue 13: names that are not UTF-8 survive a saved plan byte for byte.
// "b\xff" and "b\ufffd" are two files; encoding/json alone writes both as
// "b\ufffd", so applying the saved plan deleted the wrong one, kept the
// extra and skipped the new file while reporting success. Windows names
// are UTF-16, where the analogue is an unpaired surrogate: Go spells it in
// WTF-8 ("\xed\xa0\x80" for U+D800), which is not UTF-8 either.
func TestSavedPlanKeepsNamesByteForByte(t *testing.T) {
	extra, added, dir1, file1 := "b\xff", "new\xfe", "d\x80", "x\xc3"
	if runtime.GOOS == "windows" {
		extra, added, dir1, file1 = "b\xed\xa0\x80", "new\xed\xb0\x80", "d\xed\xa0\x81", "x\xed\xbf\xbf"
	}
	dir := t.TempDir()
	conf, src, dst := filepath.Join(dir, "conf"), filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tt.Dir{"b\ufffd": tt.File{Content: "utf8"}, added: tt.File{Content: "new"}, dir1 + "/" + file1: tt.File{Content: "deep"}})
	tt.Create(t, dst, tt.Dir{"b\ufffd": tt.File{Content: "old"}, extra: tt.File{Content: "extra"}})
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte("backup \"docs\" {\n  source = \"../src\"\n  destination = \"../dst\"\n  mode = \"mirror\"\n  max_delete = \"unlimited\"\n}\n"), 0o644)
	e, out, errb := testEnv("", false)
	if code := run([]string{"-chdir", conf, "plan", "-out", "p.plan"}, e); code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, errb)
	}
	for _, want := range []string{strconv.Quote(extra), strconv.Quote(added), strconv.Quote(dir1 + "/" + file1), "b\ufffd"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan output lacks %s:\n%s", want, out)
		}
	}
	b, _ := os.ReadFile(filepath.Join(conf, "p.plan"))
	if b64 := base64.StdEncoding.EncodeToString([]byte(extra)); !strings.Contains(string(b), `"path_b64": "`+b64+`"`) {
		t.Errorf("the saved plan has no path_b64 %s for %q:\n%s", b64, extra, b)
	}
	e, out, errb = testEnv("", false)
	if code := run([]string{"-chdir", conf, "apply", "p.plan"}, e); code != exitOK {
		t.Fatalf("apply: exit %d: %s\n%s", code, errb, out)
	}
	if strings.Contains(out.String(), "Skipped") {
		t.Errorf("apply skipped something:\n%s", out)
	}
	tt.Equal(t, src, dst, tt.Options{})
}

// Issue 13: a source file whose name holds CR and ANSI escapes cannot
// rewrite the plan lines above the prompt, and a newline in a name cannot
// add a line: every name is escaped and each change keeps its own line.
// Windows refuses C0 controls (CR, LF, ESC) in names; the names it does
// allow, C1 controls (U+009B is CSI, ESC [ in one character), line and
// paragraph separators and bidirectional overrides, are checked
// everywhere.
func TestPlanOutputEscapesControlCharacters(t *testing.T) {
	dir := t.TempDir()
	conf, src, dst := filepath.Join(dir, "conf"), filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	names := []string{"c1\u009b2K    + New File           1 B  harmless.txt", "nel\u0085line", "ls\u2028line", "evil\u202etxt.exe"}
	if runtime.GOOS != "windows" {
		names = append(names, "x\r\x1b[2K    + New File           1 B  harmless.txt", "two\nlines")
	}
	tree := tt.Dir{}
	for _, n := range names {
		tree[n] = tt.File{Content: "a"}
	}
	tt.Create(t, src, tree)
	tt.Create(t, dst, tt.Dir{"precious.db": tt.File{Content: "p"}})
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte("backup \"docs\" {\n  source = \"../src\"\n  destination = \"../dst\"\n  mode = \"mirror\"\n  max_delete = \"unlimited\"\n}\n"), 0o644)
	e, out, errb := testEnv("", false)
	if code := run([]string{"-chdir", conf, "plan"}, e); code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, errb)
	}
	o := out.String()
	if strings.ContainsAny(o, "\r\x1b\u009b\u0085\u2028\u202e") {
		t.Fatalf("a control character reached the terminal:\n%q", o)
	}
	want := []string{`- *EXTRA File        1 B  precious.db`}
	for _, n := range names {
		want = append(want, `+ New File           1 B  `+strconv.Quote(n))
	}
	for _, w := range want {
		if !strings.Contains(o, w) {
			t.Errorf("plan lacks %s:\n%s", w, o)
		}
	}
	if n := strings.Count(o, "\n   "); n < len(want) {
		t.Errorf("%d change lines, want %d:\n%s", n, len(want), o)
	}
}

// Issue 20: a set whose source is missing is shown as refused or failed,
// not as "noop (configuration unchanged)" above its refusal.
func TestPlanHeaderOfMissingSource(t *testing.T) {
	conf, _ := testConfig(t)
	e, _, errb := testEnv("", false)
	if code := run([]string{"-chdir", conf, "apply", "-auto-approve"}, e); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, errb)
	}
	os.RemoveAll(filepath.Join(filepath.Dir(conf), "src"))
	e, out, _ := testEnv("", false)
	if code := run([]string{"-chdir", conf, "plan"}, e); code != exitError {
		t.Fatalf("plan: exit %d", code)
	}
	if o := out.String(); !strings.Contains(o, "# docs: refused\n") || strings.Contains(o, "noop") {
		t.Errorf("header:\n%s", o)
	}
}

// Issue 13: robo verify and robo restore list names too, and restore lists
// them above its confirmation prompt: no name may reach the terminal raw.
func TestVerifyAndRestoreEscapeControlCharacters(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("its source holds CR, LF, ESC and a byte that is not UTF-8 in names, which Windows refuses (the escaping itself is the views' and safetext's, tested on every OS)")
	}
	dir := t.TempDir()
	conf, src, dst := filepath.Join(dir, "conf"), filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	forged := "x\r\x1b[2K  + harmless.txt"
	names := tt.Dir{forged: tt.File{Content: "a"}, "two\nlines": tt.File{Content: "b"}, "b\xff": tt.File{Content: "c"},
		"d\x1b[31m": tt.Dir{"in\u202eside": tt.File{Content: "d"}}}
	tt.Create(t, src, names)
	os.MkdirAll(conf, 0o755)
	os.WriteFile(filepath.Join(conf, "main.hcl"), []byte("backup \"docs\" {\n  source = \"../src\"\n  destination = \"../dst\"\n  mode = \"mirror\"\n  max_delete = \"unlimited\"\n}\n"), 0o644)
	if code, _, errb := runRobo(t, "", false, "-chdir", conf, "apply", "-auto-approve"); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, errb)
	}
	os.RemoveAll(src)
	os.MkdirAll(src, 0o755)
	raw := func(what, o string) {
		t.Helper()
		if strings.ContainsAny(o, "\r\x1b\xff\u202e") || strings.Contains(o, "two\nlines") {
			t.Errorf("%s: a control character reached the terminal:\n%q", what, o)
		}
	}
	_, out, errb := runRobo(t, "", false, "-chdir", conf, "verify", "docs")
	raw("verify", out+errb)
	if !strings.Contains(out, `"x\r\x1b[2K  + harmless.txt"`) || !strings.Contains(out, `"b\xff"`) {
		t.Errorf("verify does not name the files escaped:\n%s", out)
	}
	_, out, errb = runRobo(t, "no\n", true, "-chdir", conf, "restore", "docs")
	raw("restore", out+errb)
	if !strings.Contains(out, `+ "x\r\x1b[2K  + harmless.txt" (1 B)`) || !strings.Contains(out, `+ "d\x1b[31m/in\u202eside" (1 B)`) {
		t.Errorf("restore does not list the files escaped:\n%s", out)
	}
	_, out, errb = runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-auto-approve", "-path", "nope\x1b[31m")
	raw("restore -path", out+errb)
	if code, out, errb := runRobo(t, "", false, "-chdir", conf, "restore", "docs", "-auto-approve"); code != exitOK {
		t.Fatalf("restore: exit %d: %s %s", code, out, errb)
	} else {
		raw("restore -auto-approve", out+errb)
	}
	tt.Equal(t, dst, src, tt.Options{})
}
