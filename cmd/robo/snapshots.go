package main

import (
	"path/filepath"
	"strconv"

	"github.com/robo-backup/robo/internal/snapshot"
	"github.com/robo-backup/robo/schema"
)

// newSnapshots prepares the snapshots of one command (docs/snapshots.md):
// first the leftovers of a robo that died holding one are removed and
// reported (log, audit trail), then, when a set asks for snapshots, the
// engines read those sets from a snapshot of their volume, taken on first
// use and removed by engines.Close. Nil without a local state directory.
func newSnapshots(e *env, cfg *schema.Config) *snapshot.Engines {
	if !filepath.IsAbs(cfg.Settings.StateFile) {
		return nil
	}
	log := e.applyLogger()
	dir := snapshot.RegistryDir(cfg.Settings.StateFile)
	for _, l := range snapshot.Cleanup(dir) {
		s := l.Snapshot
		f := map[string]string{"kind": s.Kind, "name": s.Name, "id": s.ID, "volume": s.Volume, "created": s.Created.Format("2006-01-02T15:04:05Z07:00"), "pid": strconv.Itoa(s.PID)}
		if l.Err != nil {
			f["error"] = l.Err.Error()
			e.record("snapshot.leftover_failed", f)
			if log != nil {
				log.Error("cannot remove a leftover snapshot", "snapshot", s.Describe(), "error", l.Err)
			} else {
				e.warnf("cannot remove a leftover snapshot", "snapshot", s.Describe(), "error", l.Err)
			}
			continue
		}
		e.record("snapshot.leftover_removed", f)
		if log != nil {
			log.Warn("removed a leftover snapshot", "snapshot", s.Describe(), "created", s.Created, "pid", s.PID)
		} else {
			e.warnf("removed a leftover snapshot", "snapshot", s.Describe(), "created", s.Created, "pid", s.PID)
		}
	}
	uses := false
	for _, b := range cfg.Backups {
		uses = uses || (b.Snapshot != "" && b.Snapshot != schema.SnapshotNever)
	}
	if !uses {
		return nil
	}
	ev := snapshot.Events{
		Created: func(s *snapshot.Snapshot, set string) {
			e.record("snapshot.created", map[string]string{"kind": s.Kind, "name": s.Name, "id": s.ID, "volume": s.Volume, "root": s.Root, "set": set})
			if log != nil {
				log.Info("snapshot taken", "snapshot", s.Describe(), "set", set)
			}
		},
		Removed: func(s *snapshot.Snapshot) {
			e.record("snapshot.removed", map[string]string{"kind": s.Kind, "name": s.Name, "id": s.ID, "volume": s.Volume})
			if log != nil {
				log.Info("snapshot removed", "snapshot", s.Describe())
			}
		},
		Failed: func(s *snapshot.Snapshot, err error) {
			e.record("snapshot.remove_failed", map[string]string{"kind": s.Kind, "name": s.Name, "id": s.ID, "volume": s.Volume, "error": err.Error()})
			if log != nil {
				log.Error("cannot remove a snapshot", "snapshot", s.Describe(), "error", err)
			} else {
				e.warnf("cannot remove a snapshot", "snapshot", s.Describe(), "error", err)
			}
		},
	}
	return &snapshot.Engines{M: snapshot.NewManager(dir, ev), Policy: func(set string) string {
		if b := cfg.Backup(set); b != nil && b.Snapshot != "" {
			return b.Snapshot
		}
		return snapshot.Never
	}}
}
