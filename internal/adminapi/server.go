// Package adminapi serves the operator's admin API under /admin/v1,
// outside the eSIM Go–compatible surface: callback settings, the delivery
// log, replays and test sends. routes.go lists every route; each handler
// parses, calls one service method and writes the answer or an error.
//
// Every request carries the operator admin token (ESIMD_ADMIN_TOKEN) as
// "Authorization: Bearer <token>", compared in constant time. Without a
// configured token the admin API is off and answers 403. Errors are
// {"message": …} with the status of their kind.
package adminapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/esimd/esimd/internal/accounts"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/jsondup"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/web"
	"github.com/esimd/esimd/internal/wiretext"
)

// MinTokenLength is the shortest operator admin token accepted: 32
// characters (e.g. openssl rand -hex 16 or longer), far past guessing
// within the failed-authentication throttle.
const MinTokenLength = 32

// ValidateToken checks an operator admin token before the admin API is
// served with it: "" (the admin API off) or at least MinTokenLength
// characters without surrounding spaces.
func ValidateToken(token string) error {
	if token == "" {
		return nil
	}
	if strings.TrimSpace(token) != token {
		return fmt.Errorf("the admin token (ESIMD_ADMIN_TOKEN) has leading or trailing spaces, which no Authorization header can carry; remove them")
	}
	if n := len(token); n < MinTokenLength {
		return fmt.Errorf("the admin token (ESIMD_ADMIN_TOKEN) is %d characters; it must be at least %d (generate one with: openssl rand -hex 32), or empty to turn the admin API off", n, MinTokenLength)
	}
	return nil
}

// Config is what the admin API needs from the process.
type Config struct {
	// Token is the operator admin token; "" turns the admin API off. Check
	// it with ValidateToken first.
	Token string
	// FailedAuthBurst is how many failed authentications one source
	// address may make before it is refused outright (0: 10), and
	// FailedAuthEvery how often it earns one more (0: 6 s, so 10 a minute).
	FailedAuthBurst int
	FailedAuthEvery time.Duration
	// Now is the wall clock of the throttle; nil means time.Now.
	Now    func() time.Time
	Notify *notify.Service
	// Orgs enables organisation management; ESIMs enables usage ingest.
	Orgs  *orgs.Service
	ESIMs *esims.Service
	// Accounts creates organisations and keys with their signing copies
	// sealed in the same transaction; nil turns organisation creation off.
	Accounts *accounts.Service
	Logger   *slog.Logger
	// Observer, when set, is told of every request and error (metrics).
	Observer web.Observer
}

// Server is the admin HTTP surface.
type Server struct {
	cfg      Config
	log      *slog.Logger
	token    [sha256.Size]byte // SHA-256 of the token, so comparisons take the same time for any length
	throttle *throttle
	errors   web.ErrorWriter
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger, token: sha256.Sum256([]byte(cfg.Token))}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.errors = web.ErrorWriter{Statuses: statusOf, Log: s.log, What: "admin request failed"}
	if cfg.Observer != nil {
		s.errors.Observe = func(k fault.Kind) { cfg.Observer.ObserveError("admin", k) }
	}
	burst, every, now := cfg.FailedAuthBurst, cfg.FailedAuthEvery, cfg.Now
	if burst <= 0 {
		burst = 10
	}
	if every <= 0 {
		every = 6 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	s.throttle = newThrottle(burst, every, now)
	return s
}

// Prefix is the path under which Handler serves; mount Handler there.
const Prefix = "/admin/"

// Handler returns the admin API handler for paths under Prefix.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	return web.Recover(s.log, web.RequestLog(s.log, web.Instrument(s.cfg.Observer, "admin", mux)))
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// admin wraps a handler: check the token, run, turn its error into
// {"message": …}.
func (s *Server) admin(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		wait, ok := s.throttle.take(ip)
		if !ok {
			// Refused before the token is looked at: a guesser learns
			// nothing until the address has earned another attempt.
			w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
			s.writeError(w, r, fault.E(fault.RateLimited, "too many failed admin authentications from your address; retry in %s", wait.Round(time.Second)))
			return
		}
		if err := s.authorise(r); err != nil {
			if fault.Is(err, fault.Unauthenticated) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="esimd admin"`)
			} else {
				s.throttle.refund(ip) // the admin API is off: nothing to guess
			}
			s.writeError(w, r, err)
			return
		}
		s.throttle.refund(ip)
		if err := wiretext.CheckQuery(r.URL.Query()); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authorise checks the operator admin token in constant time.
func (s *Server) authorise(r *http.Request) error {
	if s.cfg.Token == "" {
		return fault.Forbiddenf("admin API disabled: set ESIMD_ADMIN_TOKEN")
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
	if subtle.ConstantTimeCompare(sum[:], s.token[:]) != 1 || !ok {
		return fault.E(fault.Unauthenticated, "send the operator admin token as Authorization: Bearer <token>")
	}
	return nil
}

// statusOf is the one table from error kind to HTTP status for the admin
// API.
var statusOf = web.StatusTable{
	fault.Invalid:         http.StatusBadRequest,
	fault.NotFound:        http.StatusNotFound,
	fault.Forbidden:       http.StatusForbidden,
	fault.Unauthenticated: http.StatusUnauthorized,
	fault.Conflict:        http.StatusConflict,
	fault.Gone:            http.StatusGone,
	fault.Unavailable:     http.StatusServiceUnavailable,
	fault.RateLimited:     http.StatusTooManyRequests,
	fault.Internal:        http.StatusInternalServerError,
}

type messageBody = web.Message

// writeError writes {"message": …} with the kind's status and logs the
// error once (web.ErrorWriter).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.errors.Write(w, r, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) { web.WriteJSON(w, status, v) }

// maxBody caps admin request bodies.
const maxBody = 64 << 10

// decode reads a size-capped JSON object into v, rejecting unknown fields.
// An empty body leaves v as it is when optional.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	return decodeUpTo(w, r, v, optional, maxBody)
}

// decodeUpTo is decode with its own cap, for bodies that carry batches.
func decodeUpTo(w http.ResponseWriter, r *http.Request, v any, optional bool, limit int64) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fault.Invalidf("the request body is larger than %d bytes", limit)
		}
		return fault.Invalidf("the request body could not be read")
	}
	// Text that is not UTF-8 or holds U+0000 (organisation names, usage
	// record IDs) is refused here, the same on both engines.
	if err := wiretext.CheckJSON(b); err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if optional {
			return nil
		}
		return fault.Invalidf("the request body is empty; send a JSON object")
	}
	// encoding/json keeps the last of a repeated key, matching struct
	// fields in any letter case: refuse the body rather than guess.
	if d := jsondup.Find(b, true); d != nil {
		return fault.Invalidf("the request body gives the key %s twice; send each key once", d.Where())
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fault.Invalidf("the request body is not the expected JSON object: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// pathInt parses a positive integer path value.
func pathInt(r *http.Request, name, what string) (int64, error) {
	v := r.PathValue(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fault.Invalidf("%s must be a positive number, got %q", what, truncate(v, 40))
	}
	return n, nil
}

// queryInt parses an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fault.Invalidf("%s must be a non-negative number, got %q", name, truncate(v, 40))
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
