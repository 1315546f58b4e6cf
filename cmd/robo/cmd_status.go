package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/views"
	"github.com/robo-backup/robo/internal/watch"
	"github.com/robo-backup/robo/schema"
)

// statusFormatVersion is the version of robo status -json's document.
const statusFormatVersion = "1"

// exitUnhealthy is robo status -detailed-exitcode's exit status when a
// configured set is stale or failing.
const exitUnhealthy = 2

// statusDoc is robo status -json (docs/cli.md documents it).
type statusDoc struct {
	FormatVersion string      `json:"format_version"`
	Time          time.Time   `json:"time"`
	ConfigDir     string      `json:"config_dir"`
	StateFile     string      `json:"state_file"`
	Watch         statusWatch `json:"watch"`
	Sets          []statusSet `json:"sets"`
}

type statusWatch struct {
	Running bool       `json:"running"`
	PID     int        `json:"pid,omitempty"`
	Host    string     `json:"host,omitempty"`
	Since   *time.Time `json:"since,omitempty"`
}

type statusSet struct {
	Name     string       `json:"name"`
	InConfig bool         `json:"in_config"`
	Enabled  bool         `json:"enabled"`
	Health   watch.Health `json:"health"`
	// Running is set while the robo watch of this configuration runs it.
	Running  bool   `json:"running,omitempty"`
	Schedule string `json:"schedule,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	// ScheduleError says why the schedule cannot be resolved.
	ScheduleError string     `json:"schedule_error,omitempty"`
	NextRun       *time.Time `json:"next_run,omitempty"`
	// StaleAfter is the stale limit (0: never stale), from alert_after or
	// two schedule periods (StaleRule).
	StaleAfter  time.Duration `json:"stale_after_ns,omitempty"`
	StaleRule   string        `json:"stale_rule,omitempty"`
	LastRun     *statusRun    `json:"last_run,omitempty"`
	LastSuccess *time.Time    `json:"last_success,omitempty"`
}

type statusRun struct {
	Started     time.Time     `json:"started"`
	Ended       time.Time     `json:"ended"`
	Outcome     string        `json:"outcome"`
	Message     string        `json:"message,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
	FilesCopied int64         `json:"files_copied"`
	BytesCopied int64         `json:"bytes_copied"`
	// Snapshot is the snapshot the run read from (docs/snapshots.md).
	Snapshot *state.Snapshot `json:"snapshot,omitempty"`
}

func runStatus(e *env, args []string) error {
	fs := newFlags(e, "status", "status [-json] [-detailed-exitcode] [-var name=value]...")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when a configured set is stale or failing")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fatalf("robo status takes no arguments, got %q", fs.Arg(0))
	}
	cfg, store, err := loadWithStore(e, vars)
	if err != nil {
		return err
	}
	st, err := store.Read()
	if err != nil {
		return fatalf("%v", err)
	}
	host, _ := os.Hostname()
	doc := buildStatus(cfg, store, st, host, time.Now())
	if *jsonOut {
		if err := writeJSON(e, doc); err != nil {
			return err
		}
	} else {
		writeStatusTable(e, doc)
	}
	if *detailed {
		for _, s := range doc.Sets {
			if s.InConfig && (s.Health == watch.HealthStale || s.Health == watch.HealthFailing) {
				return exitErr(exitUnhealthy)
			}
		}
	}
	return nil
}

// buildStatus computes every set's status at now: the configured sets in
// configuration order (by name), then the sets only in the state, by name. host
// names this machine for the schedules' jitter, as robo watch does.
func buildStatus(cfg *schema.Config, store *state.Store, st *state.State, host string, now time.Time) statusDoc {
	doc := statusDoc{FormatVersion: statusFormatVersion, Time: now.UTC(), ConfigDir: cfg.Dir, StateFile: store.Path, Sets: []statusSet{}}
	running := map[string]bool{}
	if watchRunning(store) {
		doc.Watch.Running = true
		if ws, err := readWatchStatus(store); err == nil {
			since := ws.Since
			doc.Watch.PID, doc.Watch.Host, doc.Watch.Since = ws.PID, ws.Host, &since
			for _, ss := range ws.Sets {
				running[ss.Name] = ss.Running
			}
		}
	}
	if st == nil {
		st = &state.State{Sets: map[string]*state.Set{}}
	}
	for _, b := range cfg.Backups {
		s := statusSet{Name: b.Name, InConfig: true, Enabled: b.Enabled, Schedule: b.Schedule, Running: running[b.Name]}
		entry, err := watch.NewEntry(cfg, b, host)
		if err != nil {
			s.ScheduleError = err.Error()
		}
		if entry != nil {
			s.Timezone = entry.Loc.String()
			if n := entry.Next(now); !n.IsZero() {
				n = n.UTC()
				s.NextRun = &n
			}
		}
		if b.Enabled {
			s.StaleAfter = watch.StaleAfter(b, entry, now)
			switch {
			case b.AlertAfter > 0:
				s.StaleRule = "alert_after"
			case s.StaleAfter > 0:
				s.StaleRule = "two schedule periods"
			}
		}
		rec := st.Sets[b.Name]
		s.Health = watch.SetHealth(b, entry, rec, now)
		fillRuns(&s, rec)
		doc.Sets = append(doc.Sets, s)
	}
	var gone []string
	for _, n := range st.Names() {
		if cfg.Backup(n) == nil {
			gone = append(gone, n)
		}
	}
	sort.Strings(gone)
	for _, n := range gone {
		rec := st.Sets[n]
		s := statusSet{Name: n, Enabled: true, Health: watch.SetHealth(nil, nil, rec, now)}
		fillRuns(&s, rec)
		doc.Sets = append(doc.Sets, s)
	}
	return doc
}

