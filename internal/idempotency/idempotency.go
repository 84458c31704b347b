// Package idempotency makes retried POSTs safe: a request sent again with
// the same Idempotency-Key and the same body gets the first answer again
// instead of being executed twice (esimd's extension; eSIM Go has none).
//
// A key must never stay "still being processed" after the request holding
// it died: a retry gets the first answer or runs afresh, never a stuck key
// and never a second charge. Two ways get there:
//
//   - Atomic, for a request that is one use case in one transaction (an
//     order, a top-up, an apply): the claim of the key, the use case and
//     the stored answer are one database transaction. Nothing of the
//     request is visible before it commits, so a crash at any point leaves
//     either everything (a retry replays the answer) or nothing (a retry
//     runs afresh). A concurrent retry waits for the first to commit.
//   - Leased, for a request made of several transactions (a sandbox clock
//     advance that runs due work and delivers callbacks): the claim is a
//     lease that its holder renews while it runs. A retry finding the lease
//     lapsed and no answer takes the key over and runs afresh.
package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// Lease is how long a leased claim holds a key without renewal; its holder
// renews it every Lease/3 while the request runs, so a key whose holder
// died is free again at most Lease after the last renewal.
const Lease = 30 * time.Second

// Answer is what a request answered.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Record is a remembered key.
type Record struct {
	RequestHash string
	Holder      string    // the request holding the claim
	Status      int       // 0 while the claim's request is still running
	LeaseUntil  time.Time // when a claim without an answer lapses
	Header      http.Header
	Body        []byte
}

// ErrHeld is what ClaimIdempotencyKey returns for a key another request
// holds or has answered.
var ErrHeld = errors.New("idempotency: the key is held by another request")

// ErrNotRemembered is what Leased returns with a valid answer that it could
// not store: the answer still goes to the client, and a retry runs afresh
// once the lease has lapsed.
var ErrNotRemembered = errors.New("idempotency: the answer could not be stored")

// Store keeps keys per organisation.
type Store interface {
	// InRequestTx runs fn in one write transaction in which every use case
	// fn calls runs in its own savepoint: a use case that fails leaves
	// nothing, as in a transaction of its own, and what succeeded commits
	// with fn's other writes, or not at all.
	InRequestTx(ctx context.Context, fn func(ctx context.Context) error) error
	// IdempotencyKey returns the record of a key unexpired at now.
	// Errors: NotFound.
	IdempotencyKey(ctx context.Context, org orgs.ID, key string, now time.Time) (Record, error)
	// ClaimIdempotencyKey records key as claimed by holder until
	// leaseUntil, replacing a record that expired or whose claim lapsed
	// without an answer. Errors: ErrHeld when another record holds the key.
	ClaimIdempotencyKey(ctx context.Context, org orgs.ID, key, hash, holder string, now, leaseUntil, expires time.Time) error
	// RenewIdempotencyLease extends holder's claim. Errors: ErrHeld when
	// holder no longer holds it.
	RenewIdempotencyLease(ctx context.Context, org orgs.ID, key, holder string, leaseUntil time.Time) error
	// FinishIdempotencyKey stores the answer of holder's request. Errors:
	// ErrHeld when holder no longer holds the key.
	FinishIdempotencyKey(ctx context.Context, org orgs.ID, key, holder string, a Answer) error
	// ReleaseIdempotencyKey forgets holder's claim.
	ReleaseIdempotencyKey(ctx context.Context, org orgs.ID, key, holder string) error
}

// Service runs requests at most once per key.
type Service struct {
	store Store
	now   func() time.Time
	lease time.Duration
}

// NewService returns a Service.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now, lease: Lease}
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

// Run is a request to run at most once. It returns the answer to keep; an
// error means nothing of the request may be kept (a failure on our side),
// and a transaction it ran in is rolled back.
type Run func(ctx context.Context) (Answer, error)

// maxRounds bounds how often a request finding its key held looks again:
// the holder committed (a replay follows) or rolled back (this request
// claims the key), unless yet another request claimed it meanwhile.
const maxRounds = 5

