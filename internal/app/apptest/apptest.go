// Package apptest is the one harness for esimd's HTTP tests: the real
// application (internal/app) over a fresh database of the engine under test
// (storetest: a SQLite file, or a PostgreSQL schema when
// ESIMD_TEST_POSTGRES is set), served by an httptest server, with a
// settable wall clock, a small fixture catalogue and, optionally, an
// organisation to call it as. Every package's HTTP tests build on it, so
// they exercise exactly the wiring that esimd serve runs.
package apptest

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/app"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/storetest"
)

// Well-known secrets of the harness; they never leave a test.
const (
	AdminToken = "esimd-test-admin-token-0123456789abcdef"
	// SecretKey seals API keys for signing callbacks.
	SecretKey = "0123456789abcdef0123456789abcdef"
)

// Start is where every harness clock starts.
var Start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Clock is a settable wall clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Options shape one harness.
type Options struct {
	// Catalogue is imported into the new database; nil means Fixture().
	Catalogue *catalogue.Data
	// Org, when set, is created (with its first key) before the server
	// answers; Env.Org and Env.Key are then that organisation and key.
	Org *orgs.NewOrganisation
	// AdminToken is the operator token; "" means AdminToken. Set NoAdmin
	// to run with the admin API off.
	AdminToken string
	NoAdmin    bool
	// RateLimit is tokens per second per client IP; 0 is off. RateCosts
	// replaces entries of the table of tokens per endpoint.
	RateLimit int
	RateCosts map[string]int
	// Workers are started with fast intervals (20 ms) and stopped when
	// the test ends; 0 starts none (the tests drive due work themselves).
	Workers app.Workers
	// DSN reopens an existing database (a restarted node); "" makes a new one.
	DSN string
	// Clock is the wall clock; nil makes one at Start. RealClock runs on
	// time.Now instead (Env.Clock is then nil).
	Clock     *Clock
	RealClock bool
	// Jitter fixes the callback retry jitter (app.Config.Jitter).
	Jitter *rand.Rand
	// Logger receives the application's log lines; nil discards them.
	Logger *slog.Logger
}

// Env is one running application.
type Env struct {
	App    *app.App
	Server *httptest.Server
	URL    string
	DSN    string
	Clock  *Clock
	// AdminToken is the operator token the admin API takes ("" when off).
	AdminToken string
	// Org and Key are Options.Org once created, and its first key in clear.
	Org orgs.Organisation
	Key string
}

// New starts the application over a fresh database and serves it; both
// end with the test.
func New(tb testing.TB, opt Options) *Env {
	tb.Helper()
	ctx := context.Background()
	e := &Env{Clock: opt.Clock, DSN: opt.DSN}
	if e.Clock == nil && !opt.RealClock {
		e.Clock = NewClock(Start)
	}
	now := time.Now
	if e.Clock != nil {
		now = e.Clock.Now
	}
	if e.DSN == "" {
		e.DSN = storetest.DSN(tb)
	}
	if !opt.NoAdmin {
		e.AdminToken = opt.AdminToken
		if e.AdminToken == "" {
			e.AdminToken = AdminToken
		}
	}
	data := opt.Catalogue
	if data == nil {
		f := Fixture()
		data = &f
	}
	a, err := app.New(ctx, app.Config{
		DB: e.DSN, Now: now, SecretKey: []byte(SecretKey), AdminToken: e.AdminToken,
		RateLimit: opt.RateLimit, RateCosts: opt.RateCosts, Catalogue: data, Jitter: opt.Jitter, Logger: opt.Logger,
		DueInterval: 20 * time.Millisecond, DeliveryInterval: 20 * time.Millisecond, AutopilotInterval: 20 * time.Millisecond,
	})
	if err != nil {
		tb.Fatal(err)
	}
	e.App = a
	tb.Cleanup(func() { a.Close() })
	if opt.Org != nil {
		o, issued, err := a.Accounts.CreateOrganisation(ctx, *opt.Org)
		if err != nil {
			tb.Fatal(err)
		}
		e.Org, e.Key = o, issued.Secret
	}
	if opt.Workers != 0 {
		a.StartWorkers(ctx, opt.Workers)
		tb.Cleanup(a.Stop)
	}
	e.Server = httptest.NewServer(a.Handler())
	tb.Cleanup(e.Server.Close)
	e.URL = e.Server.URL
	return e
}

