// Package app is esimd's composition root: New builds the store, the
// domain services, the background workers and the HTTP surfaces from one
// Config value, and Handler mounts every surface. The server command, the
// admin commands, the load harness and every HTTP test harness (apptest)
// reach the object graph only through this package, so production and
// tests run the same wiring.
package app

import (
	"context"

	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/esimd/esimd/internal/accounts"
	"github.com/esimd/esimd/internal/adminapi"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/catalogue/demodata"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/httpapi"
	"github.com/esimd/esimd/internal/idempotency"
	"github.com/esimd/esimd/internal/jobs"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/sandbox"
	"github.com/esimd/esimd/internal/store"
)

// Config is everything the application needs from the process. cmd/esimd
// builds it from flags and the environment; tests build it directly.
type Config struct {
	// DB is a SQLite file path or a postgres:// URL.
	DB string
	// Logger receives every log line; nil discards them.
	Logger *slog.Logger
	// Now is the wall clock; nil means time.Now. Sandbox organisations
	// keep their own test clocks on top of it.
	Now func() time.Time
	// SecretKey seals API keys for signing V3 callbacks (notify.LoadSecretKey);
	// nil leaves callbacks unsigned.
	SecretKey []byte
	// AdminToken turns on the admin API under /admin/v1 and guards
	// /metrics; "" leaves the admin API off and /metrics open.
	AdminToken string
	// RateLimit is tokens per second per client IP on the compatible API;
	// 0 switches the limit off. RateCosts replaces entries of the table of
	// tokens per endpoint (httpapi.ParseRateCosts reads them from text).
	RateLimit int
	RateCosts map[string]int
	// AllowPrivateCallbacks lets live organisations' callbacks reach
	// loopback and private addresses.
	AllowPrivateCallbacks bool
	// Catalogue is imported when the database has no catalogue yet; nil
	// imports the demo catalogue generated from the rate sheet.
	// NoSeedCatalogue starts with whatever the database holds.
	Catalogue       *catalogue.Data
	NoSeedCatalogue bool
	// DueInterval, DeliveryInterval and AutopilotInterval pace the
	// background workers (due work, callback delivery, sandbox
	// autopilot); zero means 1 s, 250 ms and 10 s.
	DueInterval, DeliveryInterval, AutopilotInterval time.Duration
	// NoMigrate opens the database without bringing its schema up to date
	// (esimd migrate does that itself and reports what it applied).
	NoMigrate bool
	// Tracing configures OpenTelemetry; the zero value turns it off.
	Tracing TracingConfig
	// Jitter is the random source of the callback retry jitter; nil seeds
	// one from the clock (tests fix it to get repeatable schedules).
	Jitter *rand.Rand
}

// App is the running application: the store, the services over it, the
// workers and the HTTP surfaces.
type App struct {
	cfg Config
	log *slog.Logger

	DB          *store.DB
	Orgs        *orgs.Service
	Accounts    *accounts.Service
	Catalogue   *catalogue.Service
	ESIMs       *esims.Service
	Orders      *orders.Service
	Notify      *notify.Service
	Sandbox     *sandbox.Service
	Idempotency *idempotency.Service
	// Jobs is the general job queue: kinds registered on it before Start
	// run on runners of their own.
	Jobs *jobs.Queue

	queued     []*jobs.Runner[*jobs.Lease]
	due        *esims.Worker
	deliveries *notify.Worker
	autopilot  *sandbox.AutopilotWorker
	metrics    *metrics
	tracing    *tracing
	handler    http.Handler
	started    Workers
}

// New opens (and migrates) the database, seeds the catalogue when it is
// empty, and builds every service, worker and handler. Nothing runs in the
// background until Start.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	a := &App{cfg: cfg, log: cfg.Logger}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if a.tracing, err = newTracing(ctx, cfg.Tracing); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.DB, err = store.Open(ctx, cfg.DB, a.log); err != nil {
		return nil, err
	}
	if !cfg.NoMigrate {
		if _, err := a.DB.Migrate(ctx); err != nil {
			return nil, err
		}
	}
	a.Orgs = orgs.NewService(a.DB, now)
	a.Catalogue = catalogue.NewService(a.DB, now)
	if err := a.Catalogue.Load(ctx); err != nil {
		return nil, err
	}
	if err := a.seedCatalogue(ctx); err != nil {
		return nil, err
	}
	a.metrics = newMetrics(a.DB, now)
	a.ESIMs = esims.NewService(esims.Config{Store: a.DB, Orgs: a.DB, Catalogue: a.Catalogue, Now: now,
		OnUsage: a.metrics.observeUsage})
	a.due = esims.NewWorker(a.ESIMs, orDefault(cfg.DueInterval, time.Second), a.log)
	a.Orders = orders.NewService(a.DB, a.ESIMs, a.Catalogue, now, a.due.Kick)
	a.Orders.OnPlaced(a.metrics.observeOrder)
	a.Notify = notify.New(notify.Config{Store: a.DB, Orgs: a.Orgs, Now: now, SecretKey: cfg.SecretKey,
		AllowPrivateCallbacks: cfg.AllowPrivateCallbacks, Logger: a.log, Observe: a.metrics.observeDelivery, Rand: cfg.Jitter})
	a.Accounts = accounts.NewService(a.DB, a.Orgs, a.Notify)
	a.Sandbox = sandbox.NewService(a.DB, a.ESIMs, a.Catalogue, now, a.Notify)
	a.Idempotency = idempotency.NewService(a.DB, now)
	a.Jobs = jobs.NewQueue(a.DB, now, a.log)
	a.deliveries = notify.NewWorker(a.Notify, orDefault(cfg.DeliveryInterval, 250*time.Millisecond), a.log)
	a.autopilot = sandbox.NewAutopilotWorker(a.Sandbox, orDefault(cfg.AutopilotInterval, 10*time.Second), a.log)
	tracer := a.tracing.tracer
	a.due.SetTracer(tracer)
	a.deliveries.SetTracer(tracer)
	a.Jobs.SetTracer(tracer)
	a.handler = a.buildHandler(now)
	return a, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (a *App) seedCatalogue(ctx context.Context) error {
	if a.cfg.NoSeedCatalogue || !a.Catalogue.Empty() {
		return nil
	}
	d := a.cfg.Catalogue
	if d == nil {
		demo, err := demodata.Load()
		if err != nil {
			return fmt.Errorf("load demo catalogue: %w", err)
		}
		d = &demo
	}
	if err := a.Catalogue.Import(ctx, *d); err != nil {
		return fmt.Errorf("import the catalogue: %w", err)
	}
	a.log.Info("imported the catalogue", "bundles", len(d.Bundles), "networks", len(d.Networks))
	return nil
}

