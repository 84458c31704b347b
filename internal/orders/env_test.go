package orders_test

import (
	"context"
	"sync"
	"testing"
	"time"

	_ "github.com/ncruces/go-sqlite3/driver" // a second, read-only view of the test database

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

const (
	MB = int64(1_000_000)
	GB = int64(1_000_000_000)
)

const day = 24 * time.Hour

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

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

// Bundles of the fixture catalogue and their prices.
const (
	b1GB = "esim_1GB_7D_GB_V2"  // 1.73
	b2GB = "esim_2GB_30D_GB_V2" // 3.2
	bUS  = "esim_1GB_7D_US_V2"  // 2.28, Profile 2
)

var price = map[string]money.Amount{b1GB: money.MustParse("1.73"), b2GB: money.MustParse("3.2"), bUS: money.MustParse("2.28")}

func fixtureCatalogue() catalogue.Data {
	b := func(name, desc, profile, country string, bytes int64, days int) catalogue.Bundle {
		return catalogue.Bundle{Name: name, Description: desc, Groups: []string{catalogue.GroupFixed}, Countries: []string{country},
			Roaming: []string{}, DataBytes: bytes, DurationDays: days, Autostart: true, Speeds: []string{"4G"}, Profile: profile,
			Price: price[name], BillingType: catalogue.BillingFixedCost,
			Allowances: []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: name, Amount: bytes}}}
	}
	return catalogue.Data{
		Currency: "USD",
		Countries: []catalogue.Country{
			{ISO: "GB", Name: "United Kingdom", Region: "Europe"}, {ISO: "US", Name: "United States", Region: "North America"},
		},
		Bundles: []catalogue.Bundle{
			b(b1GB, "eSIM, 1GB, 7 Days, United Kingdom, V2", "Profile 1", "GB", GB, 7),
			b(b2GB, "eSIM, 2GB, 30 Days, United Kingdom, V2", "Profile 1", "GB", 2*GB, 30),
			b(bUS, "eSIM, 1GB, 7 Days, United States, V2", "Profile 2", "US", GB, 7),
		},
	}
}

// env is the order use cases over a real SQLite file with a settable clock.
type env struct {
	t      testing.TB
	ctx    context.Context
	path   string
	db     *store.DB
	clock  *clock
	orgs   *orgs.Service
	cat    *catalogue.Service
	engine *esims.Service
	orders *orders.Service
	org    orgs.Organisation
	ro     *storetest.Raw
}

type envOptions struct {
	balance string // starting balance; "1000" when empty
	refunds bool
	live    bool
}

func newEnv(t testing.TB, opt envOptions) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, ctx: ctx, clock: &clock{t: t0}, path: storetest.DSN(t)}
	db := storetest.Open(t, e.path)
	e.db = db
	e.orgs = orgs.NewService(db, e.clock.Now)
	e.cat = catalogue.NewService(db, e.clock.Now)
	if err := e.cat.Import(ctx, fixtureCatalogue()); err != nil {
		t.Fatal(err)
	}
	e.engine = esims.NewService(esims.Config{Store: db, Orgs: db, Catalogue: e.cat, Now: e.clock.Now})
	e.orders = orders.NewService(db, e.engine, e.cat, e.clock.Now, nil)
	e.org = e.newOrg(opt)
	return e
}

