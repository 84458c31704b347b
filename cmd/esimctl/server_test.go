package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

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

// testCatalogue is a small catalogue for the CLI tests.
func testCatalogue() catalogue.Data {
	b := func(name, desc, profile, price string, countries []string, gbs int64, days int) catalogue.Bundle {
		return catalogue.Bundle{Name: name, Description: desc, Groups: []string{catalogue.GroupFixed}, Countries: countries, Roaming: []string{},
			DataBytes: gbs * 1_000_000_000, DurationDays: days, Autostart: true, Speeds: []string{"4G"}, Profile: profile,
			Price: money.MustParse(price), BillingType: catalogue.BillingFixedCost,
			Allowances: []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: name + " (data)", Amount: gbs * 1_000_000_000}}}
	}
	return catalogue.Data{
		Currency:  "USD",
		Countries: []catalogue.Country{{ISO: "FR", Name: "France", Region: "Europe"}, {ISO: "GB", Name: "United Kingdom", Region: "Europe"}},
		Bundles: []catalogue.Bundle{
			b("esim_1GB_7D_GB_V2", "eSIM, 1GB, 7 Days, United Kingdom, V2", "Profile 1", "1.73", []string{"GB"}, 1, 7),
			b("esim_3GB_30D_GB_V2", "eSIM, 3GB, 30 Days, United Kingdom, V2", "Profile 1", "4.5", []string{"GB"}, 3, 30),
			b("esim_1GB_7D_FR_V2", "eSIM, 1GB, 7 Days, France, V2", "Profile 1", "2.28", []string{"FR"}, 1, 7),
		},
		Networks: []catalogue.Network{
			{CountryISO: "GB", Profile: "Profile 1", Name: "EE Limited", Brand: "EE", MCC: "234", MNC: "30", TADIG: "GBRME", Speeds: []string{"4G"}},
			{CountryISO: "FR", Profile: "Profile 1", Name: "Orange France", Brand: "Orange", MCC: "208", MNC: "01", TADIG: "FRAF1", Speeds: []string{"4G"}},
		},
	}
}

const (
	testKey        = "esimd_test_cli_sandbox_key_00001"
	testAdminToken = "esimd-test-cli-admin-token"
)

// startAPI runs the real API over a temporary SQLite file, built as
// esimd serve builds it, and returns its URL.
func startAPI(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	db, _ := storetest.New(t)
	now := time.Now
	orgSvc := orgs.NewService(db, now)
	cat := catalogue.NewService(db, now)
	if err := cat.Import(ctx, testCatalogue()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := orgSvc.Create(ctx, orgs.NewOrganisation{Name: "Sandbox", Currency: "USD", Sandbox: true,
		StartingBalance: money.MustParse("1000"), RefundsEnabled: true, APIKey: testKey}); err != nil {
		t.Fatal(err)
	}
	engine := esims.NewService(esims.Config{Store: db, Orgs: db, Catalogue: cat, Now: now})
	worker := esims.NewWorker(engine, 20*time.Millisecond, nil)
	orderSvc := orders.NewService(db, engine, cat, now, worker.Kick)
	worker.Start(ctx)
	t.Cleanup(worker.Stop)
	callbacks := notify.New(notify.Config{Store: db, Orgs: orgSvc, Now: now, SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	api := httpapi.New(httpapi.Config{Orgs: orgSvc, Catalogue: cat, ESIMs: engine, Orders: orderSvc,
		Idempotency: idempotency.NewService(db, now), Sandbox: sandbox.NewService(db, engine, cat, now, callbacks), Health: db.Ping})
	mux := http.NewServeMux()
	mux.Handle(adminapi.Prefix, adminapi.New(adminapi.Config{Token: testAdminToken, Notify: callbacks, Orgs: orgSvc}).Handler())
	mux.Handle("/", api.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// syncBuffer is a bytes.Buffer safe for a command running in a goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