// buildHandler mounts every surface: the compatible API under /v2…/v2.5
// with esimd's extensions (/esimd/v1, /sandbox/v1, /healthz, /docs,
// /openapi.yaml), the admin API under /admin/v1 and the metrics at
// /metrics.
func (a *App) buildHandler(now func() time.Time) http.Handler {
	api := httpapi.New(httpapi.Config{
		Orgs: a.Orgs, Catalogue: a.Catalogue, ESIMs: a.ESIMs, Orders: a.Orders, Logger: a.log,
		Idempotency: a.Idempotency, Sandbox: a.Sandbox, Notify: a.Notify,
		RateLimit: a.cfg.RateLimit, RateCosts: a.cfg.RateCosts, Now: now, Health: a.DB.Ping,
		Observer: a.metrics,
	})
	admin := adminapi.New(adminapi.Config{Token: a.cfg.AdminToken, Notify: a.Notify, Orgs: a.Orgs,
		Accounts: a.Accounts, ESIMs: a.ESIMs, Logger: a.log, Observer: a.metrics, Now: now})
	root := http.NewServeMux()
	root.Handle(adminapi.Prefix, admin.Handler())
	root.Handle("GET /metrics", a.metrics.handler(a.cfg.AdminToken))
	root.Handle("/", api.Handler())
	return a.tracing.wrap(root)
}

// Handler serves every surface of the application.
func (a *App) Handler() http.Handler { return a.handler }

// Registry is the Prometheus registry behind /metrics.
func (a *App) Registry() *prometheus.Registry { return a.metrics.reg }

// Workers selects background workers for StartWorkers.
type Workers uint8

// The background workers.
const (
	DueWork    Workers = 1 << iota // bundle expiry, lapse, asynchronous orders … of live organisations
	Deliveries                     // callback delivery and retries
	Autopilot                      // the sandbox autopilot
	QueuedJobs                     // the kinds registered on the general job queue

	AllWorkers = DueWork | Deliveries | Autopilot | QueuedJobs
)

// Start runs every background worker until Stop or ctx ends.
func (a *App) Start(ctx context.Context) { a.StartWorkers(ctx, AllWorkers) }

// StartWorkers runs the selected background workers (tests that look at
// the outbox run without deliveries, for example) until Stop or ctx ends.
func (a *App) StartWorkers(ctx context.Context, w Workers) {
	w &^= a.started
	if w&DueWork != 0 {
		a.due.Start(ctx)
	}
	if w&Deliveries != 0 {
		a.deliveries.Start(ctx)
	}
	if w&Autopilot != 0 {
		a.autopilot.Start(ctx)
	}
	if w&QueuedJobs != 0 {
		for _, kind := range a.Jobs.Kinds() {
			r, err := a.Jobs.Runner(kind, a.log)
			if err != nil {
				continue // registered a moment ago: cannot fail
			}
			r.Start(ctx)
			a.queued = append(a.queued, r)
		}
	}
	a.started |= w
}

// Stop ends the background workers and waits for the work in progress.
func (a *App) Stop() {
	for _, r := range a.queued {
		r.Stop()
	}
	a.queued = nil
	if a.started&Autopilot != 0 {
		a.autopilot.Stop()
	}
	if a.started&Deliveries != 0 {
		a.deliveries.Stop()
	}
	if a.started&DueWork != 0 {
		a.due.Stop()
	}
	a.started = 0
}

// KickDeliveries asks the callback delivery worker to look for due
// callbacks now rather than at its next tick.
func (a *App) KickDeliveries() { a.deliveries.Kick() }

// Close stops the workers and closes the database and the tracer.
func (a *App) Close() error {
	a.Stop()
	var err error
	if a.DB != nil {
		err = a.DB.Close()
	}
	if a.tracing != nil {
		a.tracing.shutdown(context.Background())
	}
	return err
}
