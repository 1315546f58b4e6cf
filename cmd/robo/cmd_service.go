package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/kardianos/service"

	"github.com/robo-backup/robo/schema"
)

// serviceStopBound is how long a service stop waits for robo watch to stop
// its copies at a file boundary and write the state. It stays below the
// Windows service manager's default wait (20 s) and the stop timeouts of the
// systemd unit and the launchd job.
const serviceStopBound = 15 * time.Second

func runService(e *env, args []string) error {
	return serviceGroup().run(e, args)
}

// serviceOptions is what robo service install is told.
type serviceOptions struct {
	name     string // service name (robo)
	dir      string // absolute configuration directory
	exe      string // absolute path of the robo executable
	user     string // account; "" is LocalSystem on Windows, root elsewhere
	password string // the account's password (Windows only)
	goos     string
}

// arguments are what the service manager passes to robo.
func (o serviceOptions) arguments() []string {
	args := []string{"-chdir", o.dir, "service", "run"}
	if o.name != "robo" {
		args = append(args, "-name", o.name)
	}
	return args
}

// serviceConfig is the kardianos configuration for o. On Linux and macOS
// robo renders the unit and the plist itself (SystemdScript, LaunchdConfig)
// so that their text is robo's and golden-tested.
func serviceConfig(o serviceOptions) *service.Config {
	c := &service.Config{
		Name:        o.name,
		DisplayName: "robo backup (" + o.name + ")",
		Description: "robo watch: runs the backup sets of " + o.dir + " on their schedules and when their sources change.",
		Executable:  o.exe,
		Arguments:   o.arguments(),
		UserName:    o.user,
		Option:      service.KeyValue{},
	}
	switch o.goos {
	case "windows":
		c.Option["StartType"] = "automatic"
		c.Option["DelayedAutoStart"] = true
		c.Option["OnFailure"] = "restart"
		c.Option["OnFailureDelayDuration"] = "1m"
		c.Option["OnFailureResetPeriod"] = 86400
		if o.password != "" {
			c.Option["Password"] = o.password
		}
	case "darwin":
		c.WorkingDirectory = o.dir
		c.Option["LaunchdConfig"] = renderLaunchd(o)
		c.Option["KeepAlive"] = true
		c.Option["RunAtLoad"] = true
	default:
		c.WorkingDirectory = o.dir
		c.Option["SystemdScript"] = renderSystemd(o)
		c.Option["Restart"] = "on-failure"
	}
	return c
}

// renderSystemd is the systemd unit robo installs.
func renderSystemd(o serviceOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[Unit]\nDescription=robo backup reconciler (%s)\n", o.name)
	b.WriteString("Documentation=https://github.com/robo-backup/robo/blob/main/docs/watch.md\n")
	b.WriteString("Wants=network-online.target\nAfter=network-online.target remote-fs.target\n\n")
	b.WriteString("[Service]\nType=simple\n")
	exec := []string{o.exe}
	exec = append(exec, o.arguments()...)
	for i, a := range exec {
		exec[i] = systemdQuote(a)
	}
	fmt.Fprintf(&b, "ExecStart=%s\n", strings.Join(exec, " "))
	// WorkingDirectory is a plain path: only specifiers (%) are expanded.
	fmt.Fprintf(&b, "WorkingDirectory=%s\n", strings.ReplaceAll(o.dir, "%", "%%"))
	if o.user != "" {
		fmt.Fprintf(&b, "User=%s\n", o.user)
	}
	b.WriteString("Restart=on-failure\nRestartSec=60\n")
	// robo stops its copies at a file boundary within serviceStopBound.
	fmt.Fprintf(&b, "KillSignal=SIGTERM\nTimeoutStopSec=%d\n", int((serviceStopBound + 15*time.Second).Seconds()))
	b.WriteString("\n[Install]\nWantedBy=multi-user.target\n")
	return b.String()
}

// systemdQuote quotes one ExecStart word: double quotes, with backslash,
// double quote, percent (specifier) and dollar (variable) escaped.
func systemdQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `%`, `%%`, `$`, `$$`)
	return `"` + r.Replace(s) + `"`
}

