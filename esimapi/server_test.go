package esimapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/esimd/esimd/esimapi"
	"github.com/esimd/esimd/internal/adminapi"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/httpapi"
	"github.com/esimd/esimd/internal/idempotency"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/sandbox"
	"github.com/esimd/esimd/internal/storetest"
)

// The contract tests drive the real esimd handler, built as the server
// builds it, through the SDK only: the SDK and the server cannot drift
// apart without a test failing.

// testCatalogue is a small catalogue whose answers can be reasoned about by
// hand.
func testCatalogue() catalogue.Data {
	data := func(name string, gb int64) []catalogue.Allowance {
		return []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: name + " (data)", Amount: gb * 1_000_000_000}}
	}
	b := func(name, desc, group, profile, price string, countries []string, gbs int64, days int) catalogue.Bundle {
		return catalogue.Bundle{Name: name, Description: desc, Groups: []string{group}, Countries: countries, Roaming: []string{},
			DataBytes: gbs * 1_000_000_000, DurationDays: days, Autostart: true, Speeds: []string{"4G", "5G"}, Profile: profile,
			Price: money.MustParse(price), BillingType: catalogue.BillingFixedCost, Allowances: data(name, gbs)}
	}
	return catalogue.Data{
		Currency: "USD",
		Countries: []catalogue.Country{
			{ISO: "FR", Name: "France", Region: "Europe"}, {ISO: "GB", Name: "United Kingdom", Region: "Europe"},
			{ISO: "US", Name: "United States", Region: "North America"},
		},
		Regions: []catalogue.Region{{Name: "Europe Lite", Profile: "Profile 1", Countries: []string{"FR", "GB"}}},
		Bundles: []catalogue.Bundle{
			b("esim_1GB_7D_GB_V2", "eSIM, 1GB, 7 Days, United Kingdom, V2", catalogue.GroupFixed, "Profile 1", "1.73", []string{"GB"}, 1, 7),
			b("esim_3GB_30D_GB_V2", "eSIM, 3GB, 30 Days, United Kingdom, V2", catalogue.GroupFixed, "Profile 1", "4.5", []string{"GB"}, 3, 30),
			b("esim_1GB_7D_US_V2", "eSIM, 1GB, 7 Days, United States, V2", catalogue.GroupFixed, "Profile 2", "2.28", []string{"US"}, 1, 7),
			b("esim_1GB_7D_REUL_V2", "eSIM, 1GB, 7 Days, Europe Lite, V2", catalogue.GroupFixed, "Profile 1", "3.1", []string{"FR", "GB"}, 1, 7),
			b("esim_20GB_60D_GB_V2", "eSIM, 20GB, 60 Days, United Kingdom, V2", catalogue.GroupLongDuration, "Profile 1", "90.275", []string{"GB"}, 20, 60),
		},
		Networks: []catalogue.Network{
			{CountryISO: "GB", Profile: "Profile 1", Name: "EE Limited", Brand: "EE", MCC: "234", MNC: "30", TADIG: "GBRME", Speeds: []string{"4G"}},
			{CountryISO: "US", Profile: "Profile 2", Name: "AT&T Mobility", Brand: "AT&T", MCC: "310", MNC: "410", TADIG: "USACG", Speeds: []string{"5G"}},
			{CountryISO: "FR", Profile: "Profile 1", Name: "Orange France", Brand: "Orange", MCC: "208", MNC: "01", TADIG: "FRAF1", Speeds: []string{"4G"}},
		},
	}
}

// testServer is the real API over a temporary SQLite file.
type testServer struct {
	URL  string
	Key  string // a sandbox organisation's key, with refunds enabled
	Live string // a live organisation's key
	// OrgID is the sandbox organisation's ID; AdminToken the operator
	// token of the admin API.
	OrgID      int64
	AdminToken string

	mu  sync.Mutex
	now time.Time
}

const (
	testKey        = "esimd_test_sdk_contract_key_0001"
	testAdminToken = "esimd-test-admin-token-0001"
)

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	ctx := context.Background()
	db, _ := storetest.New(t)
	ts := &testServer{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	now := func() time.Time { ts.mu.Lock(); defer ts.mu.Unlock(); return ts.now }
	orgSvc := orgs.NewService(db, now)
	cat := catalogue.NewService(db, now)
	if err := cat.Import(ctx, testCatalogue()); err != nil {
		t.Fatal(err)
	}
	org, key, err := orgSvc.Create(ctx, orgs.NewOrganisation{Name: "Acme Travel", Currency: "USD", Sandbox: true,
		StartingBalance: money.MustParse("250.5"), RefundsEnabled: true, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	ts.Key, ts.OrgID, ts.AdminToken = key, int64(org.ID), testAdminToken
	if _, ts.Live, err = orgSvc.Create(ctx, orgs.NewOrganisation{Name: "Live Co", Currency: "USD",
		StartingBalance: money.MustParse("10")}); err != nil {
		t.Fatal(err)
	}
	engine := esims.NewService(esims.Config{Store: db, Orgs: db, Catalogue: cat, Now: now})
	worker := esims.NewWorker(engine, 20*time.Millisecond, nil)
	orderSvc := orders.NewService(db, engine, cat, now, worker.Kick)
	worker.Start(ctx)
	t.Cleanup(worker.Stop)
	callbacks := notify.New(notify.Config{Store: db, Orgs: orgSvc, Now: now, SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	api := httpapi.New(httpapi.Config{Orgs: orgSvc, Catalogue: cat, ESIMs: engine, Orders: orderSvc,
		Idempotency: idempotency.NewService(db, now), Sandbox: sandbox.NewService(db, engine, cat, now, callbacks),
		Now: now, Health: db.Ping})
	mux := http.NewServeMux()
	mux.Handle(adminapi.Prefix, adminapi.New(adminapi.Config{Token: testAdminToken, Notify: callbacks, Orgs: orgSvc}).Handler())
	mux.Handle("/", api.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ts.URL = srv.URL
	return ts
}

// client returns an SDK client for the sandbox organisation.
func (ts *testServer) client(t testing.TB, opts ...esimapi.Option) *esimapi.Client {
	t.Helper()
	c, err := esimapi.NewClient(ts.URL, append([]esimapi.Option{esimapi.WithAPIKey(ts.Key)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wall is the server's wall clock.
func (ts *testServer) wall() time.Time {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.now
}
