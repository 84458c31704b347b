package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/esimd/esimd/internal/adminapi"
	"github.com/esimd/esimd/internal/app"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/httpapi"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
)

func (e env) serve(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("serve", &c)
	addr := fs.String("addr", "localhost:8080", "`address` to listen on")
	e.fromEnv(fs, "addr", "ESIMD_ADDR")
	rateLimit := fs.Int("rate-limit", 10, "`requests` (tokens) per second per client IP; 0 switches the limit off")
	e.fromEnv(fs, "rate-limit", "ESIMD_RATE_LIMIT")
	balance := fs.String("sandbox-balance", "1000", "starting `balance` of the sandbox organisation created on first start")
	e.fromEnv(fs, "sandbox-balance", "ESIMD_SANDBOX_BALANCE")
	logFormat := fs.String("log-format", "text", "log `format`: text or json")
	e.fromEnv(fs, "log-format", "ESIMD_LOG_FORMAT")
	adminToken := fs.String("admin-token", "", "operator `token` for the admin API under /admin/v1; empty turns it off")
	e.fromEnv(fs, "admin-token", "ESIMD_ADMIN_TOKEN")
	allowPrivate := fs.Bool("allow-private-callbacks", false, "let live organisations' callbacks reach loopback and private addresses")
	e.fromEnv(fs, "allow-private-callbacks", "ESIMD_ALLOW_PRIVATE_CALLBACKS")
	rateCosts := fs.String("rate-costs", "", "tokens an endpoint costs, replacing the defaults: `pairs` such as \"GET /catalogue=2,POST /orders=3\"")
	e.fromEnv(fs, "rate-costs", "ESIMD_RATE_COSTS")
	otlpEndpoint := fs.String("otlp-endpoint", "", "OpenTelemetry OTLP/HTTP `collector` for traces (host:port or URL); empty turns tracing off")
	e.fromEnv(fs, "otlp-endpoint", "ESIMD_OTLP_ENDPOINT")
	otlpInsecure := fs.Bool("otlp-insecure", false, "send traces to the collector over plain HTTP")
	e.fromEnv(fs, "otlp-insecure", "ESIMD_OTLP_INSECURE")
	traceRatio := fs.Float64("trace-sample-ratio", 1, "share of new traces recorded, 0 to 1")
	e.fromEnv(fs, "trace-sample-ratio", "ESIMD_TRACE_SAMPLE_RATIO")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	costs, err := httpapi.ParseRateCosts(*rateCosts)
	if err != nil {
		return fmt.Errorf("%w: --rate-costs: %v", errUsage, userError(err))
	}
	if *otlpEndpoint == "" {
		*otlpEndpoint = e.getenv("OTEL_EXPORTER_OTLP_ENDPOINT") // the SDK's own variable, as a fallback
	}
	if *traceRatio < 0 || *traceRatio > 1 {
		return fmt.Errorf("%w: --trace-sample-ratio must be between 0 and 1, got %v", errUsage, *traceRatio)
	}
	if *rateLimit < 0 {
		return fmt.Errorf("%w: --rate-limit must be 0 (off) or more, got %d", errUsage, *rateLimit)
	}
	if err := adminapi.ValidateToken(*adminToken); err != nil {
		return fmt.Errorf("%w: --admin-token: %v", errUsage, err)
	}
	startBalance, err := money.Parse(*balance)
	if err != nil || startBalance < 0 {
		return fmt.Errorf("%w: --sandbox-balance %q must be a non-negative decimal amount", errUsage, *balance)
	}
	log, err := e.logger(c, *logFormat)
	if err != nil {
		return err
	}
	secret, err := e.secretKey(c.db, log)
	if err != nil {
		return err
	}
	// Bind before anything is created: a first run whose port is taken
	// must not create the sandbox organisation and print its only key on
	// the way to failing.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another with --addr or ESIMD_ADDR)", *addr, err)
	}
	defer ln.Close()
	a, err := app.New(ctx, app.Config{
		DB: c.db, Logger: log, SecretKey: secret, AdminToken: *adminToken, RateLimit: *rateLimit, RateCosts: costs,
		AllowPrivateCallbacks: *allowPrivate,
		Tracing:               app.TracingConfig{Endpoint: *otlpEndpoint, Insecure: *otlpInsecure, SampleRatio: *traceRatio},
	})
	if err != nil {
		return err
	}
	defer a.Close()
	if err := e.bootstrap(ctx, a, startBalance); err != nil {
		return err
	}
	a.Start(ctx)
	defer a.Stop()
	hs := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          nil,
	}
	fmt.Fprintf(e.stdout, "esimd listening on http://%s (database %s); API reference at http://%s/docs\n", ln.Addr(), store.RedactDSN(c.db), ln.Addr())
	log.Info("listening", "addr", ln.Addr().String(), "db", store.RedactDSN(c.db), "rate_limit", *rateLimit, "tracing", *otlpEndpoint != "")

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// bootstrap creates the sandbox organisation on first start and prints its
// key. ESIMD_BOOTSTRAP_API_KEY fixes that key; on later starts the same
// variable makes sure the key still works for the first organisation, so a
// script can always use it.
func (e env) bootstrap(ctx context.Context, a *app.App, startBalance money.Amount) error {
	fixed := e.getenv("ESIMD_BOOTSTRAP_API_KEY")
	list, err := a.Orgs.List(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		o, issued, err := a.Accounts.CreateOrganisation(ctx, orgs.NewOrganisation{
			Name: "Sandbox", Currency: "USD", Sandbox: true, StartingBalance: startBalance,
			RefundsEnabled: true, APIKey: fixed, KeyLabel: "bootstrap",
		})
		if err != nil {
			return fmt.Errorf("create the sandbox organisation: %w", userError(err))
		}
		e.warnUnsealed(o.ID, issued)
		fmt.Fprintf(e.stdout, "created sandbox organisation %d %q with balance %s %s\n", o.ID, o.Name, o.Balance, o.Currency)
		fmt.Fprintf(e.stdout, "API key: %s\n", issued.Secret)
		fmt.Fprintln(e.stdout, "(shown once; it is stored only as a hash)")
		return nil
	}
	if fixed == "" {
		first := list[0]
		keys, err := a.Orgs.APIKeys(ctx, first.ID)
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			fmt.Fprintf(e.stdout, "organisation %d %q has no API key: create one with  esimd apikey create %d\n", first.ID, first.Name, first.ID)
		} else {
			fmt.Fprintf(e.stdout, "lost the API key printed on the first start? create another with  esimd apikey create %d\n", first.ID)
		}
		return nil
	}
	if o, err := a.Orgs.Authenticate(ctx, fixed); err == nil {
		// A key from before callback signing gets its sealed copy.
		issued, err := a.Accounts.AddKey(ctx, o.ID, fixed, "bootstrap")
		if err != nil {
			fmt.Fprintf(e.stderr, "warning: callbacks of organisation %d cannot be signed with this key: %v\n", o.ID, userError(err))
		} else {
			e.warnUnsealed(o.ID, issued)
		}
		return nil
	} else if !fault.Is(err, fault.Unauthenticated) {
		return err
	}
	first := list[0]
	issued, err := a.Accounts.AddKey(ctx, first.ID, fixed, "bootstrap")
	if err != nil {
		return fmt.Errorf("add ESIMD_BOOTSTRAP_API_KEY to organisation %d: %w", first.ID, userError(err))
	}
	e.warnUnsealed(first.ID, issued)
	fmt.Fprintf(e.stdout, "ESIMD_BOOTSTRAP_API_KEY now authenticates organisation %d %q\n", first.ID, first.Name)
	return nil
}
