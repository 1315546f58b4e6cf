package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

// Each install failure gets the hint that fits it: "already exists" is not
// a matter of administrator rights (issue 14, bug 4).
func TestServiceInstallHints(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
		not  string
	}{
		{errors.New("service robo already exists"), "robo service uninstall -name robo", "administrator"},
		{&fs.PathError{Op: "open", Path: "/etc/systemd/system/robo.service", Err: fs.ErrPermission}, "administrator rights", "uninstall"},
		{fmt.Errorf("connect: %w", fs.ErrPermission), "administrator rights", "uninstall"},
		{errors.New("The parameter is incorrect."), "", "administrator"},
	} {
		got := installError("robo", "test", tc.err).Error() // the message and its hints
		if (tc.want != "" && !strings.Contains(got, tc.want)) || strings.Contains(got, tc.not) {
			t.Errorf("%v:\n%s", tc.err, got)
		}
	}
	if !delayedStartRefused("windows", fmt.Errorf("create: %w", syscall.Errno(errInvalidLevel))) || delayedStartRefused("linux", syscall.Errno(errInvalidLevel)) {
		t.Error("delayedStartRefused")
	}
}
