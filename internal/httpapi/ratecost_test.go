package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/app/apptest"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/httpapi"
	"github.com/esimd/esimd/internal/orgs"
)

// TestRateCostPerEndpoint: the catalogue and the networks cost 5 tokens
// (notes §1.5), everything else 1; X-Ratelimit-Cost says so and the
// window spends it.
func TestRateCostPerEndpoint(t *testing.T) {
	e := newEnv(t, envOptions{rateLimit: 12})
	for i, tc := range []struct {
		path            string
		status          int
		cost, remaining string
	}{
		{"/v2.5/catalogue", 200, "5", "7"},
		{"/v2.4/organisation", 200, "1", "6"},
		{"/v2.2/networks?countries=GB", 200, "5", "1"},
		{"/v2.5/catalogue/bundle/esim_1GB_7D_GB_V2", 200, "1", "0"},
		{"/v2.5/organisation", 429, "1", "0"},
	} {
		res := e.get(tc.path)
		if res.status != tc.status || res.header.Get("X-Ratelimit-Cost") != tc.cost || res.header.Get("X-Ratelimit-Remaining") != tc.remaining {
			t.Errorf("request %d, %s: %d, cost %q, remaining %q; want %d, %s, %s", i+1, tc.path, res.status,
				res.header.Get("X-Ratelimit-Cost"), res.header.Get("X-Ratelimit-Remaining"), tc.status, tc.cost, tc.remaining)
		}
	}
}

// TestRateCostsConfigurable: the operator's table replaces the defaults
// it names and keeps the others.
func TestRateCostsConfigurable(t *testing.T) {
	costs, err := httpapi.ParseRateCosts("GET /catalogue=2, get /organisation=3")
	if err != nil {
		t.Fatal(err)
	}
	env := apptest.New(t, apptest.Options{RateLimit: 20, RateCosts: costs,
		Org: &orgs.NewOrganisation{Name: "Costs", Sandbox: true}})
	srv, key := env.Server, env.Key
	for _, tc := range []struct{ path, cost string }{
		{"/v2.5/catalogue", "2"}, {"/v2.5/organisation", "3"}, {"/v2.5/networks?countries=GB", "5"}, {"/v2.5/organisation/groups", "1"},
	} {
		req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
		req.Header.Set("X-API-Key", key)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("X-Ratelimit-Cost") != tc.cost {
			t.Errorf("%s: %d, cost %q; want 200, %s", tc.path, res.StatusCode, res.Header.Get("X-Ratelimit-Cost"), tc.cost)
		}
	}
}

func TestParseRateCosts(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		want    map[string]int
		mention string
	}{
		{"", map[string]int{}, ""},
		{"GET /catalogue=5", map[string]int{"GET /catalogue": 5}, ""},
		{" post  /orders = 2 ,GET /esims/{iccid}/bundles=3,", map[string]int{"POST /orders": 2, "GET /esims/{iccid}/bundles": 3}, ""},
		{"GET /catalogue", nil, "METHOD /path=tokens"},
		{"GET /bundles=2", nil, `"GET /bundles" is not an endpoint`},
		{"GET /catalogue=0", nil, "1 to 1000"},
		{"GET /catalogue=1001", nil, "1 to 1000"},
		{"GET /catalogue=x", nil, "1 to 1000"},
	} {
		got, err := httpapi.ParseRateCosts(tc.spec)
		if tc.mention != "" {
			if !fault.Is(err, fault.Invalid) || !strings.Contains(fault.MessageOf(err), tc.mention) {
				t.Errorf("%q: %v, want Invalid mentioning %q", tc.spec, err, tc.mention)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.spec, diff)
		}
	}
}

func FuzzParseRateCosts(f *testing.F) {
	for _, s := range []string{"GET /catalogue=5", "POST /orders=2,GET /networks=1", "=", ",,", "GET /catalogue=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := httpapi.ParseRateCosts(spec)
		if err != nil {
			if !fault.Is(err, fault.Invalid) || fault.MessageOf(err) == "" {
				t.Fatalf("%q: error %v is not Invalid with a message", spec, err)
			}
			return
		}
		for ep, c := range got {
			if c < 1 || c > 1000 || !strings.Contains(ep, " /") {
				t.Fatalf("%q: accepted %q=%d", spec, ep, c)
			}
		}
	})
}
