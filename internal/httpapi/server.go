// Package httpapi serves the eSIM Go–compatible API under every version
// prefix (/v2, /v2.1 … /v2.5). routes.go lists every route; each handler
// parses, calls one service method and writes the answer or an error.
package httpapi

import (
	"context"

	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/idempotency"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/sandbox"
	"github.com/esimd/esimd/internal/web"
	"github.com/esimd/esimd/internal/wiretext"
)

// Config is what the API needs from the process.
type Config struct {
	Orgs      *orgs.Service
	Catalogue *catalogue.Service
	ESIMs     *esims.Service
	Orders    *orders.Service
	// Idempotency enables the Idempotency-Key header on POSTs; nil turns it off.
	Idempotency *idempotency.Service
	// Sandbox enables /sandbox/v1 and injected faults; nil turns them off.
	Sandbox *sandbox.Service
	// Notify lets the sandbox show callbacks as delivered (bodies per
	// version, delivery state); nil shows the outbox only.
	Notify *notify.Service
	Logger *slog.Logger
	// RateLimit is the number of tokens per second each client IP may
	// spend; 0 switches rate limiting off.
	RateLimit int
	// RateCosts sets the tokens (X-Ratelimit-Cost) of endpoints named as
	// routes.go lists them, "GET /catalogue", over DefaultRateCosts; nil
	// keeps the defaults. ParseRateCosts reads an operator's setting.
	RateCosts map[string]int
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
	// Health reports whether the process can serve (database reachable).
	Health func(ctx context.Context) error
	// Observer, when set, is told of every request and error (metrics).
	Observer web.Observer
}

// Server is the HTTP surface.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	limiter *limiter
	costs   map[string]int // endpoint → tokens, where not 1
	encoded encodedCatalogueCache
	errors  web.ErrorWriter
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.RateLimit > 0 {
		s.limiter = newLimiter(cfg.RateLimit)
	}
	s.errors = web.ErrorWriter{Statuses: statusOf, Log: s.log}
	if cfg.Observer != nil {
		s.errors.Observe = func(k fault.Kind) { cfg.Observer.ObserveError("api", k) }
	}
	s.costs = DefaultRateCosts()
	known := knownEndpoints()
	for ep, cost := range cfg.RateCosts {
		if !known[ep] || cost < 1 {
			// ParseRateCosts refuses these; a Config built in code may not
			// have gone through it.
			s.log.Warn("rate cost ignored: not an endpoint, or below 1", "endpoint", ep, "cost", cost)
			continue
		}
		s.costs[ep] = cost
	}
	return s
}

// apiVersion is a version prefix as a number: 20 for /v2, 25 for /v2.5.
type apiVersion int

// extension marks esimd's own routes (sandbox controls, ledger), which sit
// outside the versioned surface.
const extension apiVersion = 0

var versions = []struct {
	prefix string
	v      apiVersion
}{{"/v2", 20}, {"/v2.1", 21}, {"/v2.2", 22}, {"/v2.3", 23}, {"/v2.4", 24}, {"/v2.5", 25}}

// request is what every handler gets: the parsed version and the caller.
type request struct {
	*http.Request
	version apiVersion
	org     orgs.Organisation
}

type handlerFunc func(w http.ResponseWriter, r *request) error

// Handler returns the whole HTTP handler with its middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	return web.Recover(s.log, web.RequestLog(s.log, web.Instrument(s.cfg.Observer, "api", mux)))
}

// api wraps a compatible-API handler: rate limit, authenticate, run, and
// turn its error into the eSIM Go error body.
func (s *Server) api(v apiVersion, cost int, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allow(w, r, cost) {
			return
		}
		org, err := s.authenticate(r)
		if err == nil {
			err = checkAllowList(r, &org)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		// Query parameters and path values are text from outside too: the
		// same rule as bodies (readBodyLimit), before any handler reads one.
		if err := checkURLText(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		req := &request{Request: r, version: v, org: org}
		if done, err := s.injectSandbox(w, req); done {
			if err != nil {
				s.writeError(w, r, err)
			}
			return
		}
		if err := s.idempotent(w, req, h); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// checkAllowList refuses a request from an address outside the
// organisation's IP allow-list (v2.5 "IP whitelisting", notes §1.2: 403),
// on every version prefix and on esimd's extensions alike: the list
// protects the keys, whichever route they are sent to.
func checkAllowList(r *http.Request, org *orgs.Organisation) error {
	if len(org.IPAllowList) == 0 {
		return nil
	}
	ip := clientIP(r)
	addr, err := netip.ParseAddr(ip)
	if err != nil || !org.AllowsIP(addr) {
		return fault.Forbiddenf("requests from %s are not on this organisation's IP allow-list; ask the operator to add the address", ip)
	}
	return nil
}

// checkURLText refuses a path or query parameter that holds U+0000 or is
// not UTF-8 (the customerRef filter, bundle names in paths, …).
func checkURLText(r *http.Request) error {
	if err := wiretext.Check("the path", r.URL.Path); err != nil {
		return err
	}
	return wiretext.CheckQuery(r.URL.Query())
}

// authenticate reads the key from X-API-Key (any letter case, as HTTP
// header names are) or from the api_key query parameter that v2.1 clients
// use.
func (s *Server) authenticate(r *http.Request) (orgs.Organisation, error) {
	key := r.Header.Get("X-API-Key")
	if key == "" {
		key = r.URL.Query().Get("api_key")
	}
	return s.cfg.Orgs.Authenticate(r.Context(), key)
}

// unknownRoute answers like eSIM Go's gateway does: 403 with a message.
func (s *Server) unknownRoute(w http.ResponseWriter, r *http.Request) {
	if !s.allow(w, r, 1) {
		return
	}
	s.writeError(w, r, fault.Forbiddenf("%s %s is not an endpoint of this API; see GET /openapi.yaml or the README for the routes", r.Method, r.URL.Path))
}

// statusOf is the one table from error kind to HTTP status for the
// compatible API.
var statusOf = web.StatusTable{
	fault.Invalid:         http.StatusBadRequest,
	fault.NotFound:        http.StatusBadRequest, // eSIM Go answers 400 for unknown bundles and orders
	fault.Forbidden:       http.StatusForbidden,
	fault.Unauthenticated: http.StatusForbidden, // eSIM Go answers 403, not 401
	fault.Conflict:        http.StatusConflict,
	fault.Gone:            http.StatusGone,
	fault.Unavailable:     http.StatusServiceUnavailable,
	fault.RateLimited:     http.StatusTooManyRequests,
	fault.Internal:        http.StatusInternalServerError,
}

// messageBody is the error body, {"message": …}.
type messageBody = web.Message

// writeError writes {"message": …} with the kind's status and logs the
// error once (web.ErrorWriter): 4xx at Warn, 5xx at Error, a poll of work
// still running at Info.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.errors.Write(w, r, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) { web.WriteJSON(w, status, v) }

func writeRaw(w http.ResponseWriter, status int, body []byte) { web.WriteRaw(w, status, body) }

func requestID(ctx context.Context) string { return web.RequestID(ctx) }

// clientIP is the peer address; esimd does not trust forwarding headers
// (a proxy in front should do its own limiting or be given a direct path).
func clientIP(r *http.Request) string { return web.PeerIP(r) }

// healthz answers 200 when the database answers, 503 otherwise.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Health != nil {
		if err := s.cfg.Health(r.Context()); err != nil {
			s.log.Error("health check failed", "error", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
