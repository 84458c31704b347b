package httpapi

import (
	"bytes"
	"io"
	"net/http"

	"github.com/esimd/esimd/internal/idempotency"
)

// recorder passes a response through and keeps a copy to remember.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// rememberedHeaders are the response headers a replay repeats.
var rememberedHeaders = []string{"Content-Type", "Retry-After"}

// idempotent runs a POST at most once per Idempotency-Key: a retry with the
// same key and request gets the first answer (marked Idempotent-Replayed),
// the same key with another request gets 409. Answers of 5xx are not
// remembered, so a retry after our failure runs again.
func (s *Server) idempotent(w http.ResponseWriter, r *request, h handlerFunc) error {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || r.Method != http.MethodPost || s.cfg.Idempotency == nil {
		return h(w, r)
	}
	body, err := readBody(w, r.Request)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec, err := s.cfg.Idempotency.Begin(r.Context(), r.org.ID, key, idempotency.Hash(r.Method, r.URL.RequestURI(), body))
	if err != nil {
		return err
	}
	if rec != nil {
		for _, k := range rememberedHeaders {
			if v := rec.Header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(rec.Status)
		_, _ = w.Write(rec.Body)
		return nil
	}
	out := &recorder{ResponseWriter: w}
	if err := h(out, r); err != nil {
		s.writeError(out, r.Request, err)
	}
	if out.status >= 500 || out.status == 0 {
		return s.cfg.Idempotency.Release(r.Context(), r.org.ID, key)
	}
	header := http.Header{}
	for _, k := range rememberedHeaders {
		if v := w.Header().Get(k); v != "" {
			header.Set(k, v)
		}
	}
	if err := s.cfg.Idempotency.Finish(r.Context(), r.org.ID, key, out.status, header, out.body.Bytes()); err != nil {
		s.log.Error("could not remember an idempotent answer; a retry will get 409 until the key expires",
			"request_id", requestID(r.Context()), "error", err)
	}
	return nil
}
