package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/fleet"
	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/secrets"
	"github.com/robo-backup/robo/internal/shares"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/views"
	"github.com/robo-backup/robo/schema"
)

func runFleet(e *env, args []string) error {
	return group{name: "fleet", more: "See docs/fleet.md.", subs: []subcommand{
		{"status", "[-json] [-detailed-exitcode] [-margin D] [-min-version V] [PATH]", "show which hosts of the report folder are ok, failing, stale or on an old version", runFleetStatus, false},
	}}.run(e, args)
}

func runFleetStatus(e *env, args []string) error {
	fs := newFlags(e, "fleet status", "fleet status [-json] [-detailed-exitcode] [-margin D] [-min-version V] [-identity FILE] [-var name=value]... [PATH]")
	jsonOut := fs.Bool("json", false, "print one JSON document")
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when a host is failing, stale or has an invalid report (or is below -min-version)")
	margin := fs.Duration("margin", fleet.DefaultMargin, "how late a report may be after a set's scheduled run (plus its last duration) before the host is stale")
	minVersion := fs.String("min-version", "", "hosts below this robo version are old (default: older than the newest in PATH)")
	identity := fs.String("identity", "", "decrypt a share password with the identity in FILE")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fatalf("robo fleet status takes at most one folder, got %d arguments", fs.NArg())
	}
	cfg, err := optionalConfig(e, vars)
	if err != nil {
		return err
	}
	path := fs.Arg(0)
	if path == "" {
		if cfg.Fleet.Report == nil {
			return fatalf("robo fleet status needs the folder that holds the reports").
				hint("name it: robo fleet status //server/share/reports, or configure report { path = ... }")
		}
		path = cfg.Fleet.Report.Dir
	} else {
		p, _, err := schema.NormalizePath(path, absDir(e.dir), runtime.GOOS)
		if err != nil {
			return fatalf("%s: %v", safetext.Name(path), err)
		}
		path = p
	}
	eng := newEngines(e, cfg, *identity)
	defer eng.Close()
	fsys, err := openFolder(eng, path)
	if err != nil {
		return fatalf("%v", err)
	}
	defer vfs.Close(fsys)
	st, err := fleet.Read(e.ctx, fsys, "", fleet.Options{Now: time.Now(), Margin: *margin, MinVersion: *minVersion})
	if err != nil {
		return fatalf("%v", err)
	}
	if *jsonOut {
		if err := writeJSON(e, fleet.NewDocument(path, st)); err != nil {
			return err
		}
	} else {
		writeFleetTable(e, path, st)
	}
	if *detailed && !st.Counts.Healthy(*minVersion != "") {
		return exitErr(exitUnhealthy)
	}
	return nil
}

// optionalConfig loads the configuration when the directory has one (for
// its share blocks and report block), else returns an empty one.
func optionalConfig(e *env, vars varFlags) (*schema.Config, error) {
	if files, _ := schema.ConfigFiles(e.dir); len(files) == 0 {
		return &schema.Config{Dir: absDir(e.dir), Shares: map[string]*schema.Share{}}, nil
	}
	return loadConfig(e, vars)
}

func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// openFolder returns a fleet folder: a local directory, or a UNC folder
// reached through robo's own share access (share blocks; on Windows the
// account's own access when none covers it). The caller closes it
// (vfs.Close): on Windows an open folder cannot be renamed or deleted.
func openFolder(eng *engines, path string) (vfs.FS, error) {
	if shares.IsUNC(path) {
		if err := eng.access.ensure(path); err != nil {
			return nil, err
		}
	}
	return eng.access.Open(path)
}