func fillRuns(s *statusSet, rec *state.Set) {
	if rec == nil {
		return
	}
	if r := rec.LastRun; r != nil {
		s.LastRun = &statusRun{Started: r.Started.UTC(), Ended: r.Started.Add(r.Duration).UTC(), Outcome: r.Outcome, Message: r.Message,
			Duration: r.Duration, FilesCopied: r.FilesCopied, BytesCopied: r.BytesCopied, Snapshot: r.Snapshot}
	}
	if rec.LastSuccess != nil {
		t := rec.LastSuccess.UTC()
		s.LastSuccess = &t
	}
}

func writeStatusTable(e *env, doc statusDoc) {
	if doc.Watch.Running {
		if doc.Watch.PID != 0 {
			e.printf("robo watch is running: pid %d on %s, since %s.\n", doc.Watch.PID, safetext.Name(doc.Watch.Host), doc.Watch.Since.Local().Format(time.DateTime))
		} else {
			e.printf("robo watch is running (its status file cannot be read).\n")
		}
	} else {
		e.printf("robo watch is not running on this configuration.\n")
	}
	if len(doc.Sets) == 0 {
		e.printf("The configuration has no backup sets.\n")
		return
	}
	e.printf("\n")
	const when = "2006-01-02 15:04"
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SET\tHEALTH\tLAST RUN\tOUTCOME\tDURATION\tFILES\tBYTES\tLAST SUCCESS\tNEXT RUN\tNOTE")
	for _, s := range doc.Sets {
		last, outcome, dur, files, bytes, success, next := "never", "-", "-", "-", "-", "never", "-"
		if r := s.LastRun; r != nil {
			last, outcome = r.Started.Local().Format(when), r.Outcome
			switch {
			case r.Duration < time.Second:
				dur = r.Duration.Round(time.Millisecond).String()
			case r.Duration < time.Minute:
				dur = r.Duration.Round(100 * time.Millisecond).String()
			default:
				dur = r.Duration.Round(time.Second).String()
			}
			files, bytes = fmt.Sprint(r.FilesCopied), views.Bytes(r.BytesCopied)
		}
		if s.LastSuccess != nil {
			success = s.LastSuccess.Local().Format(when)
		}
		if s.NextRun != nil {
			next = s.NextRun.Local().Format(when)
		}
		var notes []string
		if !s.InConfig {
			notes = append(notes, "not in config")
		}
		if s.Running {
			notes = append(notes, "running")
		}
		if r := s.LastRun; r != nil && r.Snapshot != nil {
			notes = append(notes, "from "+r.Snapshot.Kind+" snapshot "+r.Snapshot.ID)
		}
		if s.ScheduleError != "" {
			notes = append(notes, "schedule: "+s.ScheduleError)
		}
		if s.Health == watch.HealthStale {
			notes = append(notes, "no success within "+shortDuration(s.StaleAfter))
		}
		note := strings.Join(notes, "; ")
		if note == "" {
			note = "-"
		}
		// Names and notes come from the state and the configuration:
		// escaped, so that a TAB or a control character can neither break
		// the table nor reach the terminal.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safetext.Name(s.Name), s.Health, last, safetext.Line(outcome), dur, files, bytes, success, next, safetext.Line(note))
	}
	tw.Flush()
}

// shortDuration prints d without trailing zero units: 26h, 1h30m, 90s.
func shortDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
