package orders_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/idempotency"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
)

// errDied stands for the process dying: a panic ends the request wherever
// it is, and what it had not committed is gone, as after kill -9.
var errDied = errors.New("the process died here")

// answerWriteFails is the store with a disk that refuses the stored answer.
type answerWriteFails struct{ *store.DB }

func (answerWriteFails) FinishIdempotencyKey(context.Context, orgs.ID, string, string, idempotency.Answer) error {
	return errors.New("disk I/O error: database or disk is full")
}

// TestIdempotentOrderSurvivesDeathAtEveryStep abandons an idempotent order
// at every point between its steps (claim of the key, the order's commit,
// the stored answer, the answer reaching the client), then retries it
// with the same key: the retry gets the first answer or a fresh run, the
// organisation is charged exactly once, and the key is never stuck.
func TestIdempotentOrderSurvivesDeathAtEveryStep(t *testing.T) {
	req := orders.Request{Type: "transaction", Assign: true, Lines: []orders.LineRequest{{Type: orders.LineBundle, Item: b1GB, Quantity: 1}}}
	for _, tc := range []struct {
		name string
		// first runs the first attempt and leaves what its death leaves.
		first func(e *env, svc *idempotency.Service, place idempotency.Run)
		// replayed: the retry gets the first attempt's answer.
		replayed bool
	}{
		{name: "after the claim, before the order", first: func(e *env, svc *idempotency.Service, place idempotency.Run) {
			dies(e.t, func() {
				svc.Atomic(e.ctx, e.org.ID, "k", "h", func(ctx context.Context) (idempotency.Answer, error) { panic(errDied) })
			})
		}},
		{name: "after the order's writes, before its commit", first: func(e *env, svc *idempotency.Service, place idempotency.Run) {
			dies(e.t, func() {
				svc.Atomic(e.ctx, e.org.ID, "k", "h", func(ctx context.Context) (idempotency.Answer, error) {
					if _, err := place(ctx); err != nil {
						e.t.Fatal(err)
					}
					panic(errDied)
				})
			})
		}},
		{name: "the stored answer cannot be written", first: func(e *env, _ *idempotency.Service, place idempotency.Run) {
			full := idempotency.NewService(answerWriteFails{e.db}, e.clock.Now)
			if _, _, err := full.Atomic(e.ctx, e.org.ID, "k", "h", place); err == nil {
				e.t.Fatal("the order succeeded although its answer could not be stored")
			}
		}},
		{name: "after the commit, before the client heard the answer", replayed: true, first: func(e *env, svc *idempotency.Service, place idempotency.Run) {
			if _, _, err := svc.Atomic(e.ctx, e.org.ID, "k", "h", place); err != nil {
				e.t.Fatal(err)
			}
		}},
		{name: "a claim left by a holder that died (before leases)", first: func(e *env, _ *idempotency.Service, _ idempotency.Run) {
			now := e.clock.Now()
			if err := e.db.ClaimIdempotencyKey(e.ctx, e.org.ID, "k", "h", "", now, time.Unix(0, 0), now.Add(idempotency.TTL)); err != nil {
				e.t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			svc := idempotency.NewService(e.db, e.clock.Now)
			var placed []string // references of the orders that committed with their answer or not
			place := func(ctx context.Context) (idempotency.Answer, error) {
				p, err := e.orders.Place(ctx, e.org.ID, req, "192.0.2.1")
				if err != nil {
					return idempotency.Answer{}, err
				}
				placed = append(placed, p.Order.Reference)
				return idempotency.Answer{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte(p.Order.Reference)}, nil
			}
			before := e.balance()
			tc.first(e, svc, place)

			a, replayed, err := svc.Atomic(e.ctx, e.org.ID, "k", "h", place)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if replayed != tc.replayed {
				t.Errorf("retry replayed = %v, want %v", replayed, tc.replayed)
			}
			again, replayed, err := svc.Atomic(e.ctx, e.org.ID, "k", "h", place)
			if err != nil || !replayed || !cmp.Equal(again, a) {
				t.Errorf("second retry: %+v replayed %v, %v; want the replay of %+v", again, replayed, err, a)
			}
			list, total, err := e.orders.List(e.ctx, e.org.ID, orders.Query{Page: 1, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if total != 1 || string(a.Body) != list[0].Reference {
				t.Fatalf("%d orders committed; the answer names %s (placed %v)", total, a.Body, placed)
			}
			debits := 0
			for _, l := range e.ledger() {
				if l.Kind == orgs.LedgerOrder {
					debits++
					if l.Reference != list[0].Reference {
						t.Errorf("debit for %s, not the committed order %s", l.Reference, list[0].Reference)
					}
				}
			}
			if got, want := e.balance(), before-price[b1GB]; debits != 1 || got != want {
				t.Errorf("%d debits, balance %s; want 1 debit and %s", debits, got, want)
			}
		})
	}
}

// TestLeasedKeyIsTakenOverWhenItsHolderDied: a sandbox control holds its
// key by a lease. While the holder lives a retry is told to wait; once the
// lease lapsed without an answer the retry runs afresh, and a holder that
// comes back late cannot overwrite the new answer.
func TestLeasedKeyIsTakenOverWhenItsHolderDied(t *testing.T) {
	e := newEnv(t, envOptions{})
	svc := idempotency.NewService(e.db, e.clock.Now)
	now := e.clock.Now()
	if err := e.db.ClaimIdempotencyKey(e.ctx, e.org.ID, "k", "h", "dead", now, now.Add(idempotency.Lease), now.Add(idempotency.TTL)); err != nil {
		t.Fatal(err)
	}
	runs := 0
	run := func(ctx context.Context) (idempotency.Answer, error) {
		runs++
		return idempotency.Answer{Status: 200, Header: http.Header{}, Body: []byte("advanced")}, nil
	}
	_, _, err := svc.Leased(e.ctx, e.org.ID, "k", "h", run)
	if fault.KindOf(err) != fault.Conflict || !strings.Contains(fault.MessageOf(err), "still being processed") || runs != 0 {
		t.Fatalf("retry while the holder's lease lives: %v after %d runs; want 409 still being processed", err, runs)
	}
	e.clock.Advance(idempotency.Lease)
	a, replayed, err := svc.Leased(e.ctx, e.org.ID, "k", "h", run)
	if err != nil || replayed || runs != 1 || string(a.Body) != "advanced" {
		t.Fatalf("retry after the lease lapsed: %q replayed %v, %v after %d runs; want a fresh run", a.Body, replayed, err, runs)
	}
	if err := e.db.FinishIdempotencyKey(e.ctx, e.org.ID, "k", "dead", idempotency.Answer{Status: 500}); !errors.Is(err, idempotency.ErrHeld) {
		t.Errorf("the dead holder's late answer: %v, want ErrHeld", err)
	}
	if a, replayed, err := svc.Leased(e.ctx, e.org.ID, "k", "h", run); err != nil || !replayed || string(a.Body) != "advanced" || runs != 1 {
		t.Errorf("retry after the answer: %q replayed %v, %v after %d runs; want the replay", a.Body, replayed, err, runs)
	}
}

// TestAtomicKeyUsedConcurrently: requests racing with one key run the use
// case once; the others wait for it and replay its answer.
func TestAtomicKeyUsedConcurrently(t *testing.T) {
	e := newEnv(t, envOptions{})
	svc := idempotency.NewService(e.db, e.clock.Now)
	req := orders.Request{Type: "transaction", Assign: false, Lines: []orders.LineRequest{{Type: orders.LineBundle, Item: b1GB, Quantity: 1}}}
	place := func(ctx context.Context) (idempotency.Answer, error) {
		p, err := e.orders.Place(ctx, e.org.ID, req, "192.0.2.1")
		if err != nil {
			return idempotency.Answer{}, err
		}
		return idempotency.Answer{Status: 200, Header: http.Header{}, Body: []byte(p.Order.Reference)}, nil
	}
	before := e.balance()
	const n = 8
	answers := make(chan string, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			a, _, err := svc.Atomic(e.ctx, e.org.ID, "race", "h", place)
			errs <- err
			answers <- string(a.Body)
		}()
	}
	seen := map[string]int{}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
		seen[<-answers]++
	}
	if len(seen) != 1 {
		t.Errorf("answers %v: want one order's reference %d times", seen, n)
	}
	if got, want := e.balance(), before-price[b1GB]; got != want {
		t.Errorf("balance %s, want %s (one charge)", got, want)
	}
}

// dies runs fn, which must die (panic with errDied).
func dies(t testing.TB, fn func()) {
	t.Helper()
	defer func() {
		if p := recover(); p != errDied {
			t.Fatalf("recovered %v, want the simulated death", p)
		}
	}()
	fn()
}
