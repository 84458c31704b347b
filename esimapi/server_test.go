package esimapi_test

import (
	"testing"
	"time"

	"github.com/esimd/esimd/esimapi"
	"github.com/esimd/esimd/internal/app"
	"github.com/esimd/esimd/internal/app/apptest"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
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

	clock *apptest.Clock
}

const (
	testKey        = "esimd_test_sdk_contract_key_0001"
	testAdminToken = "esimd-test-admin-token-0001"
)

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	ts := &testServer{}
	data := testCatalogue()
	env := apptest.New(t, apptest.Options{Catalogue: &data, AdminToken: testAdminToken, Workers: app.DueWork,
		Org: &orgs.NewOrganisation{Name: "Acme Travel", Currency: "USD", Sandbox: true,
			StartingBalance: money.MustParse("250.5"), RefundsEnabled: true, APIKey: testKey}})
	ts.clock = env.Clock
	ts.Key, ts.OrgID, ts.AdminToken = env.Key, int64(env.Org.ID), env.AdminToken
	_, ts.Live = env.CreateOrg(t, orgs.NewOrganisation{Name: "Live Co", Currency: "USD", StartingBalance: money.MustParse("10")})
	ts.URL = env.URL
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
func (ts *testServer) wall() time.Time { return ts.clock.Now() }