func writeFleetTable(e *env, path string, st *fleet.Status) {
	c := st.Counts
	e.printf("%d %s in %s: %d ok, %d failing, %d stale, %d invalid", c.Hosts, pluralWord(c.Hosts, "host", "hosts"), safetext.Name(path), c.OK, c.Failing, c.Stale, c.Invalid)
	if c.OldVersion > 0 {
		e.printf("; %d on a robo older than %s", c.OldVersion, safetext.Name(st.Newest))
	}
	e.printf(".\n")
	for _, f := range st.Ignored {
		fmt.Fprintf(e.stderr, "robo: warning: %s is not a report (HOST.json); ignored\n", safetext.Name(f))
	}
	if len(st.Hosts) == 0 {
		return
	}
	hosts := fleet.ProblemsFirst(st.Hosts)
	e.printf("\n")
	const when = "2006-01-02 15:04"
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSTATE\tVERSION\tREPORTED\tSETS\tBYTES\tNOTE")
	for _, h := range hosts {
		version, reported, sets, bytes := "-", "-", "-", "-"
		if r := h.Report; r != nil {
			version = r.RoboVersion
			if h.OldVersion {
				version += " (old)"
			}
			reported = r.GeneratedAt.Local().Format(when)
			sets = fmt.Sprint(r.Totals.Sets)
			bytes = views.Bytes(r.Totals.BytesCopied)
		}
		note := "-"
		if len(h.Reasons) > 0 {
			note = h.Reasons[0]
			if len(h.Reasons) > 1 {
				note += fmt.Sprintf(" (and %d more)", len(h.Reasons)-1)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safetext.Name(h.Host), h.State, safetext.Line(version), reported, sets, bytes, safetext.Line(note))
	}
	tw.Flush()
}

// publishRun writes this host's report and its metrics textfile after a
// run, when the configuration asks for them. Failures are warnings: a run
// never fails because a report could not be written.
func (e *env) publishRun(ctx context.Context, cfg *schema.Config, eng *engines, warn func(msg string, args ...any)) {
	f := cfg.Fleet
	if f.Report == nil && f.Metrics == nil {
		return
	}
	r, err := hostReport(cfg, f.Report)
	if err != nil {
		warn("cannot read the state for the report", "error", err)
		return
	}
	if f.Metrics != nil {
		if err := fleet.WriteTextfile(f.Metrics.Textfile, r); err != nil {
			warn("cannot write the metrics textfile", "error", err)
		}
	}
	if f.Report == nil {
		return
	}
	// A stop still writes the report of what finished, within a bound.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	fsys, err := openFolder(eng, f.Report.Dir)
	if err == nil {
		err = fleet.WriteReport(wctx, fsys, "", r)
		vfs.Close(fsys)
	}
	if err != nil {
		warn("cannot write the fleet report", "path", f.Report.Dir, "error", err)
		return
	}
	e.record("fleet.report_written", map[string]string{"path": f.Report.Dir, "host": r.Host})
}

// hostReport builds this host's report from the state.
func hostReport(cfg *schema.Config, rb *schema.Report) (*fleet.Report, error) {
	store, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	st, err := store.Read()
	if err != nil {
		return nil, err
	}
	osHost, _ := os.Hostname()
	host := osHost
	if rb != nil {
		host = rb.Host
	}
	return fleet.Build(cfg, st, fleet.BuildOptions{Host: host, JitterHost: osHost, RoboVersion: version, Now: time.Now()}), nil
}

// startFleet is robo watch's start: the host key (bootstrapHostKey), then
// a first report and metrics textfile, so a new host shows up before its
// first run.
func (e *env) startFleet(cfg *schema.Config, log hclog.Logger) {
	bootstrapHostKey(e, cfg, log)
	if cfg.Fleet.Report != nil || cfg.Fleet.Metrics != nil {
		eng := newEngines(e, cfg, "")
		defer eng.Close()
		e.publishRun(e.ctx, cfg, eng, log.Warn)
	}
}

// bootstrapHostKey runs when robo watch (or the service) starts with a
// host_key block: it creates this host's identity if there is none and
// publishes its public key. Problems are logged; the watch goes on (a
// host that cannot publish still backs up what needs no secret).
func bootstrapHostKey(e *env, cfg *schema.Config, log hclog.Logger) {
	hk := cfg.Fleet.HostKey
	if hk == nil {
		return
	}
	env, _ := e.lookupEnv(secrets.EnvIdentity)
	loc := secrets.FindIdentity("", env, cfg.Settings.Identity)
	rec, created, err := secrets.EnsureIdentity(loc.Path)
	if err != nil {
		log.Error("cannot create or read this host's identity", "path", loc.Path, "error", err)
		return
	}
	if created {
		log.Info("created this host's identity", "path", loc.Path, "public_key", rec)
		e.record("secret.host_identity_created", map[string]string{"path": loc.Path, "recipient": rec})
	}
	if hk.Publish == "" {
		return
	}
	eng := newEngines(e, cfg, "")
	defer eng.Close()
	fsys, err := openFolder(eng, hk.Publish)
	wrote := false
	if err == nil {
		wrote, err = fleet.PublishKey(e.ctx, fsys, "", hk.Host, rec, time.Now())
		vfs.Close(fsys)
	}
	if err != nil {
		msg := "cannot publish this host's public key"
		if strings.Contains(err.Error(), "cannot be decrypted") {
			msg += ": the share's password is not encrypted to this host yet; reach the key folder without a share block (on Windows the computer account) or through a folder the OS mounts"
		}
		log.Warn(msg, "path", hk.Publish, "error", err)
		return
	}
	if wrote {
		log.Info("published this host's public key", "path", hk.Publish, "file", fleet.KeyFile(hk.Host), "public_key", rec)
		e.record("secret.host_key_published", map[string]string{"path": hk.Publish, "host": hk.Host, "recipient": rec})
	}
}

// warnf prints a warning on stderr: msg and key/value pairs, the value of
// each escaped (safetext.Line).
func (e *env) warnf(msg string, kv ...any) {
	var b strings.Builder
	b.WriteString("robo: warning: " + msg)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, "; %v: %s", kv[i], safetext.Line(fmt.Sprint(kv[i+1])))
	}
	fmt.Fprintln(e.stderr, b.String())
}