// renderLaunchd is the launchd job robo installs (a LaunchDaemon).
func renderLaunchd(o serviceOptions) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + esc.Replace(o.name) + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, a := range append([]string{o.exe}, o.arguments()...) {
		fmt.Fprintf(&b, "\t\t<string>%s</string>\n", esc.Replace(a))
	}
	b.WriteString("\t</array>\n")
	fmt.Fprintf(&b, "\t<key>WorkingDirectory</key>\n\t<string>%s</string>\n", esc.Replace(o.dir))
	if o.user != "" {
		fmt.Fprintf(&b, "\t<key>UserName</key>\n\t<string>%s</string>\n", esc.Replace(o.user))
	}
	b.WriteString("\t<key>RunAtLoad</key>\n\t<true/>\n")
	// Restart on failure only: a clean exit (robo service stop) stays down.
	b.WriteString("\t<key>KeepAlive</key>\n\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>\n")
	fmt.Fprintf(&b, "\t<key>ExitTimeOut</key>\n\t<integer>%d</integer>\n", int((serviceStopBound + 15*time.Second).Seconds()))
	fmt.Fprintf(&b, "\t<key>StandardErrorPath</key>\n\t<string>/var/log/%s.log</string>\n", esc.Replace(o.name))
	b.WriteString("</dict>\n</plist>\n")
	return b.String()
}

// renderWindows describes the Windows service robo installs: kardianos
// hands these values to the service control manager, which has no text
// form to compare.
func renderWindows(c *service.Config) string {
	var b strings.Builder
	args := []string{winQuote(c.Executable)}
	for _, a := range c.Arguments {
		args = append(args, winQuote(a))
	}
	account := c.UserName
	if account == "" {
		account = "LocalSystem"
	}
	fmt.Fprintf(&b, "Name:         %s\nDisplay name: %s\nDescription:  %s\nCommand line: %s\nAccount:      %s\n",
		c.Name, c.DisplayName, c.Description, strings.Join(args, " "), account)
	keys := make([]string, 0, len(c.Option))
	for k := range c.Option {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := c.Option[k]
		if k == "Password" {
			v = "(from -password-file)"
		}
		fmt.Fprintf(&b, "Option %s = %v\n", k, v)
	}
	return b.String()
}

