//go:build windows

package hooks

import (
	"path/filepath"
	"strings"
	"syscall"
)

// cmdExeLine returns the command line robo gives cmd.exe for a hook written
// as ["cmd", SWITCHES..., "/c" or "/k", COMMAND...], and false for any other
// argv.
//
// cmd.exe does not parse its command line with the C runtime's rules that Go
// quotes arguments for: the command after /c is taken as it is written.
// Go's quoting (backslash before each quote, quotes around the whole) would
// reach cmd as `echo \"a b\"`. So the elements after /c are joined with
// spaces and passed verbatim, wrapped in one pair of quotes that /s tells
// cmd to strip (and nothing else): `cmd /s /c "COMMAND"`. Quote inside
// COMMAND as at a cmd prompt.
func cmdExeLine(argv []string) (string, bool) {
	if len(argv) < 3 || !isCmdExe(argv[0]) {
		return "", false
	}
	hasS := false
	for i, a := range argv[1:] {
		sw := strings.ToLower(a)
		if !strings.HasPrefix(sw, "/") {
			return "", false // an argument before /c: not the form robo rewrites
		}
		if sw == "/s" {
			hasS = true
		}
		if sw != "/c" && sw != "/k" {
			continue
		}
		rest := argv[i+2:]
		if len(rest) == 0 {
			return "", false
		}
		words := []string{syscall.EscapeArg(argv[0])}
		words = append(words, argv[1:i+1]...)
		if !hasS {
			words = append(words, "/s")
		}
		words = append(words, a, `"`+strings.Join(rest, " ")+`"`)
		return strings.Join(words, " "), true
	}
	return "", false
}

// isCmdExe reports whether program names cmd.exe ("cmd", "CMD.EXE",
// `C:\Windows\System32\cmd.exe`).
func isCmdExe(program string) bool {
	base := strings.ToLower(filepath.Base(strings.ReplaceAll(program, `\`, "/")))
	return base == "cmd" || base == "cmd.exe"
}