func (e *env) newOrg(opt envOptions) orgs.Organisation {
	e.t.Helper()
	if opt.balance == "" {
		opt.balance = "1000"
	}
	o, _, err := e.orgs.Create(e.ctx, orgs.NewOrganisation{Name: "Acme", Currency: "USD", Sandbox: !opt.live,
		StartingBalance: money.MustParse(opt.balance), RefundsEnabled: opt.refunds})
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *env) balance() money.Amount {
	e.t.Helper()
	o, err := e.orgs.Get(e.ctx, e.org.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return o.Balance
}

func (e *env) ledger() []orgs.LedgerEntry {
	e.t.Helper()
	l, err := e.orgs.Ledger(e.ctx, e.org.ID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// place places an order that must succeed.
func (e *env) place(req orders.Request) orders.Placed {
	e.t.Helper()
	p, err := e.orders.Place(e.ctx, e.org.ID, req, "192.0.2.1")
	if err != nil {
		e.t.Fatalf("place %+v: %v", req, err)
	}
	return p
}

// buy stocks the inventory with one batch of n units of a bundle.
func (e *env) buy(bundle string, n int) orders.Batch {
	e.t.Helper()
	p := e.place(orders.Request{Type: "transaction", Lines: []orders.LineRequest{{Type: "bundle", Item: bundle, Quantity: n}}})
	bs := e.batches(bundle)
	for _, b := range bs {
		if b.OrderID == p.Order.ID {
			return b
		}
	}
	e.t.Fatalf("order %s made no batch", p.Order.Reference)
	return orders.Batch{}
}

// newESIM orders one bundle onto a new eSIM and returns the eSIM.
func (e *env) newESIM(bundle string) esims.ESIM {
	e.t.Helper()
	p := e.place(orders.Request{Type: "transaction", Assign: true, Lines: []orders.LineRequest{{Type: "bundle", Item: bundle, Quantity: 1}}})
	return p.ESIMs[0][0]
}

// batches lists the organisation's live batches of a bundle, oldest first.
func (e *env) batches(bundle string) []orders.Batch {
	e.t.Helper()
	bs, err := e.db.Batches(e.ctx, e.org.ID, bundle, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return bs
}

func (e *env) batch(id int64) orders.Batch {
	e.t.Helper()
	b, err := e.db.Batch(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) assignments(iccid string) []esims.Assignment {
	e.t.Helper()
	as, err := e.engine.Assignments(e.ctx, e.org.ID, iccid, true, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	// Assignments lists newest first; tests read oldest first.
	for i, j := 0, len(as)-1; i < j; i, j = i+1, j-1 {
		as[i], as[j] = as[j], as[i]
	}
	return as
}

func (e *env) history(iccid string) []string {
	e.t.Helper()
	hs, err := e.engine.History(e.ctx, e.org.ID, iccid)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, h := range hs {
		out = append(out, h.Name)
	}
	return out
}

// events returns the organisation's notifications of one kind.
func (e *env) events(kind string) []esims.Event {
	e.t.Helper()
	all, err := e.engine.Events(e.ctx, e.org.ID, 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []esims.Event
	for _, ev := range all {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// count runs a count query on a separate connection.
func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	if e.ro == nil {
		e.ro = storetest.OpenRaw(e.t, e.path)
	}
	return int(e.ro.Int(e.t, query, args...))
}

// snapshot is every table a use case may write, counted, and the balance.
type snapshot struct {
	Balance                                                   money.Amount
	Orders, Lines, Ledger, Batches, Units, ESIMs, Assignments int
	History, Events, Due                                      int
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	return snapshot{
		Balance: e.balance(),
		Orders:  e.count(`SELECT count(*) FROM orders`), Lines: e.count(`SELECT count(*) FROM order_lines`),
		Ledger: e.count(`SELECT count(*) FROM ledger_entries`), Batches: e.count(`SELECT count(*) FROM inventory_batches`),
		Units: e.count(`SELECT coalesce(sum(remaining), 0) FROM inventory_batches`), ESIMs: e.count(`SELECT count(*) FROM esims`),
		Assignments: e.count(`SELECT count(*) FROM assignments`), History: e.count(`SELECT count(*) FROM esim_history`),
		Events: e.count(`SELECT count(*) FROM events`), Due: e.count(`SELECT count(*) FROM due_work`),
	}
}

func wantKind(t testing.TB, err error, k fault.Kind) {
	t.Helper()
	if got := fault.KindOf(err); err == nil || got != k {
		t.Fatalf("error = %v (kind %v), want kind %v", err, got, k)
	}
}
