package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/robo-backup/robo/internal/audit"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/schema"
)

// auditPath is the audit trail of a configuration: audit.jsonl beside the
// state file.
func auditPath(cfg *schema.Config) string {
	return filepath.Join(filepath.Dir(cfg.Settings.StateFile), "audit.jsonl")
}

// The audit trail's rotation (docs/monitoring.md, "The audit trail"):
// variables so that tests can rotate after a few entries.
var (
	auditMaxSize int64 = audit.DefaultMaxSize
	auditKeep          = audit.DefaultKeep
)

// startAudit opens the configuration's audit trail for this command and
// records that the configuration was loaded.
func (e *env) startAudit(cfg *schema.Config) {
	if !filepath.IsAbs(cfg.Settings.StateFile) {
		return
	}
	e.audit = audit.Open(auditPath(cfg))
	e.audit.MaxSize, e.audit.Keep = auditMaxSize, auditKeep
	e.record("config.loaded", map[string]string{"dir": cfg.Dir, "digest": plan.ConfigDigest(cfg)})
}

// record appends an event to the audit trail, if one is open. A trail that
// cannot be written is a warning: the backup itself must not stop.
func (e *env) record(event string, fields map[string]string) {
	if e.audit == nil {
		return
	}
	if err := e.audit.Record(event, fields); err != nil {
		fmt.Fprintf(e.stderr, "robo: warning: %v\n", err)
	}
}

func runAudit(e *env, args []string) error {
	return group{name: "audit", subs: []subcommand{
		{"verify", "[-json] [FILE]", "check the hash chain of the audit trail, across its rotated files", runAuditVerify, false},
	}}.run(e, args)
}

func runAuditVerify(e *env, args []string) error {
	fs := newFlags(e, "audit verify", "audit verify [-json] [FILE]")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var path string
	switch fs.NArg() {
	case 0:
		cfg, err := loadConfig(e, vars)
		if err != nil {
			return err
		}
		path = auditPath(cfg)
	case 1:
		path = e.path(fs.Arg(0))
	default:
		return fatalf("robo audit verify takes at most one file")
	}
	r, err := audit.Verify(path)
	if err != nil {
		return fatalf("audit trail %s: %v", path, err)
	}
	if *jsonOut {
		if err := writeJSON(e, struct {
			FormatVersion string `json:"format_version"`
			File          string `json:"file"`
			OK            bool   `json:"ok"`
			*audit.Report
		}{"1", path, r.OK(), r}); err != nil {
			return err
		}
	} else if r.OK() {
		e.printf("%s: intact, %d %s%s.\n", path, r.Entries, pluralWord(r.Entries, "entry", "entries"), trailSpan(r))
	} else {
		e.printf("%s: TAMPERED: %d %s in %d entries%s:\n", path, len(r.Problems), pluralWord(len(r.Problems), "problem", "problems"), r.Entries, trailSpan(r))
		for _, p := range r.Problems {
			e.printf("  %s\n", p)
		}
	}
	if !r.OK() {
		return exitErr(exitError)
	}
	return nil
}

// trailSpan says which files a verified trail spans, and which entries
// rotation removed: " in 4 files (3 rotated), entries 1 to 2 rotated out".
func trailSpan(r *audit.Report) string {
	var s string
	if n := len(r.Files); n > 1 {
		s = fmt.Sprintf(" in %d files (%d rotated)", n, n-1)
	}
	if r.FirstSeq > 1 {
		s += fmt.Sprintf(", entries 1 to %d rotated out", r.FirstSeq-1)
	}
	return s
}

// outcomes renders set outcomes as "name=outcome,..." for an audit event.
func outcomes(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + m[k])
	}
	return b.String()
}
