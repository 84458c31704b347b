package esims_test

import (
	"context"
	"strconv"
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

// Sizes in bytes, base 10 as the catalogue counts them.
const (
	kB = int64(1_000)
	MB = int64(1_000_000)
	GB = int64(1_000_000_000)
)

// t0 is when every test environment's clock starts.
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

// Bundle names of the fixture catalogue.
const (
	b1GB     = "esim_1GB_7D_GB_V2"
	b2GB     = "esim_2GB_30D_GB_V2"
	bFR      = "esim_1GB_7D_FR_V2"
	bUL      = "esim_UL_1D_GB_V2"
	bBig     = "esim_1000GB_90D_GB_V2"
	bProfile = "esim_1GB_7D_US_V2" // on Profile 2, so incompatible with the others
)

func fixtureCatalogue() catalogue.Data {
	b := func(name, desc, profile, price, country string, bytes int64, days int) catalogue.Bundle {
		return catalogue.Bundle{Name: name, Description: desc, Groups: []string{catalogue.GroupFixed}, Countries: []string{country},
			Roaming: []string{}, DataBytes: bytes, DurationDays: days, Autostart: true, Speeds: []string{"4G"}, Profile: profile,
			Price: money.MustParse(price), BillingType: catalogue.BillingFixedCost,
			Allowances: []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: name, Amount: bytes}}}
	}
	ul := b(bUL, "eSIM, Unlimited Lite, 1 Day, United Kingdom, V2", "Profile 1", "6.9", "GB", 0, 1)
	ul.Groups, ul.Unlimited, ul.DailyHighSpeedBytes, ul.ThrottleKbps = []string{catalogue.GroupUnlimitedLite}, true, GB, 512
	ul.Allowances = []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: bUL, Unlimited: true}}
	return catalogue.Data{
		Currency: "USD",
		Countries: []catalogue.Country{
			{ISO: "FR", Name: "France", Region: "Europe"}, {ISO: "GB", Name: "United Kingdom", Region: "Europe"},
			{ISO: "US", Name: "United States", Region: "North America"},
		},
		Bundles: []catalogue.Bundle{
			b(b1GB, "eSIM, 1GB, 7 Days, United Kingdom, V2", "Profile 1", "1.73", "GB", 1*GB, 7),
			b(b2GB, "eSIM, 2GB, 30 Days, United Kingdom, V2", "Profile 1", "3.2", "GB", 2*GB, 30),
			b(bFR, "eSIM, 1GB, 7 Days, France, V2", "Profile 1", "1.9", "FR", 1*GB, 7),
			b(bBig, "eSIM, 1000GB, 90 Days, United Kingdom, V2", "Profile 1", "900", "GB", 1000*GB, 90),
			b(bProfile, "eSIM, 1GB, 7 Days, United States, V2", "Profile 2", "2.28", "US", 1*GB, 7),
			ul,
		},
		Networks: []catalogue.Network{
			{CountryISO: "GB", Profile: "Profile 1", Name: "EE Limited", Brand: "EE", MCC: "234", MNC: "30", TADIG: "GBRME", Speeds: []string{"4G"}},
			{CountryISO: "FR", Profile: "Profile 1", Name: "Orange France", Brand: "Orange", MCC: "208", MNC: "01", TADIG: "FRAF1", Speeds: []string{"4G"}},
		},
	}
}

// env is the engine over a real SQLite file with a settable clock and one
// sandbox organisation.
type env struct {
	t      testing.TB
	ctx    context.Context
	path   string
	db     *store.DB
	clock  *clock
	orgs   *orgs.Service
	cat    *catalogue.Service
	engine *esims.Service
	org    orgs.Organisation
	// orderID is an order row the engine's assignments can point at (the
	// schema requires one; the orders package is tested on its own).
	orderID int64
	refs    int
	ro      *storetest.Raw
}

func newEnv(t testing.TB) *env {
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
	e.org = e.newOrg(true)
	return e
}

// newOrg creates an organisation with an order row for its assignments.
func (e *env) newOrg(sandbox bool) orgs.Organisation {
	e.t.Helper()
	o, _, err := e.orgs.Create(e.ctx, orgs.NewOrganisation{Name: "Acme", Currency: "USD", Sandbox: sandbox, StartingBalance: money.MustParse("100")})
	if err != nil {
		e.t.Fatal(err)
	}
	if e.orderID == 0 {
		ord := orders.Order{OrgID: o.ID, Reference: "00000000-0000-4000-8000-000000000000", Kind: orders.KindOrder,
			Status: orders.StatusCompleted, Assigned: true, Currency: "USD", CreatedAt: e.clock.Now()}
		if err := e.db.InsertOrder(e.ctx, &ord); err != nil {
			e.t.Fatal(err)
		}
		e.orderID = ord.ID
	}
	return o
}

