package fleet

import (
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/watch"
	"github.com/robo-backup/robo/schema"
)

// FormatVersion is the version of the report document this package writes
// and reads. A reader refuses a report with a newer version.
const FormatVersion = "1"

// MaxMessage is the longest error message (in bytes, cut at a rune) a
// report carries for a set: errors in brief; the run log has the rest.
const MaxMessage = 300

// Report is one host's report (docs/fleet.md documents the format).
type Report struct {
	FormatVersion string `json:"format_version"`
	Host          string `json:"host"`
	RoboVersion   string `json:"robo_version"`
	OS            string `json:"os,omitempty"`
	// ConfigDigest identifies the configuration files the host runs
	// ("sha256:..."), so an admin can tell which hosts have the new one.
	ConfigDigest string    `json:"config_digest"`
	GeneratedAt  time.Time `json:"generated_at"`
	Sets         []Set     `json:"sets"`
	Totals       Totals    `json:"totals"`
}

// Set is one backup set in a report.
type Set struct {
	Name    string       `json:"name"`
	Enabled bool         `json:"enabled"`
	Health  watch.Health `json:"health"`
	// Schedule is the cron expression, or "" for a set run by hand or by
	// source changes only.
	Schedule string     `json:"schedule,omitempty"`
	NextRun  *time.Time `json:"next_run,omitempty"`
	// StaleAfter is how long the set may go without a success (0: never
	// stale), as robo status computes it.
	StaleAfter  time.Duration `json:"stale_after_ns,omitempty"`
	LastRun     *Run          `json:"last_run,omitempty"`
	LastSuccess *time.Time    `json:"last_success,omitempty"`
}

// Run is a set's last run, in brief.
type Run struct {
	Started      time.Time     `json:"started"`
	Ended        time.Time     `json:"ended"`
	Outcome      string        `json:"outcome"`
	Duration     time.Duration `json:"duration_ns"`
	FilesCopied  int64         `json:"files_copied"`
	BytesCopied  int64         `json:"bytes_copied"`
	FilesDeleted int64         `json:"files_deleted"`
	Errors       int64         `json:"errors"`
	// Message is the run's error, cut to MaxMessage bytes.
	Message string `json:"message,omitempty"`
}

// Totals count the sets by health and add up their last runs.
type Totals struct {
	Sets        int   `json:"sets"`
	OK          int   `json:"ok"`
	Failing     int   `json:"failing"`
	Stale       int   `json:"stale"`
	Never       int   `json:"never"`
	Disabled    int   `json:"disabled"`
	FilesCopied int64 `json:"files_copied"`
	BytesCopied int64 `json:"bytes_copied"`
	Errors      int64 `json:"errors"`
}

// BuildOptions are the inputs of Build beyond the configuration and state.
type BuildOptions struct {
	// Host names the host in the report (the report block's host).
	Host string
	// JitterHost is the host name schedules' jitter is computed from (the
	// OS's host name, as robo watch uses).
	JitterHost  string
	RoboVersion string
	Now         time.Time
}

// Build makes the report of the configured sets from the state (st may be
// nil: nothing ran yet). Sets only in the state are left out: the report
// says what the host is configured to do.
func Build(cfg *schema.Config, st *state.State, o BuildOptions) *Report {
	r := &Report{FormatVersion: FormatVersion, Host: o.Host, RoboVersion: o.RoboVersion, OS: runtime.GOOS,
		ConfigDigest: ConfigDigest(cfg), GeneratedAt: o.Now.UTC(), Sets: []Set{}}
	for _, b := range cfg.Backups {
		s := Set{Name: b.Name, Enabled: b.Enabled, Schedule: b.Schedule}
		entry, _ := watch.NewEntry(cfg, b, o.JitterHost)
		if entry != nil {
			if n := entry.Next(o.Now); !n.IsZero() {
				n = n.UTC()
				s.NextRun = &n
			}
		}
		if b.Enabled {
			s.StaleAfter = watch.StaleAfter(b, entry, o.Now)
		}
		var rec *state.Set
		if st != nil {
			rec = st.Sets[b.Name]
		}
		s.Health = watch.SetHealth(b, entry, rec, o.Now)
		if rec != nil {
			if lr := rec.LastRun; lr != nil {
				s.LastRun = &Run{Started: lr.Started.UTC(), Ended: lr.Started.Add(lr.Duration).UTC(), Outcome: lr.Outcome, Duration: lr.Duration,
					FilesCopied: lr.FilesCopied, BytesCopied: lr.BytesCopied, FilesDeleted: lr.FilesDeleted, Errors: lr.Errors, Message: Brief(lr.Message)}
			}
			if rec.LastSuccess != nil {
				t := rec.LastSuccess.UTC()
				s.LastSuccess = &t
			}
		}
		r.Sets = append(r.Sets, s)
	}
	r.Totals = totals(r.Sets)
	return r
}

func totals(sets []Set) Totals {
	t := Totals{Sets: len(sets)}
	for _, s := range sets {
		switch s.Health {
		case watch.HealthOK:
			t.OK++
		case watch.HealthFailing:
			t.Failing++
		case watch.HealthStale:
			t.Stale++
		case watch.HealthNever:
			t.Never++
		case watch.HealthDisabled:
			t.Disabled++
		}
		if s.LastRun != nil {
			t.FilesCopied += max(s.LastRun.FilesCopied, 0)
			t.BytesCopied += max(s.LastRun.BytesCopied, 0)
			t.Errors += max(s.LastRun.Errors, 0)
		}
	}
	return t
}

// Brief cuts s to MaxMessage bytes at a rune boundary, marking the cut.
func Brief(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	cut := MaxMessage - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// ConfigDigest is "sha256:" and the hex SHA-256 of the configuration's
// files: each file's name, a NUL, its length and its bytes, in name order.
// Two hosts with byte-identical files have the same digest.
func ConfigDigest(cfg *schema.Config) string {
	names := make([]string, 0, len(cfg.Files))
	for n := range cfg.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b := cfg.Files[n].Bytes
		h.Write([]byte(n))
		h.Write([]byte{0})
		var l [8]byte
		for i := range l {
			l[i] = byte(uint64(len(b)) >> (8 * i))
		}
		h.Write(l[:])
		h.Write(b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
