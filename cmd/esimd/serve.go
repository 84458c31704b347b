package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/esimd/esimd/internal/adminapi"
	"github.com/esimd/esimd/internal/catalogue/demodata"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/httpapi"
	"github.com/esimd/esimd/internal/idempotency"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/sandbox"
)

func (e env) serve(ctx context.Context, args []string) error {
	var c common
	fs := e.flags("serve", &c)
	addr := fs.String("addr", e.envOr("ESIMD_ADDR", "localhost:8080"), "address to listen on (env ESIMD_ADDR)")
	rateLimit := fs.Int("rate-limit", envInt(e, "ESIMD_RATE_LIMIT", 10), "requests (tokens) per second per client IP; 0 switches the limit off (env ESIMD_RATE_LIMIT)")
	balance := fs.String("sandbox-balance", e.envOr("ESIMD_SANDBOX_BALANCE", "1000"), "starting balance of the sandbox organisation created on first start (env ESIMD_SANDBOX_BALANCE)")
	logFormat := fs.String("log-format", e.envOr("ESIMD_LOG_FORMAT", "text"), "log format: text or json (env ESIMD_LOG_FORMAT)")
	adminToken := fs.String("admin-token", e.envOr("ESIMD_ADMIN_TOKEN", ""), "operator token for the admin API under /admin/v1; empty turns it off (env ESIMD_ADMIN_TOKEN)")
	allowPrivate := fs.Bool("allow-private-callbacks", e.allowPrivateCallbacks(), "let live organisations' callbacks reach loopback and private addresses (env ESIMD_ALLOW_PRIVATE_CALLBACKS)")
	if err := e.parse(fs, args); err != nil {
		return err
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
	a, err := open(ctx, c.db, log)
	if err != nil {
		return err
	}
	defer a.Close()
	secret, err := e.secretKey(c.db, log)
	if err != nil {
		return err
	}
	callbacks := newNotify(a, secret, *allowPrivate, log)

	if a.catalogue.Empty() {
		d, err := demodata.Load()
		if err != nil {
			return fmt.Errorf("load demo catalogue: %w", err)
		}
		if err := a.catalogue.Import(ctx, d); err != nil {
			return fmt.Errorf("import demo catalogue: %w", err)
		}
		log.Info("imported the demo catalogue", "bundles", len(d.Bundles), "networks", len(d.Networks))
	}
	if err := e.bootstrap(ctx, a, startBalance, callbacks); err != nil {
		return err
	}

	sb := sandbox.NewService(a.db, a.esims, a.catalogue, time.Now, callbacks)
	autopilot := sandbox.NewAutopilotWorker(sb, 10*time.Second, log)
	srv := httpapi.New(httpapi.Config{
		Orgs: a.orgs, Catalogue: a.catalogue, ESIMs: a.esims, Orders: a.orders, Logger: log,
		Idempotency: idempotency.NewService(a.db, time.Now),
		Sandbox:     sb,
		Notify:      callbacks,
		RateLimit:   *rateLimit, Health: a.db.Ping,
	})
	a.worker.Start(ctx)
	defer a.worker.Stop()
	autopilot.Start(ctx)
	defer autopilot.Stop()
	deliveries := notify.NewWorker(callbacks, 250*time.Millisecond, log)
	deliveries.Start(ctx)
	defer deliveries.Stop()
	root := http.NewServeMux()
	root.Handle(adminapi.Prefix, adminapi.New(adminapi.Config{Token: *adminToken, Notify: callbacks, Orgs: a.orgs, ESIMs: a.esims, Logger: log}).Handler())
	root.Handle("/", srv.Handler())
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	hs := &http.Server{
		Handler:           root,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          nil,
	}
	fmt.Fprintf(e.stdout, "esimd listening on http://%s (database %s); API reference at http://%s/docs\n", ln.Addr(), c.db, ln.Addr())
	log.Info("listening", "addr", ln.Addr().String(), "db", c.db, "rate_limit", *rateLimit)

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
func (e env) bootstrap(ctx context.Context, a *app, startBalance money.Amount, callbacks *notify.Service) error {
	fixed := e.getenv("ESIMD_BOOTSTRAP_API_KEY")
	list, err := a.orgs.List(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		o, key, err := a.orgs.Create(ctx, orgs.NewOrganisation{
			Name: "Sandbox", Currency: "USD", Sandbox: true, StartingBalance: startBalance,
			RefundsEnabled: true, APIKey: fixed, KeyLabel: "bootstrap",
		})
		if err != nil {
			return fmt.Errorf("create the sandbox organisation: %w", userError(err))
		}
		e.sealKey(ctx, callbacks, o.ID, key)
		fmt.Fprintf(e.stdout, "created sandbox organisation %d %q with balance %s %s\n", o.ID, o.Name, o.Balance, o.Currency)
		fmt.Fprintf(e.stdout, "API key: %s\n", key)
		fmt.Fprintln(e.stdout, "(shown once; it is stored only as a hash)")
		return nil
	}
	if fixed == "" {
		return nil
	}
	if o, err := a.orgs.Authenticate(ctx, fixed); err == nil {
		e.sealKey(ctx, callbacks, o.ID, fixed) // a key from before callback signing gets its sealed copy
		return nil
	} else if !fault.Is(err, fault.Unauthenticated) {
		return err
	}
	first := list[0]
	if _, err := a.orgs.AddAPIKey(ctx, first.ID, fixed, "bootstrap"); err != nil {
		return fmt.Errorf("add ESIMD_BOOTSTRAP_API_KEY to organisation %d: %w", first.ID, userError(err))
	}
	e.sealKey(ctx, callbacks, first.ID, fixed)
	fmt.Fprintf(e.stdout, "ESIMD_BOOTSTRAP_API_KEY now authenticates organisation %d %q\n", first.ID, first.Name)
	return nil
}

func envInt(e env, key string, def int) int {
	if v := e.getenv(key); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		return -1 // rejected with a clear message after parsing
	}
	return def
}
