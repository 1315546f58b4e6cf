// Package harden owns what a robo process does to itself at start so that
// the secrets it decrypts (share passwords, SMTP passwords, the dashboard
// token) cannot leave it through a crash dump: on Linux it makes the
// process non-dumpable (prctl PR_SET_DUMPABLE 0: no core file, no piped
// core handler, no ptrace attach or /proc/PID/mem read by other users) and
// sets RLIMIT_CORE to 0; on the other Unix systems it sets RLIMIT_CORE to
// 0; on Windows it keeps Windows Error Reporting off for the process
// (SetErrorMode SEM_NOGPFAULTERRORBOX, which GOTRACEBACK=wer would clear).
// docs/secrets.md says what an administrator must still configure.
//
// The package is a leaf: cmd/robo calls [Process] first thing, and nothing
// else imports it.
package harden
