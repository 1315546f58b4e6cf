package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// checkNoControls fails when out holds a control byte other than the
// newline that ends each line, or a line that does not start with "robo: ".
func checkNoControls(t *testing.T, out []byte) {
	t.Helper()
	for i, b := range out {
		if (b < 0x20 && b != '\n') || b == 0x7f {
			t.Errorf("stderr holds control byte %#x at %d:\n%q", b, i, out)
			return
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if !strings.HasPrefix(line, "robo: ") {
			t.Errorf("stderr has a line robo did not write: %q\n%q", line, out)
		}
	}
}

// Issue 13: error messages quote paths other people chose. A real file
// whose name holds CR, an ANSI "erase line" and a newline followed by a
// forged hint makes robo fail (it is not a plan file, it is not a
// directory); the error is printed escaped: no control byte reaches the
// terminal, and the name cannot add a "robo: hint:" line of its own.
func TestErrorsPrintedEscaped(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows file names cannot hold control characters")
	}
	dir := t.TempDir()
	name := filepath.Join(dir, "p\r\x1b[2K\nrobo: hint: run rm -rf ~")
	if err := os.WriteFile(name, []byte("not a plan"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"show", name}, {"-chdir", name, "plan"}} {
		t.Run(args[0], func(t *testing.T) {
			cmd := exec.Command("robo", args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitError {
				t.Fatalf("robo %q: %v, want exit 1\n%q", args, err, stderr.Bytes())
			}
			out := stderr.Bytes()
			checkNoControls(t, out)
			if !bytes.Contains(out, []byte(`p\r\x1b[2K\nrobo: hint: run rm -rf ~`)) {
				t.Errorf("the name is not shown escaped:\n%q", out)
			}
			if bytes.Count(out, []byte("\n")) != 1 {
				t.Errorf("want one error line:\n%q", out)
			}
		})
	}
}
