package web

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// metrics are robo's Prometheus series (docs/api.md lists them).
type metrics struct {
	reg         *prometheus.Registry
	runs        *prometheus.CounterVec
	bytes       *prometheus.CounterVec
	files       *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	lastRun     *prometheus.GaugeVec
	lastOutcome *prometheus.GaugeVec
	health      *prometheus.GaugeVec
	running     *prometheus.GaugeVec

	mu   sync.Mutex // also serialises scrapes, which reset the gauges
	last map[string]float64
}

// healths are the values of SetView.Health; robo_set_health has a series
// for each, 1 for the set's current health and 0 for the others.
var healths = []string{"ok", "failing", "stale", "never", "disabled"}

// outcomes are the run outcomes robo_last_run_outcome always has a series
// for (another outcome gets a series while it is the last).
var outcomes = []string{"success", "partial", "failed", "refused", "interrupted"}

func newMetrics() *metrics {
	m := &metrics{
		reg:  prometheus.NewRegistry(),
		last: map[string]float64{},
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "robo_runs_total",
			Help: "Runs of a set seen by this process, by outcome (success, failed, interrupted, ...)."}, []string{"set", "outcome"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "robo_bytes_copied_total",
			Help: "Bytes copied by the runs of a set seen by this process."}, []string{"set"}),
		files: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "robo_files_copied_total",
			Help: "Files copied by the runs of a set seen by this process."}, []string{"set"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "robo_run_duration_seconds",
			Help:    "Duration of the runs of a set seen by this process.",
			Buckets: []float64{1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400, 43200}}, []string{"set"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "robo_last_success_timestamp_seconds",
			Help: "Unix time of the end of the last successful run of a set (from the state, or a later run of this process); 0 when it never succeeded."}, []string{"set"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "robo_last_run_timestamp_seconds",
			Help: "Unix time of the end of the last run of a set, whatever its outcome; 0 when it never ran."}, []string{"set"}),
		lastOutcome: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "robo_last_run_outcome",
			Help: "1 for the outcome of the last run of a set, 0 for the other outcomes; no series when it never ran."}, []string{"set", "outcome"}),
		health: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "robo_set_health",
			Help: "1 for a set's health as robo status computes it (ok, failing, stale, never, disabled), 0 for the others."}, []string{"set", "health"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "robo_set_running",
			Help: "1 while a run of the set is in progress, else 0."}, []string{"set"}),
	}
	m.reg.MustRegister(m.runs, m.bytes, m.files, m.duration, m.lastSuccess, m.lastRun, m.lastOutcome, m.health, m.running)
	return m
}

func (m *metrics) record(r RunView) {
	m.runs.WithLabelValues(r.Set, r.Outcome).Inc()
	m.bytes.WithLabelValues(r.Set).Add(float64(max(r.BytesCopied, 0)))
	m.files.WithLabelValues(r.Set).Add(float64(max(r.FilesCopied, 0)))
	m.duration.WithLabelValues(r.Set).Observe(r.Duration.Seconds())
	if r.Outcome == "success" {
		m.mu.Lock()
		m.last[r.Set] = max(m.last[r.Set], float64(r.Started.Add(r.Duration).UnixNano())/1e9)
		m.mu.Unlock()
	}
}

// observe sets the per-set gauges from the sets as they are now: a set
// gone from the configuration and the state loses its series.
func (m *metrics) observe(sets []SetView) {
	m.lastSuccess.Reset()
	m.lastRun.Reset()
	m.lastOutcome.Reset()
	m.health.Reset()
	m.running.Reset()
	for _, s := range sets {
		t := m.last[s.Name]
		if s.LastSuccess != nil {
			t = max(t, float64(s.LastSuccess.UnixNano())/1e9)
		}
		m.lastSuccess.WithLabelValues(s.Name).Set(t)
		for _, h := range healths {
			m.health.WithLabelValues(s.Name, h).Set(b2f(s.Health == h))
		}
		m.running.WithLabelValues(s.Name).Set(b2f(s.Running))
		if r := s.LastRun; r != nil {
			m.lastRun.WithLabelValues(s.Name).Set(float64(r.Started.Add(r.Duration).UnixNano()) / 1e9)
			for _, o := range outcomes {
				m.lastOutcome.WithLabelValues(s.Name, o).Set(b2f(r.Outcome == o))
			}
			m.lastOutcome.WithLabelValues(s.Name, r.Outcome).Set(1)
		} else {
			m.lastRun.WithLabelValues(s.Name).Set(0)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	sets, err := s.sets()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	// The last run of this process is newer than the state's when the
	// Backend reads the state before the run records itself.
	for i := range sets {
		if runs := s.processRuns(sets[i].Name); len(runs) > 0 {
			last := runs[len(runs)-1]
			if sets[i].LastRun == nil || last.Started.After(sets[i].LastRun.Started) {
				sets[i].LastRun = &last
			}
		}
	}
	s.metrics.mu.Lock()
	s.metrics.observe(sets)
	mfs, gerr := s.metrics.reg.Gather() // under the lock; written without it
	s.metrics.mu.Unlock()
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, gerr })
	promhttp.HandlerFor(g, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