// Atomic runs a request that is one use case at most once per key, in one
// transaction with its claim and its answer. It returns the answer and
// whether it is a replay of the first. Errors: Conflict when the key was
// used with another request or is held by a leased request still running;
// run's error, after which nothing of run is kept.
func (s *Service) Atomic(ctx context.Context, org orgs.ID, key, hash string, run Run) (Answer, bool, error) {
	if err := CheckKey(key); err != nil {
		return Answer{}, false, err
	}
	for range maxRounds {
		if a, ok, err := s.lookup(ctx, org, key, hash); err != nil || ok {
			return a, ok, err
		}
		var out Answer
		err := s.store.InRequestTx(ctx, func(ctx context.Context) error {
			now := s.now()
			// The claim is the transaction's first write: a concurrent
			// request with the key waits for this one to end (on the
			// unique key) before it has done any work.
			if err := s.store.ClaimIdempotencyKey(ctx, org, key, hash, "", now, now, now.Add(TTL)); err != nil {
				return err
			}
			a, err := run(ctx)
			if err != nil {
				return err
			}
			out = a
			return s.store.FinishIdempotencyKey(ctx, org, key, "", a)
		})
		if errors.Is(err, ErrHeld) {
			continue // committed or rolled back by now: look again
		}
		return out, false, err
	}
	return Answer{}, false, s.stillRunning(key)
}

// Leased runs a request made of several transactions at most once per key
// while its claim lives: run executes outside any transaction, its claim
// renewed until it returns. A retry after the holder died without an
// answer runs afresh once the lease lapsed. Errors: Conflict as for
// Atomic; run's error, after which the key is released; ErrNotRemembered
// with the answer to send.
func (s *Service) Leased(ctx context.Context, org orgs.ID, key, hash string, run Run) (Answer, bool, error) {
	if err := CheckKey(key); err != nil {
		return Answer{}, false, err
	}
	holder := newHolder()
	for round := 0; ; round++ {
		if a, ok, err := s.lookup(ctx, org, key, hash); err != nil || ok {
			return a, ok, err
		}
		now := s.now()
		err := s.store.InRequestTx(ctx, func(ctx context.Context) error {
			return s.store.ClaimIdempotencyKey(ctx, org, key, hash, holder, now, now.Add(s.lease), now.Add(TTL))
		})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrHeld) || round == maxRounds {
			return Answer{}, false, err
		}
	}
	stop := s.renew(ctx, org, key, holder)
	answered := false
	defer func() {
		stop()
		if !answered { // an error or a panic: a failure of ours, which a retry runs again
			_ = s.store.ReleaseIdempotencyKey(context.WithoutCancel(ctx), org, key, holder) // if this fails, the lease lapses
		}
	}()
	a, err := run(ctx)
	if err != nil {
		return Answer{}, false, err
	}
	answered = true
	stop() // no renewal may follow the answer
	if err := s.store.FinishIdempotencyKey(context.WithoutCancel(ctx), org, key, holder, a); err != nil {
		return a, false, fmt.Errorf("%w: %w", ErrNotRemembered, err)
	}
	return a, false, nil
}

// renew keeps holder's lease alive until the returned stop is called.
func (s *Service) renew(ctx context.Context, org orgs.ID, key, holder string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(s.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				// A failed renewal is not fatal: the claim lives until
				// its lease lapses, and the next tick tries again.
				_ = s.store.RenewIdempotencyLease(context.WithoutCancel(ctx), org, key, holder, s.now().Add(s.lease))
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}

// lookup returns the answer to replay for key, if it has one. Errors:
// Conflict for another request's key or a live claim without an answer.
func (s *Service) lookup(ctx context.Context, org orgs.ID, key, hash string) (Answer, bool, error) {
	now := s.now()
	rec, err := s.store.IdempotencyKey(ctx, org, key, now)
	if fault.Is(err, fault.NotFound) {
		return Answer{}, false, nil
	}
	if err != nil {
		return Answer{}, false, err
	}
	switch {
	case rec.RequestHash != hash:
		return Answer{}, false, fault.Conflictf("Idempotency-Key %q was already used with a different request (method, path or body); use a new key for a new request", key)
	case rec.Status != 0:
		return Answer{Status: rec.Status, Header: rec.Header, Body: rec.Body}, true, nil
	case rec.LeaseUntil.After(now):
		return Answer{}, false, s.stillRunning(key)
	}
	return Answer{}, false, nil // a lapsed claim: the caller takes it over
}

func (s *Service) stillRunning(key string) error {
	return fault.Conflictf("a request with Idempotency-Key %q is still being processed; retry within %s to get its answer", key, s.lease)
}

func newHolder() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
