package main

import (
	"fmt"
	"path"
)

// serviceGroup is robo service's subcommands.
func serviceGroup() group {
	control := func(action string) func(e *env, args []string) error {
		return func(e *env, args []string) error { return serviceControl(e, action, args) }
	}
	return group{name: "service", more: "See docs/watch.md.", subs: []subcommand{
		{"install", "[-print] [-name NAME] [-user ACCOUNT]", "install robo watch of this configuration as a system service (-print: only show it)", serviceInstall, false},
		{"show", "[-name NAME] [-user ACCOUNT]", "print the unit, plist or service definition install would install (install -print)", serviceShow, false},
		{"uninstall", "[-name NAME]", "remove the service", control("uninstall"), false},
		{"start", "[-name NAME]", "start the service", control("start"), false},
		{"stop", "[-name NAME]", "stop the service (robo watch stops its copies at a file boundary)", control("stop"), false},
		{"restart", "[-name NAME]", "restart the service", control("restart"), false},
		{"status", "[-name NAME]", "print the service manager's view and robo watch's status", serviceStatus, false},
		{"run", "", "what the service manager runs", serviceRun, true},
	}}
}

// serviceShow is robo service show: robo service install -print.
func serviceShow(e *env, args []string) error {
	return serviceInstall(e, append([]string{"-print"}, args...))
}

// printServiceDefinition prints on stdout what robo service install would
// install for o, byte for byte the file on Linux and macOS, so that it can
// be reviewed or installed by a configuration manager; where it would go is
// said on stderr. Nothing is installed and no password is read.
func printServiceDefinition(e *env, o serviceOptions) error {
	c := serviceConfig(o)
	switch o.goos {
	case "windows":
		fmt.Fprintf(e.stderr, "robo: the Windows service robo service install would create (nothing was installed):\n")
		e.printf("%s", renderWindows(c))
	case "darwin":
		fmt.Fprintf(e.stderr, "robo: the launchd job robo service install would write to %s (nothing was installed):\n",
			path.Join("/Library/LaunchDaemons", o.name+".plist"))
		e.printf("%s", c.Option["LaunchdConfig"].(string))
	default:
		fmt.Fprintf(e.stderr, "robo: the systemd unit robo service install would write to %s (nothing was installed):\n",
			path.Join("/etc/systemd/system", o.name+".service"))
		e.printf("%s", c.Option["SystemdScript"].(string))
	}
	return nil
}
