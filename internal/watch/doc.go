// Package watch owns robo watch's decisions of when to run which backup set:
// cron schedules with a time zone and a per-host jitter, catch-up of runs
// missed while robo was stopped or the machine slept, the run queue (one
// run per set at a time, a coalesced "run again", a global max_parallel
// limit), recursive source watching with fsnotify (debounce, periodic
// rescans, a bound on inotify watches), and reloading the configuration
// directory when it changes.
//
// It does not plan, apply or print. A run is delegated to a Runner (in robo,
// plan+apply of the set under the state lock, exactly robo apply
// -auto-approve) and the configuration to a Loader; cmd/robo wires both. The
// state is only read, for each set's last successful run. Time comes from a
// Clock so that schedules, catch-up and wake detection are tested without
// waiting.
//
// Siblings: schema decodes the configuration (and parses cron expressions),
// internal/state holds the runs' outcomes, cmd/robo wraps the loop in the
// service manager (github.com/kardianos/service).
package watch