// winQuote quotes a command-line word the way Windows programs parse it.
func winQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for _, r := range s {
		switch r {
		case '\\':
			slashes++
			continue
		case '"':
			b.WriteString(strings.Repeat(`\`, 2*slashes+1))
		default:
			b.WriteString(strings.Repeat(`\`, slashes))
		}
		slashes = 0
		b.WriteRune(r)
	}
	b.WriteString(strings.Repeat(`\`, 2*slashes))
	b.WriteByte('"')
	return b.String()
}

func serviceInstall(e *env, args []string) error {
	fs := newFlags(e, "service install", "service install [-print] [-name NAME] [-chdir DIR] [-user ACCOUNT] [-password-file FILE]")
	printOnly := fs.Bool("print", false, "print the systemd unit, launchd plist or Windows service definition install would install, and install nothing")
	name := fs.String("name", "robo", "service name (one service per configuration directory)")
	dir := fs.String("chdir", "", "configuration directory the service watches (default: robo's -chdir, or the current directory)")
	user := fs.String("user", "", "account the service runs as (default: LocalSystem on Windows, root elsewhere)")
	pwFile := fs.String("password-file", "", "file holding the account's password (Windows)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs, "service install", "name the configuration directory with -chdir DIR"); err != nil {
		return err
	}
	if *dir != "" {
		e.dir = *dir
	}
	abs, err := filepath.Abs(e.dir)
	if err != nil {
		return fatalf("%v", err)
	}
	e.dir = abs
	// Refuse to install a service that could not start.
	cfg, err := loadConfig(e, varFlags{})
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return fatalf("cannot find robo's executable: %v", err)
	}
	o := serviceOptions{name: *name, dir: abs, exe: exe, user: *user, goos: runtime.GOOS}
	if *printOnly {
		return printServiceDefinition(e, o)
	}
	if *pwFile != "" {
		b, err := os.ReadFile(*pwFile)
		if err != nil {
			return fatalf("-password-file: %v", err)
		}
		o.password = strings.TrimRight(string(b), "\r\n")
	}
	conf := serviceConfig(o)
	s, err := service.New(&program{}, conf)
	if err != nil {
		return fatalf("%v", err)
	}
	err = s.Install()
	delayRefused := err != nil && delayedStartRefused(o.goos, err)
	if delayRefused {
		// Some Windows editions (and Wine) refuse delayed automatic start;
		// the service manager removed the half-made service: install it
		// again with plain automatic start.
		conf.Option["DelayedAutoStart"] = false
		if s, err = service.New(&program{}, conf); err != nil {
			return fatalf("%v", err)
		}
		err = s.Install()
	}
	if err != nil {
		return installError(o.name, s.Platform(), err)
	}
	e.startAudit(cfg)
	e.record("service.installed", map[string]string{"name": o.name, "platform": s.Platform(), "user": o.user, "dir": abs})
	e.printf("Installed the service %s (%s): it runs %s %s\nStart it with: robo service start", o.name, s.Platform(), exe, strings.Join(o.arguments(), " "))
	if o.name != "robo" {
		e.printf(" -name %s", o.name)
	}
	e.printf("\n")
	if delayRefused {
		e.printf("Note: this Windows refused delayed automatic start (%v); the service starts automatically at boot, without the delay.\n", syscall.Errno(errInvalidLevel))
	}
	return nil
}

// errInvalidLevel is ERROR_INVALID_LEVEL, what ChangeServiceConfig2 answers
// where SERVICE_CONFIG_DELAYED_AUTO_START_INFO is not supported.
const errInvalidLevel = 124

// delayedStartRefused reports whether a Windows install failed because the
// service manager refused delayed automatic start.
func delayedStartRefused(goos string, err error) bool {
	return goos == "windows" && errors.Is(err, syscall.Errno(errInvalidLevel))
}

// installError is a failed install with the hint that fits the cause.
func installError(name, platform string, err error) error {
	f := fatalf("install the service %s (%s): %v", name, platform, err)
	switch {
	case strings.Contains(err.Error(), "already exists"):
		return f.hint(fmt.Sprintf("a service named %s is installed already: remove it first (robo service uninstall -name %s) or choose another -name", name, name))
	case errors.Is(err, fs.ErrPermission):
		return f.hint("installing a service needs administrator rights (an elevated prompt on Windows, root elsewhere)")
	}
	return f
}

func nameFlag(e *env, sub string, args []string) (string, error) {
	fs := newFlags(e, "service "+sub, "service "+sub+" [-name NAME]")
	name := fs.String("name", "robo", "service name")
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	return *name, noArgs(fs, "service "+sub, "name the service with -name NAME")
}

func serviceControl(e *env, action string, args []string) error {
	name, err := nameFlag(e, action, args)
	if err != nil {
		return err
	}
	s, err := service.New(&program{}, &service.Config{Name: name})
	if err != nil {
		return fatalf("%v", err)
	}
	if err := service.Control(s, action); err != nil {
		return fatalf("%s the service %s (%s): %v", action, name, s.Platform(), err)
	}
	if action == "uninstall" {
		// Audited in the configuration of the directory robo runs in, when
		// there is one (robo -chdir DIR service uninstall).
		if cfg, diags := schema.Load(e.dir, schemaOptions(e, nil)); !diags.HasErrors() {
			e.startAudit(cfg)
			e.record("service.removed", map[string]string{"name": name, "platform": s.Platform()})
		}
	}
	e.printf("robo service %s: done (%s, %s)\n", action, name, s.Platform())
	return nil
}

// serviceStatus prints the service manager's view, then robo watch's own
// status when the configuration can be read. The exit code is 0 only when
// the service runs.
func serviceStatus(e *env, args []string) error {
	name, err := nameFlag(e, "status", args)
	if err != nil {
		return err
	}
	s, err := service.New(&program{}, &service.Config{Name: name})
	if err != nil {
		return fatalf("%v", err)
	}
	st, err := s.Status()
	word := map[service.Status]string{service.StatusRunning: "running", service.StatusStopped: "stopped"}[st]
	switch {
	case err == service.ErrNotInstalled:
		word = "not installed"
	case word == "" && err != nil:
		word = "unknown (" + err.Error() + ")"
	case word == "":
		word = "unknown"
	}
	e.printf("Service %s (%s): %s\n", name, s.Platform(), word)
	// robo watch's status file is beside the state of this configuration.
	null := *e
	null.stderr = ioDiscard{}
	if cfg, err := loadConfig(&null, varFlags{}); err == nil {
		if store, err := openStore(cfg); err == nil {
			writeWatchStatus(e.stdout, store)
		}
	}
	if st != service.StatusRunning {
		return exitErr(exitError)
	}
	return nil
}

type ioDiscard struct{}

func (ioDiscard) Write(b []byte) (int, error) { return len(b), nil }

// program is robo watch under a service manager: Start returns at once,
// Stop cancels the loop and waits for it, at most bound.
type program struct {
	run   func(ctx context.Context) error
	bound time.Duration
	log   hclog.Logger
	// exit ends the process when the loop stops by itself, so that the
	// service manager sees a failure and restarts robo.
	exit func(code int)

	cancel   context.CancelFunc
	done     chan struct{}
	err      error
	stopping atomic.Bool
}

var _ service.Interface = (*program)(nil)

// Start implements service.Interface.
func (p *program) Start(s service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		err := p.run(ctx)
		p.err = err
		close(p.done)
		if !p.stopping.Load() {
			p.log.Error("robo watch ended without a stop request; exiting with a failure so that the service manager restarts it", "error", err)
			p.exit(1)
		}
	}()
	return nil
}

// Stop implements service.Interface.
func (p *program) Stop(s service.Service) error {
	if p.cancel == nil {
		return nil
	}
	p.stopping.Store(true)
	p.cancel()
	select {
	case <-p.done:
		if p.err != nil {
			p.log.Error("robo watch stopped with an error", "error", p.err)
		}
		return p.err
	case <-time.After(p.bound):
		p.log.Error("robo watch did not stop in time", "bound", p.bound)
		return fmt.Errorf("robo watch did not stop within %s", p.bound)
	}
}

// serviceRun is what the service manager starts: the watch loop under
// service.Run, logging to the Windows event log when run by the service
// control manager, to stderr (the journal, launchd's log file) elsewhere.
func serviceRun(e *env, args []string) error {
	fs := newFlags(e, "service run", "service run [-name NAME] [-log-level LEVEL]")
	name := fs.String("name", "robo", "service name")
	level := fs.String("log-level", "", "log level: trace, debug, info, warn or error (default: robo's -log-level, else info)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs, "service run"); err != nil {
		return err
	}
	// service.Interactive is reliable on Windows only (FINDINGS §4.5): there
	// robo service run outside the service control manager would run the
	// watch loop as a plain program that no stop request reaches.
	if runtime.GOOS == "windows" && service.Interactive() {
		start := "robo service start"
		if *name != "robo" {
			start += " -name " + *name
		}
		return fatalf("robo service run is for the Windows service manager, and it did not start this process").
			hint("start the installed service with: " + start).
			hint("to run the schedules in this console instead: robo watch")
	}
	log, err := e.logger(*level)
	if err != nil {
		return err
	}
	prg := &program{bound: serviceStopBound, log: log, exit: os.Exit}
	prg.run = func(ctx context.Context) error {
		return watchLoop(ctx, e, watchParams{vars: varFlags{}, log: log, service: true})
	}
	s, err := service.New(prg, &service.Config{Name: *name})
	if err != nil {
		return fatalf("%v", err)
	}
	// service.Interactive is reliable on Windows only (FINDINGS §4.5).
	if runtime.GOOS == "windows" && !service.Interactive() {
		if sl, err := s.Logger(nil); err == nil {
			log.RegisterSink(newServiceSink(sl, log.GetLevel()))
		}
	}
	if err := s.Run(); err != nil {
		return fatalf("%v", err)
	}
	return nil
}

// serviceSink copies log lines to a service logger (the Windows event log):
// errors as errors, warnings as warnings, the rest (run outcomes) as
// information.
type serviceSink struct {
	l     service.Logger
	level hclog.Level
}

// Accept implements hclog.SinkAdapter.
func (s *serviceSink) Accept(name string, level hclog.Level, msg string, args ...any) {
	if level < s.level || level < hclog.Info {
		return
	}
	var b strings.Builder
	b.WriteString(msg)
	for i := 0; i+1 < len(args); i += 2 {
		fmt.Fprintf(&b, " %v=%v", args[i], args[i+1])
	}
	switch {
	case level >= hclog.Error:
		s.l.Error(b.String())
	case level == hclog.Warn:
		s.l.Warning(b.String())
	default:
		s.l.Info(b.String())
	}
}
