package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/idempotency"
)

// bufferedWriter holds a response until the transaction that produced it
// has committed: an answer must not reach the client, nor be stored, for a
// request whose writes could still be rolled back.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedWriter() *bufferedWriter { return &bufferedWriter{header: http.Header{}} }

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// answer is what the handler wrote; a handler that wrote nothing answered 200.
func (b *bufferedWriter) answer() idempotency.Answer {
	return idempotency.Answer{Status: max(b.status, http.StatusOK), Header: b.header, Body: b.body.Bytes()}
}

// rememberedHeaders are the response headers a replay repeats.
var rememberedHeaders = []string{"Content-Type", "Retry-After"}

// notKept carries an answer of 5xx out of the transaction it rolls back:
// answers of our failures are not remembered, so a retry runs again.
type notKept struct{ a idempotency.Answer }

func (notKept) Error() string { return "the request failed on the server; its answer is not kept" }

// errorStatus is the status writeError gives err.
func errorStatus(err error) int {
	if status, ok := statusOf[fault.KindOf(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// idempotent runs a POST at most once per Idempotency-Key: a retry with the
// same key and request gets the first answer (marked Idempotent-Replayed),
// the same key with another request gets 409. Answers of 5xx are not
// remembered, so a retry after our failure runs again.
//
// A route of the compatible API is one use case: it runs in one
// transaction with the claim of its key and its stored answer, so that no
// crash can leave an order charged without its answer, or a key claimed
// by a request that is gone. esimd's own POSTs (the sandbox controls) run
// due work and deliver callbacks over several transactions, so they hold
// their key by a lease instead (package idempotency).
func (s *Server) idempotent(w http.ResponseWriter, r *request, h handlerFunc) error {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || r.Method != http.MethodPost || s.cfg.Idempotency == nil {
		return h(w, r)
	}
	body, err := readBody(w, r.Request)
	if err != nil {
		return err
	}
	run := func(ctx context.Context) (idempotency.Answer, error) {
		// Afresh on every attempt: PostgreSQL runs a transaction that lost
		// a race again from the start.
		req := &request{Request: r.Request.WithContext(ctx), version: r.version, org: r.org}
		req.Body = io.NopCloser(bytes.NewReader(body))
		out := newBufferedWriter()
		if err := h(out, req); err != nil {
			if errorStatus(err) >= 500 {
				return idempotency.Answer{}, err
			}
			s.writeError(out, req.Request, err)
		}
		a := out.answer()
		if a.Status >= 500 {
			return idempotency.Answer{}, notKept{a}
		}
		return a, nil
	}
	do := s.cfg.Idempotency.Atomic
	if r.version == extension {
		do = s.cfg.Idempotency.Leased
	}
	a, replayed, err := do(r.Context(), r.org.ID, key, idempotency.Hash(r.Method, r.URL.RequestURI(), body), run)
	var failed notKept
	switch {
	case errors.As(err, &failed):
		a = failed.a
	case errors.Is(err, idempotency.ErrNotRemembered):
		s.log.Error("could not remember an idempotent answer; a retry runs again once its lease lapses",
			"request_id", requestID(r.Context()), "error", err)
	case err != nil:
		return err
	}
	if replayed {
		for _, k := range rememberedHeaders {
			if v := a.Header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		w.Header().Set("Idempotent-Replayed", "true")
	} else {
		for k, v := range a.Header {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
	return nil
}
