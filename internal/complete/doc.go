// Package complete owns robo's shell completion: the algorithm that turns
// the words typed so far into candidates (Complete), the thin scripts that
// bash, zsh, fish and PowerShell source to ask robo for them (Script), and
// the idempotent edit of a shell's startup file that installs or removes
// them (Install, Uninstall).
//
// It knows nothing of robo's commands: cmd/robo describes them as a Command
// tree built from the flag sets the commands themselves parse with, so
// completion cannot drift from the real options, and supplies the values of
// the dynamic kinds (set names, state entries) from the configuration.
//
// The protocol between a script and robo: the script runs
//
//	robo completion __complete -cur=WORD -- WORDS-BEFORE...
//
// (the current word as an option so that a shell that drops empty
// arguments still sends it) and reads one directive line, ":words",
// ":files" or ":dirs", then one candidate per line, optionally followed by
// a tab and a description. For :files and :dirs the shell completes paths
// itself, with its own quoting and ~ expansion.
//
// The package imports nothing from robo.
package complete
