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
	for end := time.Now().Add(10 * time.Second); up(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("still listening 10 s after Kill")
		}
	}
	s.Restart()
	if !up() {
		t.Fatal("not listening after Restart")
	}
	s.Stop()
	// smbd's children may hold the socket for a moment after it exits.
	for end := time.Now().Add(10 * time.Second); up(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("still listening 10 s after Stop")
		}
	}
}
