// Package idempotency makes retried POSTs safe: a request sent again with
// the same Idempotency-Key and the same body gets the first answer again
// instead of being executed twice (esimd's extension; eSIM Go has none).
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// Record is a remembered answer.
type Record struct {
	RequestHash string
	Status      int // 0 while the first request is still running
	Header      http.Header
	Body        []byte
}

// Store keeps keys per organisation.
type Store interface {
	// ClaimIdempotencyKey records key as in progress for the request hash,
	// unless an unexpired record exists, which it returns instead.
	ClaimIdempotencyKey(ctx context.Context, org orgs.ID, key, hash string, now time.Time, expires time.Time) (*Record, error)
	FinishIdempotencyKey(ctx context.Context, org orgs.ID, key string, status int, header http.Header, body []byte) error
	ReleaseIdempotencyKey(ctx context.Context, org orgs.ID, key string) error
}

// Service runs requests at most once per key.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// Hash identifies a request: method, path with query, and body.
func Hash(method, uri string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(uri))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// CheckKey validates a key: 1 to 255 printable ASCII characters.
func CheckKey(key string) error {
	if len(key) == 0 || len(key) > 255 {
		return fault.Invalidf("Idempotency-Key must be 1 to 255 characters, got %d", len(key))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return fault.Invalidf("Idempotency-Key may contain only printable ASCII characters without spaces")
		}
	}
	return nil
}

// Begin claims a key. It returns a record to replay when the same request
// was answered before; nil when the caller should run the request and then
// call Finish (or Release on failure). Errors: Conflict when the key was
// used with another request or the first request is still running.
func (s *Service) Begin(ctx context.Context, org orgs.ID, key, hash string) (*Record, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	now := s.now()
	rec, err := s.store.ClaimIdempotencyKey(ctx, org, key, hash, now, now.Add(TTL))
	if err != nil || rec == nil {
		return nil, err
	}
	switch {
	case rec.RequestHash != hash:
		return nil, fault.Conflictf("Idempotency-Key %q was already used with a different request (method, path or body); use a new key for a new request", key)
	case rec.Status == 0:
		return nil, fault.Conflictf("a request with Idempotency-Key %q is still being processed; retry in a moment to get its answer", key)
	}
	return rec, nil
}

// Finish remembers the answer of a request that ran.
func (s *Service) Finish(ctx context.Context, org orgs.ID, key string, status int, header http.Header, body []byte) error {
	return s.store.FinishIdempotencyKey(context.WithoutCancel(ctx), org, key, status, header, body)
}

// Release forgets a key whose request failed on our side (5xx), so that a
// retry runs it again.
func (s *Service) Release(ctx context.Context, org orgs.ID, key string) error {
	return s.store.ReleaseIdempotencyKey(context.WithoutCancel(ctx), org, key)
}
