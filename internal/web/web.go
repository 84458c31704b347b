// Package web is the HTTP kit every surface of esimd shares: JSON bodies,
// {"message": …} errors, panic recovery, request IDs, the access log and
// the metrics middleware. Each surface keeps its own table from error kind
// to status (the compatible API answers 403 where the admin API answers
// 401), so the kit takes that table as a value rather than owning one.
package web

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

	"github.com/esimd/esimd/internal/fault"
)

// Message is the error body of every esimd surface: one sentence that says
// what to fix.
type Message struct {
	Message string `json:"message"`
}

// WriteJSON encodes v and writes it with status and an exact
// Content-Length. It encodes as encoding/json.Marshal does, which is what
// the compatible API's golden files hold.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here; failing to encode one is a bug.
		http.Error(w, `{"message":"Internal server error: could not encode the response."}`, http.StatusInternalServerError)
		return
	}
	WriteRaw(w, status, b)
}

// WriteRaw writes an already encoded JSON body.
func WriteRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// StatusTable maps error kinds to HTTP statuses for one surface.
type StatusTable map[fault.Kind]int

// Status is the status of err's kind; kinds missing from the table are 500.
func (t StatusTable) Status(err error) int {
	if s, ok := t[fault.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorWriter writes {"message": …} errors for one surface and logs each
// once: 4xx at Warn, 5xx at Error, errors whose Expected method says so
// (a poll of work still running) at Info, a client's own cancellation at
// Debug (nothing failed on our side and nobody reads the answer).
type ErrorWriter struct {
	Statuses StatusTable
	Log      *slog.Logger
	// What names the surface in log lines ("request failed", "admin request failed").
	What string
	// Observe, when set, is told the kind of every error written (metrics).
	Observe func(kind fault.Kind)
}

// Write answers err.
func (ew ErrorWriter) Write(w http.ResponseWriter, r *http.Request, err error) {
	if fault.Cancelled(r.Context(), err) {
		ew.Log.Debug("request cancelled by the client", "request_id", RequestID(r.Context()), "method", r.Method, "path", r.URL.Path)
		return
	}
	kind := fault.KindOf(err)
	status := ew.Statuses.Status(err)
	level := slog.LevelWarn
	var expected interface{ Expected() bool }
	switch {
	case errors.As(err, &expected) && expected.Expected():
		level = slog.LevelInfo // an answer the protocol expects, such as "still processing"
	case status >= 500:
		level = slog.LevelError
	}
	what := ew.What
	if what == "" {
		what = "request failed"
	}
	// The peer, never a credential: refused admin attempts are logged
	// with their source, not with the token they tried.
	ew.Log.Log(r.Context(), level, what, "request_id", RequestID(r.Context()),
		"method", r.Method, "path", r.URL.Path, "remote", PeerIP(r), "status", status, "kind", kind.String(), "error", err.Error())
	if ew.Observe != nil {
		ew.Observe(kind)
	}
	if kind == fault.Unavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	WriteJSON(w, status, Message{Message: fault.MessageOf(err)})
}

// PeerIP is the address the request came from. esimd trusts no forwarding
// header: a proxy in front does its own limiting or is given a direct path.
func PeerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Recover turns a panic into a logged 500 with the usual body, so that no
// panic reaches a client. http.ErrAbortHandler keeps its meaning.
func Recover(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic serving request", "request_id", RequestID(r.Context()), "method", r.Method,
					"path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				WriteJSON(w, http.StatusInternalServerError, Message{Message: fault.MessageOf(errors.New("panic"))})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	routeSlotKey
)

// WithRouteSlot returns a context in which Instrument, further in, records
// the route pattern that served the request, for a wrapper outside the
// surfaces' muxes (the tracer names its spans by it).
func WithRouteSlot(ctx context.Context) (context.Context, *string) {
	slot := new(string)
	return context.WithValue(ctx, routeSlotKey, slot), slot
}

// RequestID is the ID that RequestLog gave the request in ctx ("" outside one).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// RequestLog gives every request an ID (kept from X-Request-Id when the
// caller sends a sane one, so IDs follow a request across proxies), echoes
// it, and logs one access line at Debug. A request that already has an ID
// (an outer RequestLog ran) keeps it.
func RequestLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if RequestID(r.Context()) != "" {
			next.ServeHTTP(w, r)
			return
		}
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		if !log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &StatusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		log.Debug("request", "request_id", id, "method", r.Method, "path", r.URL.Path,
			"status", rec.Code(), "duration", time.Since(start))
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

// StatusRecorder remembers the status a handler wrote.
type StatusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status.
func (r *StatusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *StatusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Code is the status written, 200 when the handler wrote nothing.
func (r *StatusRecorder) Code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Unwrap lets http.ResponseController reach the connection.
func (r *StatusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Observer is told what each surface answers; the application feeds it
// into its metrics.
type Observer interface {
	// ObserveRequest is called once per request with the route pattern
	// that served it ("GET /v2.5/esims/{iccid}"), so label values stay few.
	ObserveRequest(surface, route string, status int, d time.Duration)
	// ObserveError is called once per error answer with its kind.
	ObserveError(surface string, kind fault.Kind)
}

// Instrument reports every request that mux serves to o under surface. It
// must wrap the ServeMux itself: the mux records the matched pattern on the
// request it was given, which is the one Instrument reads afterwards. A nil
// o returns mux unchanged.
func Instrument(o Observer, surface string, mux http.Handler) http.Handler {
	if o == nil {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &StatusRecorder{ResponseWriter: w}
		mux.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if slot, ok := r.Context().Value(routeSlotKey).(*string); ok {
			*slot = route
		}
		o.ObserveRequest(surface, route, rec.Code(), time.Since(start))
	})
}
