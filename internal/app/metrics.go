package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/web"
)

// metrics is what /metrics exposes. Counters that the surfaces and
// services move are fed through small hooks (web.Observer, the services'
// On… functions) so that no domain package imports Prometheus; the queue
// figures and the pools are read from the store when scraped.
type metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	series   sync.Map // requestKey → *requestSeries
	errors   *prometheus.CounterVec

	orders      *prometheus.CounterVec
	orderTotals *prometheus.CounterVec
	orderESIMs  prometheus.Counter
	usage       prometheus.Counter

	deliveries *prometheus.CounterVec
	delivery   prometheus.Histogram
}

func newMetrics(db *store.DB, now func() time.Time) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "esimd_http_requests_total", Help: "HTTP requests answered, by surface, route pattern and status.",
	}, []string{"surface", "route", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "esimd_http_request_duration_seconds", Help: "Time to answer an HTTP request, by surface and route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"surface", "route"})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "esimd_http_errors_total", Help: "Error answers, by surface and error kind.",
	}, []string{"surface", "kind"})
	m.orders = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "esimd_orders_total", Help: "Orders placed (not validations), by currency.",
	}, []string{"currency"})
	m.orderTotals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "esimd_order_amount_total", Help: "Sum of the totals of orders placed, in currency units (a float for exposition; the ledger itself is exact).",
	}, []string{"currency"})
	m.orderESIMs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "esimd_order_bundles_total", Help: "Bundle units sold by orders (each assigned to an eSIM or put into inventory).",
	})
	m.usage = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "esimd_usage_records_total", Help: "Usage records applied (network ingest and sandbox usage).",
	})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "esimd_callback_deliveries_total", Help: "Callback delivery attempts, by outcome (delivered, retry, failed, disabled).",
	}, []string{"outcome"})
	m.delivery = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "esimd_callback_event_to_delivery_seconds", Help: "Time from an event being written to its callback being delivered.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600},
	})
	m.reg.MustRegister(m.requests, m.latency, m.errors, m.orders, m.orderTotals, m.orderESIMs, m.usage,
		m.deliveries, m.delivery,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{db: db, now: now})
	return m
}

// requestKey names one series pair of the request metrics.
type requestKey struct {
	surface, route string
	status         int
}

// requestSeries are the resolved series of one requestKey: resolving label
// values hashes them under a lock, which every request would otherwise pay.
type requestSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// ObserveRequest implements web.Observer.
func (m *metrics) ObserveRequest(surface, route string, status int, d time.Duration) {
	k := requestKey{surface, route, status}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &requestSeries{
			count:   m.requests.WithLabelValues(surface, route, statusText(status)),
			latency: m.latency.WithLabelValues(surface, route),
		})
	}
	rs := v.(*requestSeries)
	rs.count.Inc()
	rs.latency.Observe(d.Seconds())
}

// ObserveError implements web.Observer.
func (m *metrics) ObserveError(surface string, kind fault.Kind) {
	m.errors.WithLabelValues(surface, kind.String()).Inc()
}

var _ web.Observer = (*metrics)(nil)

func statusText(code int) string {
	// Three digits without strconv: the label set is tiny and this runs per request.
	return string([]byte{byte('0' + code/100%10), byte('0' + code/10%10), byte('0' + code%10)})
}

func (m *metrics) observeOrder(o orders.Order) {
	m.orders.WithLabelValues(o.Currency).Inc()
	m.orderTotals.WithLabelValues(o.Currency).Add(float64(o.Total) / money.Scale)
	units := 0
	for _, l := range o.Lines {
		units += l.Quantity
	}
	m.orderESIMs.Add(float64(units))
}

func (m *metrics) observeUsage(records int) { m.usage.Add(float64(records)) }

func (m *metrics) observeDelivery(outcome string, sinceEvent time.Duration) {
	m.deliveries.WithLabelValues(outcome).Inc()
	if outcome == "delivered" && sinceEvent > 0 {
		m.delivery.Observe(sinceEvent.Seconds())
	}
}

// handler serves the registry; with an admin token it asks for the token
// as the admin API does, so that figures are not public.
func (m *metrics) handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="esimd metrics"`)
			web.WriteJSON(w, http.StatusUnauthorized, web.Message{Message: "send the operator admin token as Authorization: Bearer <token> to read /metrics"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// storeCollector reads the queues and the connection pools when scraped.
type storeCollector struct {
	db  *store.DB
	now func() time.Time // the wall clock the due times are compared with
}

var (
	queueDepthDesc = prometheus.NewDesc("esimd_job_queue_due", "Background work items due now and not yet done, by kind (callback, and each kind of due work of live organisations).", []string{"kind"}, nil)
	queueAgeDesc   = prometheus.NewDesc("esimd_job_queue_oldest_seconds", "How long the oldest due item of each kind has waited (due-work lag).", []string{"kind"}, nil)
	poolOpenDesc   = prometheus.NewDesc("esimd_db_pool_open_connections", "Open database connections, by pool.", []string{"pool"}, nil)
	poolInUseDesc  = prometheus.NewDesc("esimd_db_pool_in_use_connections", "Database connections in use, by pool.", []string{"pool"}, nil)
	poolWaitDesc   = prometheus.NewDesc("esimd_db_pool_wait_seconds_total", "Time spent waiting for a database connection, by pool.", []string{"pool"}, nil)
	poolWaitsDesc  = prometheus.NewDesc("esimd_db_pool_waits_total", "Waits for a database connection, by pool.", []string{"pool"}, nil)
	jobsFailedDesc = prometheus.NewDesc("esimd_jobs_failed", "Queued jobs given up and waiting for an operator, by kind.", []string{"kind"}, nil)
	scrapeErrDesc  = prometheus.NewDesc("esimd_job_queue_scrape_errors", "1 when the queue figures could not be read in this scrape.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queueDepthDesc, queueAgeDesc, jobsFailedDesc, poolOpenDesc, poolInUseDesc, poolWaitDesc, poolWaitsDesc, scrapeErrDesc} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stats, err := c.db.QueueStats(ctx, c.now())
	failed := 0.0
	if err != nil {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
	for _, q := range stats {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(q.Due), q.Kind)
		ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, q.Oldest.Seconds(), q.Kind)
		if strings.HasPrefix(q.Kind, "job:") {
			ch <- prometheus.MustNewConstMetric(jobsFailedDesc, prometheus.GaugeValue, float64(q.Failed), q.Kind)
		}
	}
	for name, s := range c.db.PoolStats() {
		ch <- prometheus.MustNewConstMetric(poolOpenDesc, prometheus.GaugeValue, float64(s.OpenConnections), name)
		ch <- prometheus.MustNewConstMetric(poolInUseDesc, prometheus.GaugeValue, float64(s.InUse), name)
		ch <- prometheus.MustNewConstMetric(poolWaitDesc, prometheus.CounterValue, s.WaitDuration.Seconds(), name)
		ch <- prometheus.MustNewConstMetric(poolWaitsDesc, prometheus.CounterValue, float64(s.WaitCount), name)
	}
}
