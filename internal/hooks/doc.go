// Package hooks runs a backup set's hook commands: before, after and
// on_failure (schema.Hooks), each an argv list run without a shell, in the
// configuration directory, with a timeout.
//
// It owns starting and stopping the processes (a timeout kills the command
// and, on Unix, its whole process group), the environment they get (the
// caller's plus ROBO_SET, ROBO_SOURCE, ROBO_DESTINATION, ROBO_PHASE and, for
// after and on_failure, ROBO_OUTCOME; never a secret), and capturing their
// combined output: the tail is kept in the Result, and the output up to a
// limit in a run log file when a log directory is set.
//
// On Windows a hook written as ["cmd", "/c", COMMAND...] gets its command
// line verbatim (cmdExeLine): cmd.exe does not parse Go's quoting.
//
// When each phase runs, and what a failure does to the set, is decided by
// internal/apply, which calls a Runner through its Hooks interface.
package hooks
