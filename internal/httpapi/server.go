// Package httpapi serves the eSIM Go–compatible API under every version
// prefix (/v2, /v2.1 … /v2.5). routes.go lists every route; each handler
// parses, calls one service method and writes the answer or an error.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/idempotency"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/sandbox"
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
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
	// Health reports whether the process can serve (database reachable).
	Health func(ctx context.Context) error
}

// Server is the HTTP surface.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	limiter *limiter
	encoded encodedCatalogueCache
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

type ctxKey int

const requestIDKey ctxKey = iota

// Handler returns the whole HTTP handler with its middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	return s.recoverer(s.requestLog(mux))
}

// api wraps a compatible-API handler: rate limit, authenticate, run, and
// turn its error into the eSIM Go error body.
func (s *Server) api(v apiVersion, cost int, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allow(w, r, cost) {
			return
		}
		org, err := s.authenticate(r)
		if err != nil {
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
var statusOf = map[fault.Kind]int{
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

type messageBody struct {
	Message string `json:"message"`
}

// writeError writes {"message": …} with the kind's status and logs the
// error once: 4xx at Warn, 5xx at Error, a poll of work still running at
// Info.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		// The client went away: nothing failed on our side and nobody reads
		// the answer.
		s.log.Debug("request cancelled by the client", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path)
		return
	}
	kind := fault.KindOf(err)
	status, ok := statusOf[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	level := slog.LevelWarn
	var p poll
	switch {
	case errors.As(err, &p):
		level = slog.LevelInfo
	case status >= 500:
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "request failed", "request_id", requestID(r.Context()),
		"method", r.Method, "path", r.URL.Path, "status", status, "kind", kind.String(), "error", err.Error())
	if kind == fault.Unavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, messageBody{Message: fault.MessageOf(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here; failing to encode one is a bug.
		http.Error(w, `{"message":"Internal server error: could not encode the response."}`, http.StatusInternalServerError)
		return
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// recoverer turns a panic into a logged 500 so that no panic reaches a client.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "request_id", requestID(r.Context()), "method", r.Method,
					"path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				writeJSON(w, http.StatusInternalServerError, messageBody{Message: fault.MessageOf(errors.New("panic"))})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// requestLog gives every request an ID (kept from X-Request-Id when the
// caller sends a sane one), echoes it, and logs one line at Debug.
func (s *Server) requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.Debug("request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "duration", time.Since(start))
		}
	})
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// clientIP is the peer address; esimd does not trust forwarding headers
// (a proxy in front should do its own limiting or be given a direct path).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

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
