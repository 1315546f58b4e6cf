package web

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are robo's Prometheus series (docs/api.md lists them).
type metrics struct {
	reg         *prometheus.Registry
	runs        *prometheus.CounterVec
	bytes       *prometheus.CounterVec
	files       *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec

	mu   sync.Mutex
	last map[string]float64
}

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
			Help: "Unix time of the last successful run of a set (from the state, or a later run of this process)."}, []string{"set"}),
	}
	m.reg.MustRegister(m.runs, m.bytes, m.files, m.duration, m.lastSuccess)
	return m
}

func (m *metrics) record(r RunView) {
	m.runs.WithLabelValues(r.Set, r.Outcome).Inc()
	m.bytes.WithLabelValues(r.Set).Add(float64(max(r.BytesCopied, 0)))
	m.files.WithLabelValues(r.Set).Add(float64(max(r.FilesCopied, 0)))
	m.duration.WithLabelValues(r.Set).Observe(r.Duration.Seconds())
	if r.Outcome == "success" {
		m.observeSuccess(r.Set, float64(r.Started.Add(r.Duration).UnixNano())/1e9)
	}
}

// observeSuccess raises the set's last success time to t (never lowers it).
func (m *metrics) observeSuccess(set string, t float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t > m.last[set] {
		m.last[set] = t
		m.lastSuccess.WithLabelValues(set).Set(t)
	}
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	// The state's last successes, for sets this process has not run.
	if sets, err := s.o.Backend.Sets(); err == nil {
		for _, set := range sets {
			if set.LastSuccess != nil {
				s.metrics.observeSuccess(set.Name, float64(set.LastSuccess.UnixNano())/1e9)
			}
		}
	}
	promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}
