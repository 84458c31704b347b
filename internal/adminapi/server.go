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
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/jsondup"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

// Config is what the admin API needs from the process.
type Config struct {
	// Token is the operator admin token; "" turns the admin API off.
	Token  string
	Notify *notify.Service
	// Orgs enables organisation management; ESIMs enables usage ingest.
	Orgs   *orgs.Service
	ESIMs  *esims.Service
	Logger *slog.Logger
}

// Server is the admin HTTP surface.
type Server struct {
	cfg   Config
	log   *slog.Logger
	token [sha256.Size]byte // SHA-256 of the token, so comparisons take the same time for any length
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger, token: sha256.Sum256([]byte(cfg.Token))}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Prefix is the path under which Handler serves; mount Handler there.
const Prefix = "/admin/"

// Handler returns the admin API handler for paths under Prefix.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	return s.recoverer(mux)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// admin wraps a handler: check the token, run, turn its error into
// {"message": …}.
func (s *Server) admin(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.authorise(r); err != nil {
			if fault.Is(err, fault.Unauthenticated) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="esimd admin"`)
			}
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
var statusOf = map[fault.Kind]int{
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

type messageBody struct {
	Message string `json:"message"`
}

// writeError writes {"message": …} with the kind's status and logs the
// error once: 4xx at Warn, 5xx at Error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := fault.KindOf(err)
	status, ok := statusOf[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "admin request failed", "method", r.Method, "path", r.URL.Path,
		"status", status, "kind", kind.String(), "error", err.Error())
	writeJSON(w, status, messageBody{Message: fault.MessageOf(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"message":"Internal server error: could not encode the response."}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// recoverer turns a panic into a logged 500.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving admin request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				writeJSON(w, http.StatusInternalServerError, messageBody{Message: fault.MessageOf(errors.New("panic"))})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

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
