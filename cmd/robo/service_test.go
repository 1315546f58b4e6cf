package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/kardianos/service"
)

var updateGolden = flag.Bool("update-service", false, "rewrite testdata/service golden files")

// The unit, plist and Windows service definition robo installs, for a
// fixed executable and configuration directory.
func TestServiceDefinitionsGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		o    serviceOptions
		text func(o serviceOptions) string
	}{
		{"systemd.service", serviceOptions{name: "robo", dir: "/etc/robo", exe: "/usr/local/bin/robo", goos: "linux"},
			func(o serviceOptions) string { return serviceConfig(o).Option["SystemdScript"].(string) }},
		{"systemd-user-spaces.service", serviceOptions{name: "robo-nas", dir: "/srv/robo conf/100% $HOME", exe: "/opt/robo/bin/robo", user: "backup", goos: "linux"},
			func(o serviceOptions) string { return serviceConfig(o).Option["SystemdScript"].(string) }},
		{"launchd.plist", serviceOptions{name: "robo", dir: "/Library/Application Support/robo", exe: "/usr/local/bin/robo", goos: "darwin"},
			func(o serviceOptions) string { return serviceConfig(o).Option["LaunchdConfig"].(string) }},
		{"windows.txt", serviceOptions{name: "robo", dir: `C:\ProgramData\robo`, exe: `C:\Program Files\robo\robo.exe`, goos: "windows"},
			func(o serviceOptions) string { return renderWindows(serviceConfig(o)) }},
		{"windows-account.txt", serviceOptions{name: "robo", dir: `C:\ProgramData\robo`, exe: `C:\Program Files\robo\robo.exe`, user: `CORP\svc-backup`, password: "secret", goos: "windows"},
			func(o serviceOptions) string { return renderWindows(serviceConfig(o)) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := tc.text(tc.o)
			path := filepath.Join("testdata", "service", tc.file)
			if *updateGolden {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestServiceDefinitionsGolden -update-service)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", tc.file, got, want)
			}
			if strings.Contains(got, "secret") {
				t.Error("the password is in the definition")
			}
			// kardianos renders the text through its template engine: robo's
			// text has no template actions, so it is written as it is.
			if strings.Contains(got, "{{") {
				t.Error("template action in the rendered text")
			}
		})
	}
}

func TestServiceConfigRestartsOnFailure(t *testing.T) {
	w := serviceConfig(serviceOptions{name: "robo", dir: "C:/r", exe: "robo.exe", goos: "windows"})
	if w.Option["OnFailure"] != "restart" || w.UserName != "" {
		t.Errorf("windows options %v, user %q", w.Option, w.UserName)
	}
	l := serviceConfig(serviceOptions{name: "robo", dir: "/etc/robo", exe: "/usr/bin/robo", goos: "linux"})
	if l.Option["Restart"] != "on-failure" || !strings.Contains(l.Option["SystemdScript"].(string), "Restart=on-failure") {
		t.Errorf("linux options %v", l.Option)
	}
	if got := strings.Join(l.Arguments, " "); got != "-chdir /etc/robo service run" {
		t.Errorf("arguments %q", got)
	}
}

type nullService struct{ service.Service }

// The program's lifecycle run directly: Start returns at once and the loop
// runs; Stop cancels it and waits, within the bound.
func TestProgramStartStop(t *testing.T) {
	running := make(chan struct{})
	p := &program{bound: 2 * time.Second, log: hclog.NewNullLogger(), exit: func(int) { t.Error("exit called on a requested stop") }}
	p.run = func(ctx context.Context) error {
		close(running)
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // the state is being written
		return nil
	}
	start := time.Now()
	if err := p.Start(nullService{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Start took %s", d)
	}
	<-running
	if err := p.Stop(nullService{}); err != nil {
		t.Fatal(err)
	}

	// A loop that does not stop in time: Stop reports it after the bound.
	p2 := &program{bound: 100 * time.Millisecond, log: hclog.NewNullLogger(), exit: func(int) {}}
	hang := make(chan struct{})
	defer close(hang)
	p2.run = func(ctx context.Context) error { <-hang; return nil }
	p2.Start(nullService{})
	if err := p2.Stop(nullService{}); err == nil || !strings.Contains(err.Error(), "did not stop within") {
		t.Errorf("Stop of a hung loop: %v", err)
	}

	// A loop that ends by itself exits with a failure (the manager restarts).
	var mu sync.Mutex
	code := -1
	exited := make(chan struct{})
	p3 := &program{bound: time.Second, log: hclog.NewNullLogger(), exit: func(c int) { mu.Lock(); code = c; mu.Unlock(); close(exited) }}
	p3.run = func(ctx context.Context) error { return errors.New("locked") }
	p3.Start(nullService{})
	<-exited
	mu.Lock()
	defer mu.Unlock()
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
}

type fakeServiceLogger struct{ lines []string }

func (f *fakeServiceLogger) Error(v ...any) error {
	f.lines = append(f.lines, "E "+fmt.Sprint(v...))
	return nil
}
func (f *fakeServiceLogger) Warning(v ...any) error {
	f.lines = append(f.lines, "W "+fmt.Sprint(v...))
	return nil
}
func (f *fakeServiceLogger) Info(v ...any) error {
	f.lines = append(f.lines, "I "+fmt.Sprint(v...))
	return nil
}
func (f *fakeServiceLogger) Errorf(s string, v ...any) error {
	return f.Error(fmt.Sprintf(s, v...))
}
func (f *fakeServiceLogger) Warningf(s string, v ...any) error {
	return f.Warning(fmt.Sprintf(s, v...))
}
func (f *fakeServiceLogger) Infof(s string, v ...any) error { return f.Info(fmt.Sprintf(s, v...)) }

// On Windows the log goes to the event log through the service logger.
func TestServiceSinkForwardsOutcomesAndErrors(t *testing.T) {
	var out strings.Builder
	log, _ := newWatchLogger(&out, "info")
	f := &fakeServiceLogger{}
	log.RegisterSink(&serviceSink{l: f, level: hclog.Info})
	log.Debug("noise")
	log.Info("run finished", "set", "docs", "outcome", "success")
	log.Warn("budget")
	log.Error("run finished", "set", "x", "outcome", "failed")
	want := []string{"I run finished set=docs outcome=success", "W budget", "E run finished set=x outcome=failed"}
	if fmt.Sprint(f.lines) != fmt.Sprint(want) {
		t.Errorf("event log lines %q, want %q", f.lines, want)
	}
}

// What the service manager runs, under SIGTERM (as systemd and the System V
// scripts stop it): exit 0, and the watch ran.
func TestServiceRunBinarySIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM")
	}
	conf, src, dst := writeWatchConfig(t, t.TempDir(), "")
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &watchProc{done: make(chan error, 1)}
	p.cmd = exec.Command("robo", "-chdir", conf, "service", "run")
	p.cmd.Stderr, p.cmd.Stdout = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	poll(t, "the service to converge", 20*time.Second, func() bool { return treesEqual(src, dst) })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("robo service run after SIGTERM: %v\n%s", err, p.log())
		}
	case <-time.After(3 * stopBound):
		t.Fatalf("robo service run did not stop\n%s", p.log())
	}
	if !strings.Contains(p.log(), "stopped") {
		t.Errorf("log not flushed:\n%s", p.log())
	}
}
