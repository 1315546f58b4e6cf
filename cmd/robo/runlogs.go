package main

import (
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/hooks"
	"github.com/robo-backup/robo/internal/runlog"
	"github.com/robo-backup/robo/schema"
)

// Run logs (docs/monitoring.md, "Run logs"): the native engine's run of
// each set is logged in robocopy's layout under logs/ beside the state; the
// robocopy engine keeps robocopy's own log there. Old logs of every kind
// are pruned after each apply per the robo block's log_retention.

// runLogDir is logs/ beside the state, or "" when the state path is not
// absolute (no run logs are kept then, as for the robocopy engine).
func runLogDir(cfg *schema.Config) string {
	if !filepath.IsAbs(cfg.Settings.StateFile) {
		return ""
	}
	return hooks.LogDirFor(cfg.Settings.StateFile)
}

// runLogger opens a native run log per set for apply.Options.RunLog; nil
// when run logs are not kept. A log that cannot be created is a warning,
// never a failed set.
func runLogger(cfg *schema.Config, log hclog.Logger) func(set, engineName string, job engine.Job) (engine.Reporter, func(*engine.Result, error)) {
	return runLoggerNamed(cfg, log, nil)
}

// runLoggerNamed is runLogger, telling created (when not nil) each log's
// path: the dashboard links a run to its own log.
func runLoggerNamed(cfg *schema.Config, log hclog.Logger, created func(set, path string)) func(set, engineName string, job engine.Job) (engine.Reporter, func(*engine.Result, error)) {
	dir := runLogDir(cfg)
	if dir == "" {
		return nil
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return func(set, engineName string, job engine.Job) (engine.Reporter, func(*engine.Result, error)) {
		if engineName != "native" {
			return nil, nil
		}
		if err := hooks.PrepareLogDir(dir); err != nil { // 0700; an old robo's 0755 tightened
			log.Warn("cannot tighten the permissions of the logs directory", "dir", dir, "error", err)
		}
		l, path, err := runlog.Create(dir, set, job, runlog.Options{})
		if err != nil {
			log.Warn("cannot write the set's run log", "set", set, "error", err)
			return nil, nil
		}
		if created != nil {
			created(set, path)
		}
		return l, func(res *engine.Result, rerr error) {
			if err := l.Finish(res, rerr); err != nil {
				log.Warn("cannot write the set's run log", "set", set, "path", path, "error", err)
			}
		}
	}
}

// pruneRunLogs removes the run logs that log_retention does not keep.
func pruneRunLogs(cfg *schema.Config, log hclog.Logger) {
	dir := runLogDir(cfg)
	if dir == "" {
		return
	}
	r := cfg.Settings.LogRetention
	removed, err := runlog.Prune(dir, runlog.Retention{MaxAge: r.MaxAge, Count: r.Count}, time.Now())
	if log == nil {
		return
	}
	if len(removed) > 0 {
		log.Debug("pruned run logs", "dir", dir, "removed", len(removed))
	}
	if err != nil {
		log.Warn("cannot prune old run logs", "dir", dir, "error", err)
	}
}