// currentOrg re-reads the organisation (its balance and clock).
func (e *env) currentOrg() orgs.Organisation {
	e.t.Helper()
	o, err := e.orgs.Get(e.ctx, e.org.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// provision makes n eSIMs for the environment's organisation.
func (e *env) provision(n int) []esims.ESIM {
	e.t.Helper()
	var out []esims.ESIM
	o := e.currentOrg()
	err := e.db.InTx(e.ctx, func(ctx context.Context) error {
		var err error
		out, err = e.engine.Provision(ctx, &o, "Profile 1", n, "")
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// installed provisions an eSIM and installs it on a device.
func (e *env) installed() esims.ESIM {
	e.t.Helper()
	s := e.provision(1)[0]
	got, err := e.engine.SetProfileStatus(e.ctx, e.org.ID, s.ICCID, esims.ProfileInstalled, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// assign applies a catalogue bundle to an eSIM in its own transaction.
func (e *env) assign(iccid, bundle string) esims.Assignment {
	e.t.Helper()
	a, err := e.tryAssign(iccid, bundle)
	if err != nil {
		e.t.Fatalf("assign %s to %s: %v", bundle, iccid, err)
	}
	return a
}

func (e *env) tryAssign(iccid, bundle string) (esims.Assignment, error) {
	b, ok := e.cat.Current(e.ctx).Bundle(bundle)
	if !ok {
		e.t.Fatalf("bundle %s is not in the fixture", bundle)
	}
	var a esims.Assignment
	err := e.db.InTx(e.ctx, func(ctx context.Context) error {
		o, err := e.db.Organisation(ctx, e.org.ID)
		if err != nil {
			return err
		}
		s, err := e.engine.Get(ctx, e.org.ID, iccid)
		if err != nil {
			return err
		}
		e.refs++
		a, err = e.engine.Assign(ctx, &o, &s, &b, e.orderID, "00000000-0000-4000-8000-000000000000-"+strconv.Itoa(e.refs), b.Price, nil)
		return err
	})
	return a, err
}

// use applies a usage record in Great Britain at the organisation's now.
func (e *env) use(iccid string, bytes int64) esims.UsageResult {
	e.t.Helper()
	res, err := e.engine.ApplyUsage(e.ctx, esims.UsageRecord{Org: e.org.ID, ICCID: iccid, Bytes: bytes, Network: esims.Registration{Country: "GB"}})
	if err != nil {
		e.t.Fatalf("usage of %d bytes on %s: %v", bytes, iccid, err)
	}
	return res
}

// advance moves the clock on and runs the organisation's due work.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	e.clock.Advance(d)
	if _, err := e.engine.RunDue(e.ctx, e.org.ID); err != nil {
		e.t.Fatalf("RunDue: %v", err)
	}
}

// assignments returns an eSIM's assignments, oldest first.
func (e *env) assignments(iccid string) []esims.Assignment {
	e.t.Helper()
	s, err := e.engine.Get(e.ctx, e.org.ID, iccid)
	if err != nil {
		e.t.Fatal(err)
	}
	as, err := e.db.AssignmentsOfESIM(e.ctx, s.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

func (e *env) assignment(id int64) esims.Assignment {
	e.t.Helper()
	a, err := e.db.Assignment(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) esim(iccid string) esims.ESIM {
	e.t.Helper()
	s, err := e.engine.Get(e.ctx, e.org.ID, iccid)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// events returns the organisation's notifications of the given kinds (all
// when none are given), oldest first.
func (e *env) events(kinds ...string) []esims.Event {
	e.t.Helper()
	all, err := e.engine.Events(e.ctx, e.org.ID, 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(kinds) == 0 {
		return all
	}
	var out []esims.Event
	for _, ev := range all {
		for _, k := range kinds {
			if ev.Kind == k {
				out = append(out, ev)
			}
		}
	}
	return out
}

// historyNames returns the names of an eSIM's history entries (with the
// alert type after a colon when there is one).
func (e *env) historyNames(iccid string) []string {
	e.t.Helper()
	hs, err := e.engine.History(e.ctx, e.org.ID, iccid)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		n := h.Name
		if h.AlertType != "" {
			n += ": " + h.AlertType
		}
		out = append(out, n)
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

// wantKind fails unless err has kind k.
func wantKind(t testing.TB, err error, k fault.Kind) {
	t.Helper()
	if got := fault.KindOf(err); err == nil || got != k {
		t.Fatalf("error = %v (kind %v), want kind %v", err, got, k)
	}
}
