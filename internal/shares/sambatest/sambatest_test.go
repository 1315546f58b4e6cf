package sambatest_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/shares/sambatest"
)

func TestStartKillRestart(t *testing.T) {
	s := sambatest.Start(t)
	up := func() bool {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	if !up() {
		t.Fatal("not listening after Start")
	}
	conf, err := os.ReadFile(filepath.Join(s.Base, "smb.conf"))
	if err != nil || strings.Contains(string(conf), s.Password) {
		t.Fatalf("smb.conf: %v (or it holds a password)", err)
	}
	s.Kill()
	if up() {
		t.Fatal("still listening after Kill")
	}
	s.Restart()
	if !up() {
		t.Fatal("not listening after Restart")
	}
	s.Stop()
	if up() {
		t.Fatal("still listening after Stop")
	}
}
