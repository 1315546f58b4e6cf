// Command fakerobocopy stands in for robocopy.exe under Wine (whose
// robocopy.exe is a stub that exits 16). .ci/wine/run puts it first in
// WINEPATH, so robo's robocopy engine starts it with the exact command line
// it would give the real robocopy. It parses that line back with
// CommandLineToArgvW (the rules robocopy's C runtime applies), appends
// {"raw": ..., "argv": [...]} as one JSON line to the file named by
// FAKE_ROBOCOPY_LOG, writes a robocopy-style summary with nothing to do (to
// /UNILOG: as UTF-16 when asked) and exits FAKE_ROBOCOPY_RC (default 0).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf16"
	"unsafe"
)

func main() {
	line := syscall.GetCommandLine()
	raw := utf16z(line)
	var n int32
	argvp, err := syscall.CommandLineToArgv(line, &n)
	if err != nil {
		fail("CommandLineToArgvW: %v", err)
	}
	argv := make([]string, n)
	for i := range argv {
		argv[i] = syscall.UTF16ToString((*argvp[i])[:])
	}
	syscall.LocalFree(syscall.Handle(uintptr(unsafe.Pointer(argvp))))
	rec, _ := json.Marshal(map[string]any{"raw": raw, "argv": argv[1:]})
	if path := os.Getenv("FAKE_ROBOCOPY_LOG"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			fail("%v", err)
		}
		f.Write(append(rec, '\n'))
		f.Close()
	}
	if len(argv) < 3 {
		fail("usage: robocopy SOURCE DESTINATION [OPTIONS]")
	}
	src, dst, unilog := argv[1], argv[2], ""
	for _, a := range argv[3:] {
		if strings.HasPrefix(strings.ToUpper(a), "/UNILOG:") {
			unilog = a[len("/UNILOG:"):]
		}
	}
	out := summary(src, dst, argv[3:])
	fmt.Print(out)
	if unilog != "" {
		w := utf16.Encode([]rune("\ufeff" + out))
		b := make([]byte, 2*len(w))
		for i, c := range w {
			b[2*i], b[2*i+1] = byte(c), byte(c>>8)
		}
		if err := os.WriteFile(unilog, b, 0o644); err != nil {
			fail("%v", err)
		}
	}
	rc, _ := strconv.Atoi(os.Getenv("FAKE_ROBOCOPY_RC"))
	os.Exit(rc)
}

// summary is robocopy's output for a run that found nothing to do.
func summary(src, dst string, opts []string) string {
	dash := strings.Repeat("-", 79)
	dir := func(s string) string { return strings.TrimRight(s, `\`) + `\` }
	return strings.Join([]string{
		"", dash,
		"   ROBOCOPY     ::     Robust File Copy for Windows",
		dash, "",
		"  Started : Monday, January 5, 2026 10:00:00 AM",
		"   Source : " + dir(src),
		"     Dest : " + dir(dst), "",
		"    Files : *.*", "",
		"  Options : *.* " + strings.Join(opts, " "), "",
		dash[1:], "",
		"\t                   0\t" + dir(src), "",
		dash[1:], "",
		"               Total    Copied   Skipped  Mismatch    FAILED    Extras",
		"    Dirs :         1         0         1         0         0         0",
		"   Files :         0         0         0         0         0         0",
		"   Bytes :         0         0         0         0         0         0",
		"   Times :   0:00:00   0:00:00                       0:00:00   0:00:00",
		"   Ended : Monday, January 5, 2026 10:00:00 AM", "",
	}, "\r\n")
}

func utf16z(p *uint16) string {
	var u []uint16
	for ; *p != 0; p = (*uint16)(unsafe.Add(unsafe.Pointer(p), 2)) {
		u = append(u, *p)
	}
	return string(utf16.Decode(u))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fake robocopy: "+format+"\n", args...)
	os.Exit(16)
}
