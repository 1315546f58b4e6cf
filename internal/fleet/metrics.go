package fleet

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// The metrics of a report: gauges describing the host's sets as the state
// records them, so they survive restarts (unlike the /metrics counters of
// one process) and suit a textfile collector. docs/fleet.md lists them.
var (
	descInfo = prometheus.NewDesc("robo_info", "Always 1: the robo version and configuration digest of this host.",
		[]string{"host", "version", "config_digest"}, nil)
	descGenerated = prometheus.NewDesc("robo_metrics_generated_timestamp_seconds",
		"Unix time these metrics were computed (after a run, or when robo watch started).", nil, nil)
	descEnabled = prometheus.NewDesc("robo_set_enabled", "1 when the set is enabled, else 0.", []string{"set"}, nil)
	descHealth  = prometheus.NewDesc("robo_set_health",
		"1 for the set's health (ok, failing, stale, never, disabled), as robo status shows it; one series per set.", []string{"set", "health"}, nil)
	descStaleAfter = prometheus.NewDesc("robo_set_stale_after_seconds",
		"How long the set may go without a success before it is stale (absent: never stale).", []string{"set"}, nil)
	descNext = prometheus.NewDesc("robo_next_run_timestamp_seconds", "Unix time of the set's next scheduled run.", []string{"set"}, nil)
	// The same name and meaning as internal/web's gauge, so alerts work on
	// either source.
	descLastSuccess = prometheus.NewDesc("robo_last_success_timestamp_seconds",
		"Unix time of the last successful run of a set (from the state).", []string{"set"}, nil)
	descLastRun = prometheus.NewDesc("robo_last_run_timestamp_seconds", "Unix time the set's last run ended.", []string{"set"}, nil)
	descOK      = prometheus.NewDesc("robo_last_run_success", "1 when the set's last run succeeded, else 0.", []string{"set"}, nil)
	descOutcome = prometheus.NewDesc("robo_last_run_outcome",
		"1 for the outcome of the set's last run (success, partial, failed, refused, interrupted); one series per set.", []string{"set", "outcome"}, nil)
	descDuration = prometheus.NewDesc("robo_last_run_duration_seconds", "Duration of the set's last run.", []string{"set"}, nil)
	descFiles    = prometheus.NewDesc("robo_last_run_files_copied", "Files copied by the set's last run.", []string{"set"}, nil)
	descBytes    = prometheus.NewDesc("robo_last_run_bytes_copied", "Bytes copied by the set's last run.", []string{"set"}, nil)
	descDeleted  = prometheus.NewDesc("robo_last_run_files_deleted", "Files deleted by the set's last run.", []string{"set"}, nil)
	descErrors   = prometheus.NewDesc("robo_last_run_errors", "Errors of the set's last run.", []string{"set"}, nil)
)

// Collector exposes the metrics of the report get returns (nil: none) at
// each collection. internal/web can register it beside its counters to
// serve the same gauges at /metrics.
type Collector struct {
	get func() *Report
}

// NewCollector returns a Collector of get's reports.
func NewCollector(get func() *Report) *Collector { return &Collector{get: get} }

var _ prometheus.Collector = (*Collector)(nil)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInfo, descGenerated, descEnabled, descHealth, descStaleAfter, descNext, descLastSuccess,
		descLastRun, descOK, descOutcome, descDuration, descFiles, descBytes, descDeleted, descErrors} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	r := c.get()
	if r == nil {
		return
	}
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	g(descInfo, 1, r.Host, r.RoboVersion, r.ConfigDigest)
	g(descGenerated, unix(r.GeneratedAt))
	for _, s := range r.Sets {
		g(descEnabled, b2f(s.Enabled), s.Name)
		g(descHealth, 1, s.Name, string(s.Health))
		if s.StaleAfter > 0 {
			g(descStaleAfter, s.StaleAfter.Seconds(), s.Name)
		}
		if s.NextRun != nil {
			g(descNext, unix(*s.NextRun), s.Name)
		}
		if s.LastSuccess != nil {
			g(descLastSuccess, unix(*s.LastSuccess), s.Name)
		}
		if lr := s.LastRun; lr != nil {
			g(descLastRun, unix(lr.Ended), s.Name)
			g(descOK, b2f(lr.Outcome == "success"), s.Name)
			g(descOutcome, 1, s.Name, lr.Outcome)
			g(descDuration, lr.Duration.Seconds(), s.Name)
			g(descFiles, float64(lr.FilesCopied), s.Name)
			g(descBytes, float64(lr.BytesCopied), s.Name)
			g(descDeleted, float64(lr.FilesDeleted), s.Name)
			g(descErrors, float64(lr.Errors), s.Name)
		}
	}
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Textfile renders r's metrics in the Prometheus text format.
func Textfile(r *Report) ([]byte, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewCollector(func() *Report { return r })); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// WriteTextfile replaces the local file path with r's metrics atomically:
// a temporary file beside it whose name does not end in .prom (so that
// the collector, which reads *.prom, never reads it half-written), fsync,
// rename. The directory must exist (the exporter's install creates it).
func WriteTextfile(path string, r *Report) error {
	b, err := Textfile(r)
	if err != nil {
		return fmt.Errorf("metrics textfile: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("metrics textfile: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o644)
		if err != nil && isWindows {
			err = nil
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = renameRetry(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("metrics textfile %s: %w", path, err)
	}
	return nil
}

// renameRetry renames, retrying for a moment while the exporter holds the
// old file open (Windows refuses to replace an open file).
func renameRetry(from, to string) error {
	var err error
	pause := 10 * time.Millisecond
	for range renameTries {
		if err = os.Rename(from, to); err == nil {
			return nil
		}
		time.Sleep(pause)
		pause = min(2*pause, time.Second)
	}
	return err
}
