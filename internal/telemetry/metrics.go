package telemetry

import (
	"database/sql"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are taskql's own Prometheus series (docs/OPERATIONS.md says what each means).
type Metrics struct {
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	refusals  *prometheus.CounterVec
	registry  *prometheus.Registry

	mu         sync.Mutex
	operations map[string]bool
}

// maxOperationLabels bounds the operation names a series is labelled with: names come from
// clients, and each new one is a new series. Past the bound, new names count as "other".
const maxOperationLabels = 200

func newMetrics(r *prometheus.Registry) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskql_requests_total",
			Help: "Requests answered, by route, GraphQL operation name and type, and outcome (OK or the first error code).",
		}, []string{"route", "operation", "type", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taskql_request_duration_seconds",
			Help:    "Time to answer a request, by route and GraphQL operation type.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "type"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskql_refusals_total",
			Help: "Requests refused by a limit of DESIGN §7 before anything ran, by limit.",
		}, []string{"limit"}),
		registry:   r,
		operations: map[string]bool{},
	}
	r.MustRegister(m.requests, m.durations, m.refusals)
	return m
}

// Refused counts a request refused by a limit (body, tokens, depth, selections, mutations,
// complexity, introspection, persisted, rate, deadline, subscriptions, websocket).
func (m *Metrics) Refused(limit string) { m.refusals.WithLabelValues(limit).Inc() }

// operationLabel is the operation's name as a label: bounded in number.
func (m *Metrics) operationLabel(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.operations[name] {
		return name
	}
	if len(m.operations) >= maxOperationLabels || len(name) > 64 {
		return "other"
	}
	m.operations[name] = true
	return name
}

// Database adds the connection pool's series (go_sql_*{db_name="taskql"}: open, in use, waits).
func (m *Metrics) Database(db *sql.DB) {
	m.registry.MustRegister(collectors.NewDBStatsCollector(db, "taskql"))
}

// Gauge adds a series read when scraped, such as the subscriptions held.
func (m *Metrics) Gauge(name, help string, read func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, read))
}

// Counter adds a counter read when scraped, such as the events published.
func (m *Metrics) Counter(name, help string, read func() float64) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, read))
}

// CounterVec adds counters, one per value of label, read when scraped, such as the webhook
// attempts by outcome.
func (m *Metrics) CounterVec(name, help, label string, read func() map[string]float64) {
	m.registry.MustRegister(&counterVec{desc: prometheus.NewDesc(name, help, []string{label}, nil), read: read})
}

// counterVec is a collector of counters read from a function.
type counterVec struct {
	desc *prometheus.Desc
	read func() map[string]float64
}

func (c *counterVec) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *counterVec) Collect(ch chan<- prometheus.Metric) {
	for value, n := range c.read() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, n, value)
	}
}