// CreateOrg makes another organisation (with its starting balance and
// first key) and returns it with the key in clear.
func (e *Env) CreateOrg(tb testing.TB, n orgs.NewOrganisation) (orgs.Organisation, string) {
	tb.Helper()
	o, issued, err := e.App.Accounts.CreateOrganisation(context.Background(), n)
	if err != nil {
		tb.Fatal(err)
	}
	return o, issued.Secret
}

// Fixture is a small catalogue whose every filter result can be reasoned
// about by hand: UK, US, France and Japan, one region, one unlimited
// bundle, one long-duration global bundle.
func Fixture() catalogue.Data {
	gb, us, fr, jp := "GB", "US", "FR", "JP"
	data := func(name string, gb int64) []catalogue.Allowance {
		return []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: name + " (data)", Amount: gb * 1_000_000_000}}
	}
	b := func(name, desc, group, profile, price string, countries []string, gbs int64, days int) catalogue.Bundle {
		return catalogue.Bundle{Name: name, Description: desc, Groups: []string{group}, Countries: countries, Roaming: []string{},
			DataBytes: gbs * 1_000_000_000, DurationDays: days, Autostart: true, Speeds: []string{"4G", "5G"}, Profile: profile,
			Price: money.MustParse(price), BillingType: catalogue.BillingFixedCost, Allowances: data(name, gbs)}
	}
	ul := b("esim_UL_1D_FR_V2", "eSIM, Unlimited Lite, 1 Day, France, V2", catalogue.GroupUnlimitedLite, "Profile 1", "6.9", []string{fr}, 0, 1)
	ul.Unlimited, ul.DailyHighSpeedBytes, ul.ThrottleKbps = true, 1_000_000_000, 512
	ul.Allowances = []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: "esim_UL_1D_FR_V2 (data)", Unlimited: true}}
	return catalogue.Data{
		Currency: "USD",
		Countries: []catalogue.Country{
			{ISO: fr, Name: "France", Region: "Europe"}, {ISO: gb, Name: "United Kingdom", Region: "Europe"},
			{ISO: jp, Name: "Japan", Region: "Asia"}, {ISO: us, Name: "United States", Region: "North America"},
		},
		Regions: []catalogue.Region{{Name: "Europe Lite", Profile: "Profile 1", Countries: []string{fr, gb}}},
		Bundles: []catalogue.Bundle{
			b("esim_1GB_7D_GB_V2", "eSIM, 1GB, 7 Days, United Kingdom, V2", catalogue.GroupFixed, "Profile 1", "1.73", []string{gb}, 1, 7),
			b("esim_3GB_30D_GB_V2", "eSIM, 3GB, 30 Days, United Kingdom, V2", catalogue.GroupFixed, "Profile 1", "4.5", []string{gb}, 3, 30),
			b("esim_1GB_7D_US_V2", "eSIM, 1GB, 7 Days, United States, V2", catalogue.GroupFixed, "Profile 2", "2.28", []string{us}, 1, 7),
			b("esim_1GB_7D_REUL_V2", "eSIM, 1GB, 7 Days, Europe Lite, V2", catalogue.GroupFixed, "Profile 1", "3.1", []string{fr, gb}, 1, 7),
			b("esim_20GB_60D_RGBL_V2", "eSIM, 20GB, 60 Days, Global - Light, V2", catalogue.GroupLongDuration, "Profile 4", "38.3", []string{gb, us, jp}, 20, 60),
			ul,
		},
		Networks: []catalogue.Network{
			{CountryISO: gb, Profile: "Profile 1", Name: "EE Limited", Brand: "EE", MCC: "234", MNC: "30", TADIG: "GBRME", Speeds: []string{"2G", "4G"}},
			{CountryISO: gb, Profile: "Profile 4", Name: "EE Limited", Brand: "EE", MCC: "234", MNC: "30", TADIG: "GBRME", Speeds: []string{"5G"}},
			{CountryISO: gb, Profile: "Profile 1", Name: "Vodafone UK", Brand: "Vodafone", MCC: "234", MNC: "15", TADIG: "GBRVF", Speeds: []string{"4G"}},
			{CountryISO: us, Profile: "Profile 2", Name: "AT&T Mobility", Brand: "AT&T", MCC: "310", MNC: "410", TADIG: "USACG", Speeds: []string{"4G", "5G"}},
			{CountryISO: fr, Profile: "Profile 1", Name: "Orange France", Brand: "Orange", MCC: "208", MNC: "01", TADIG: "FRAF1", Speeds: []string{"4G"}},
		},
	}
}
