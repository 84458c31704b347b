package notify_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files with the bodies received now")

// t0 is when every test clock starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// secret is the server secret key of test services.
var secret = []byte("0123456789abcdef0123456789abcdef")

// clock is a settable wall clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is the delivery engine over a real SQLite file.
type env struct {
	t     testing.TB
	ctx   context.Context
	path  string
	db    *store.DB
	clock *clock
	orgs  *orgs.Service
	svc   *notify.Service
	cfg   notify.Config
}

type envOptions struct {
	// guarded leaves AllowPrivateCallbacks off, so live organisations
	// cannot call the loopback receivers.
	guarded bool
	// realClock uses time.Now (benchmarks).
	realClock bool
}

func newEnv(t testing.TB, opt envOptions) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, ctx: ctx, clock: &clock{t: t0}, path: storetest.DSN(t)}
	db := storetest.Open(t, e.path)
	e.db = db
	now := e.clock.Now
	if opt.realClock {
		now = time.Now
	}
	e.orgs = orgs.NewService(db, now)
	e.cfg = notify.Config{Store: db, Orgs: e.orgs, Now: now, SecretKey: secret, AllowPrivateCallbacks: !opt.guarded,
		AttemptTimeout: 2 * time.Second, Rand: rand.New(rand.NewPCG(1, 2))}
	e.svc = notify.New(e.cfg)
	return e
}

// restart returns a new Service over the same database, as after a
// process restart.
func (e *env) restart() *notify.Service {
	e.cfg.Rand = rand.New(rand.NewPCG(3, 4))
	e.svc = notify.New(e.cfg)
	return e.svc
}

// org creates an organisation whose first API key is sealed for signing
// and returns it with the key.
func (e *env) org(name string, sandbox bool, url, version string) (orgs.Organisation, string) {
	e.t.Helper()
	o, key, err := e.orgs.Create(e.ctx, orgs.NewOrganisation{Name: name, Currency: "USD", Sandbox: sandbox,
		StartingBalance: money.MustParse("100"), CallbackURL: url, CallbackVersion: version})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.SealSigningKey(e.ctx, o.ID, key); err != nil {
		e.t.Fatal(err)
	}
	return o, key
}

// event writes a notification to the outbox as the engine does.
func (e *env) event(org orgs.ID, iccid string, payload events.Payload) int64 {
	e.t.Helper()
	ev := esims.Event{OrgID: org, ICCID: iccid, Kind: payload.Kind(), Payload: payload, At: e.clock.Now()}
	if err := e.db.AddEvent(e.ctx, &ev); err != nil {
		e.t.Fatal(err)
	}
	return ev.ID
}

// simple writes a FirstAttachment of an ICCID.
func (e *env) simple(org orgs.ID, iccid string) int64 {
	return e.event(org, iccid, events.FirstAttachment{AlertType: events.KindFirstAttachment, ICCID: iccid})
}

func (e *env) deliver(org orgs.ID) {
	e.t.Helper()
	if err := e.svc.DeliverDue(e.ctx, org); err != nil {
		e.t.Fatalf("DeliverDue: %v", err)
	}
}

func (e *env) state(org orgs.ID, id int64) notify.EventState {
	e.t.Helper()
	st, err := e.svc.Event(e.ctx, org, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (e *env) log(org orgs.ID, eventID int64) []notify.Attempt {
	e.t.Helper()
	as, err := e.svc.Deliveries(e.ctx, org, notify.AttemptQuery{EventID: eventID})
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
	At     time.Time
}

// eventID is the request's X-Esimd-Event-Id.
func (r received) eventID() string { return r.Header.Get("X-Esimd-Event-Id") }

// iccid is the body's iccid, "" for organisation-level bodies.
func (r received) iccid() string {
	var b struct {
		ICCID string `json:"iccid"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.ICCID
}

// receiver is a real HTTP endpoint that records what it gets and answers
// what respond says (200 when respond is nil).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	respond func(n int, r *http.Request, w http.ResponseWriter) // n counts from 1
	arrived chan struct{}
}

func newReceiver(t testing.TB, respond func(n int, r *http.Request, w http.ResponseWriter)) *receiver {
	rc := &receiver{respond: respond, arrived: make(chan struct{}, 1<<16)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Header: r.Header.Clone(), Body: body, At: time.Now()})
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, r, w)
		} else {
			w.WriteHeader(http.StatusOK)
		}
		select {
		case rc.arrived <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// waitFor waits until the receiver got n requests.
func (rc *receiver) waitFor(t testing.TB, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for rc.count() < n {
		select {
		case <-rc.arrived:
		case <-deadline:
			t.Fatalf("receiver got %d requests within %s, want %d", rc.count(), within, n)
		}
	}
}

func wantKind(t testing.TB, err error, k fault.Kind) {
	t.Helper()
	if got := fault.KindOf(err); err == nil || got != k {
		t.Fatalf("error = %v (kind %v), want kind %v", err, got, k)
	}
}
