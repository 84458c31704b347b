package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/contract"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/httpapi"
	"github.com/esimd/esimd/internal/idempotency"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/sandbox"
	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files with the current responses")

// fixture is a small catalogue whose every filter result can be reasoned
// about by hand.
func fixture() catalogue.Data {
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

// env is one running API over a real SQLite file.
type env struct {
	t       testing.TB
	srv     *httptest.Server
	db      *store.DB
	cat     *catalogue.Service
	esims   *esims.Service
	orders  *orders.Service
	sandbox *sandbox.Service
	notify  *notify.Service
	orgs    *orgs.Service
	org     orgs.Organisation
	key     string
	spec    *contract.Validator
	clockMu *sync.Mutex
	clock   *time.Time
}

type envOptions struct {
	rateLimit int
	data      *catalogue.Data
}

func newEnv(t testing.TB, opt envOptions) *env {
	t.Helper()
	ctx := context.Background()
	db, _ := storetest.New(t)
	var err error
	e := &env{t: t, clockMu: &sync.Mutex{}}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e.clock = &start
	now := func() time.Time { e.clockMu.Lock(); defer e.clockMu.Unlock(); return *e.clock }
	e.orgs = orgs.NewService(db, now)
	cat := catalogue.NewService(db, now)
	d := fixture()
	if opt.data != nil {
		d = *opt.data
	}
	if err := cat.Import(ctx, d); err != nil {
		t.Fatal(err)
	}
	e.org, e.key, err = e.orgs.Create(ctx, orgs.NewOrganisation{Name: "Acme Travel", Currency: "USD", Sandbox: true, StartingBalance: money.MustParse("250.5"), APIKey: "esimd_test_acme_travel_key_0001"})
	if err != nil {
		t.Fatal(err)
	}
	e.db, e.cat = db, cat
	e.esims = esims.NewService(esims.Config{Store: db, Orgs: db, Catalogue: cat, Now: now})
	e.orders = orders.NewService(db, e.esims, cat, now, nil)
	e.notify = notify.New(notify.Config{Store: db, Orgs: e.orgs, Now: now, SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	e.sandbox = sandbox.NewService(db, e.esims, cat, now, e.notify)
	api := httpapi.New(httpapi.Config{Orgs: e.orgs, Catalogue: cat, ESIMs: e.esims, Orders: e.orders, Idempotency: idempotency.NewService(db, now),
		Sandbox: e.sandbox, Notify: e.notify,
		RateLimit: opt.rateLimit, Now: now, Health: db.Ping})
	e.srv = httptest.NewServer(api.Handler())
	t.Cleanup(e.srv.Close)
	if _, ok := t.(*testing.T); ok {
		e.spec = contract.IfPresent(t)
	}
	return e
}

func (e *env) advance(d time.Duration) {
	e.clockMu.Lock()
	defer e.clockMu.Unlock()
	*e.clock = e.clock.Add(d)
}

// response is what a test inspects.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) message(t testing.TB) string {
	t.Helper()
	var m struct {
		Message string `json:"message"`
	}
	r.json(t, &m)
	if m.Message == "" {
		t.Fatalf("error body %s has no message", r.body)
	}
	return m.Message
}

// do sends one request with the environment's key (unless headers set
// X-API-Key themselves) and validates the exchange against the vendor's
// OpenAPI documents.
func (e *env) do(method, path string, body io.Reader, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("X-API-Key", e.key)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.spec != nil && strings.HasPrefix(path, "/v2") && !undocumented(path) {
		if err := e.spec.Validate(req, res.StatusCode, res.Header, b); err != nil {
			e.t.Errorf("%s %s: response does not match the eSIM Go documents:\n%v", method, path, err)
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) get(path string, headers ...string) response {
	e.t.Helper()
	return e.do(http.MethodGet, path, nil, headers...)
}

// golden compares a JSON body with testdata/golden/name.json.
func golden(t testing.TB, name string, body []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", name, err, body)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
		t.Errorf("%s differs from its golden file (-want +got):\n%s", name, diff)
	}
}

// undocumented reports routes that no vendor document describes (legacy
// routes seen only in old client code), which the validator cannot check.
func undocumented(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	i := strings.Index(p[1:], "/")
	rest := "/"
	if i >= 0 {
		rest = p[1+i:]
	}
	return rest == "/" || (strings.HasPrefix(rest, "/organisation/groups/") && strings.HasSuffix(rest, "/countries"))
}

var allVersions = []string{"/v2", "/v2.1", "/v2.2", "/v2.3", "/v2.4", "/v2.5"}
