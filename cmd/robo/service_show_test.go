package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Issue 20: robo service show (robo service install -print) prints the
// definition install would install and installs nothing.
func TestServiceShowPrintsWithoutInstalling(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the systemd unit is Linux's")
	}
	conf, _ := testConfig(t)
	unit := "/etc/systemd/system/robo-show-test.service"
	if _, err := os.Stat(unit); err == nil {
		t.Skipf("%s exists", unit)
	}
	for _, args := range [][]string{
		{"-chdir", conf, "service", "show", "-name", "robo-show-test", "-user", "backup"},
		{"-chdir", conf, "service", "install", "-print", "-name", "robo-show-test", "-user", "backup"},
	} {
		var out, errb bytes.Buffer
		cmd := exec.Command("robo", args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("robo %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		abs, _ := filepath.Abs(conf)
		for _, want := range []string{"[Unit]\n", `"-chdir" "` + abs + `" "service" "run" "-name" "robo-show-test"`, "\nUser=backup\n", "WantedBy=multi-user.target\n"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("robo %s: the unit lacks %q:\n%s", strings.Join(args, " "), want, out.String())
			}
		}
		if !strings.HasPrefix(out.String(), "[Unit]\n") {
			t.Errorf("stdout is not the unit file alone:\n%s", out.String())
		}
		if !strings.Contains(errb.String(), "would write to "+unit+" (nothing was installed)") {
			t.Errorf("stderr: %s", errb.String())
		}
		if _, err := os.Stat(unit); err == nil {
			os.Remove(unit)
			t.Fatalf("%s was installed", unit)
		}
	}
}
