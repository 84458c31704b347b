package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/orgs"
)

type cataloguePage struct {
	Bundles []struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"` // test-only decoding; the server never uses floats
	} `json:"bundles"`
	PageCount int `json:"pageCount"`
	Rows      int `json:"rows"`
	PageSize  int `json:"pageSize"`
}

func (p cataloguePage) names() []string {
	out := []string{}
	for _, b := range p.Bundles {
		out = append(out, b.Name)
	}
	return out
}

func TestCatalogueFiltersAndPaging(t *testing.T) {
	e := newEnv(t, envOptions{})
	all := []string{"esim_1GB_7D_GB_V2", "esim_1GB_7D_REUL_V2", "esim_1GB_7D_US_V2", "esim_20GB_60D_RGBL_V2", "esim_3GB_30D_GB_V2", "esim_UL_1D_FR_V2"}
	tests := []struct {
		name              string
		query             string
		want              []string
		rows, size, pages int
	}{
		{"everything on one page by default", "", all, 6, 6, 1},
		{"first page", "perPage=4&page=1", all[:4], 6, 4, 2},
		{"second page", "perPage=4&page=2", all[4:], 6, 4, 2},
		{"page past the end is empty", "perPage=4&page=3", []string{}, 6, 4, 2},
		{"descending by name", "direction=desc&perPage=2", []string{"esim_UL_1D_FR_V2", "esim_3GB_30D_GB_V2"}, 6, 2, 3},
		{"direction in capitals", "direction=DESC&perPage=1", []string{"esim_UL_1D_FR_V2"}, 6, 1, 6},
		{"order by price", "orderBy=price", []string{"esim_1GB_7D_GB_V2", "esim_1GB_7D_US_V2", "esim_1GB_7D_REUL_V2", "esim_3GB_30D_GB_V2", "esim_UL_1D_FR_V2", "esim_20GB_60D_RGBL_V2"}, 6, 6, 1},
		{"order by price descending", "orderBy=price&direction=desc&perPage=1", []string{"esim_20GB_60D_RGBL_V2"}, 6, 1, 6},
		{"order by duration then name", "orderBy=duration", []string{"esim_UL_1D_FR_V2", "esim_1GB_7D_GB_V2", "esim_1GB_7D_REUL_V2", "esim_1GB_7D_US_V2", "esim_3GB_30D_GB_V2", "esim_20GB_60D_RGBL_V2"}, 6, 6, 1},
		{"order by data amount", "orderBy=dataAmount&direction=desc&perPage=2", []string{"esim_20GB_60D_RGBL_V2", "esim_3GB_30D_GB_V2"}, 6, 2, 3},
		{"description substring, any case", "description=united%20KINGDOM", []string{"esim_1GB_7D_GB_V2", "esim_3GB_30D_GB_V2"}, 2, 2, 1},
		{"description wildcard", "description=eSIM,%201GB*V2", []string{"esim_1GB_7D_GB_V2", "esim_1GB_7D_REUL_V2", "esim_1GB_7D_US_V2"}, 3, 3, 1},
		{"description percent wildcard", "description=%25Unlimited%25", []string{"esim_UL_1D_FR_V2"}, 1, 1, 1},
		{"group exact", "group=Standard%20Long%20Duration", []string{"esim_20GB_60D_RGBL_V2"}, 1, 1, 1},
		{"group is exact, not a prefix", "group=Standard", []string{}, 0, 1, 0},
		{"one country", "countries=US", []string{"esim_1GB_7D_US_V2", "esim_20GB_60D_RGBL_V2"}, 2, 2, 1},
		{"countries with spaces and lower case", "countries=fr,%20jp", []string{"esim_1GB_7D_REUL_V2", "esim_20GB_60D_RGBL_V2", "esim_UL_1D_FR_V2"}, 3, 3, 1},
		{"unknown country matches nothing", "countries=ZZ", []string{}, 0, 1, 0},
		{"region", "region=Asia", []string{"esim_20GB_60D_RGBL_V2"}, 1, 1, 1},
		{"region any case", "region=north%20america", []string{"esim_1GB_7D_US_V2", "esim_20GB_60D_RGBL_V2"}, 2, 2, 1},
		{"filters combine", "countries=GB&group=Standard%20Fixed&orderBy=price&direction=desc", []string{"esim_3GB_30D_GB_V2", "esim_1GB_7D_REUL_V2", "esim_1GB_7D_GB_V2"}, 3, 3, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.get("/v2.5/catalogue?" + tc.query)
			if res.status != 200 {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			var p cataloguePage
			res.json(t, &p)
			if diff := cmp.Diff(tc.want, p.names()); diff != "" {
				t.Errorf("bundles (-want +got):\n%s", diff)
			}
			if p.Rows != tc.rows || p.PageSize != tc.size || p.PageCount != tc.pages {
				t.Errorf("rows/pageSize/pageCount = %d/%d/%d, want %d/%d/%d", p.Rows, p.PageSize, p.PageCount, tc.rows, tc.size, tc.pages)
			}
		})
	}
}

func TestCatalogueBadQueries(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct{ query, mention string }{
		{"page=0", "page"},
		{"page=-1", "page"},
		{"page=abc", "page"},
		{"perPage=0", "perPage"},
		{"perPage=ten", "perPage"},
		{"direction=sideways", "direction"},
		{"orderBy=colour", "orderBy"},
		{"countries=G1", "countries"},
		{"countries=United%20Kingdom", "countries"},
		{"description=" + url.QueryEscape("[a*"), "description"},
	} {
		res := e.get("/v2.5/catalogue?" + tc.query)
		if res.status != 400 {
			t.Errorf("%s: status %d, want 400", tc.query, res.status)
			continue
		}
		if msg := res.message(t); !strings.Contains(msg, tc.mention) {
			t.Errorf("%s: message %q does not mention %q", tc.query, msg, tc.mention)
		}
	}
}

func TestCatalogueLimitedToOrganisationGroups(t *testing.T) {
	e := newEnv(t, envOptions{})
	groups := []string{catalogue.GroupLongDuration}
	if _, err := e.orgs.Update(context.Background(), e.org.ID, orgs.Update{Groups: &groups}); err != nil {
		t.Fatal(err)
	}
	var p cataloguePage
	e.get("/v2.5/catalogue").json(t, &p)
	if diff := cmp.Diff([]string{"esim_20GB_60D_RGBL_V2"}, p.names()); diff != "" {
		t.Errorf("catalogue of a Long Duration organisation (-want +got):\n%s", diff)
	}
	if res := e.get("/v2.5/catalogue/bundle/esim_1GB_7D_GB_V2"); res.status != 400 {
		t.Errorf("bundle outside the organisation's groups: status %d, want 400", res.status)
	}
	var g struct {
		Groups []struct{ Name string } `json:"groups"`
	}
	e.get("/v2.5/organisation/groups").json(t, &g)
	if len(g.Groups) != 1 || g.Groups[0].Name != catalogue.GroupLongDuration {
		t.Errorf("groups = %+v, want only Standard Long Duration", g.Groups)
	}
}

func TestCatalogueShapesPerVersion(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, v := range allVersions {
		name := strings.ReplaceAll(strings.TrimPrefix(v, "/"), ".", "_")
		golden(t, "catalogue_"+name, e.get(v+"/catalogue?perPage=2&page=1").body)
		golden(t, "bundle_"+name, e.get(v+"/catalogue/bundle/esim_UL_1D_FR_V2").body)
		golden(t, "groups_"+name, e.get(v+"/organisation/groups").body)
		golden(t, "organisation_"+name, e.get(v+"/organisation", "X-API-Key", e.key).body)
		golden(t, "networks_"+name, e.get(v+"/networks?isos=GB,FR").body)
	}
}

func TestBundleDetail(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.get("/v2.5/catalogue/bundle/esim_1GB_7D_REUL_V2")
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var b struct {
		Name       string   `json:"name"`
		Groups     []string `json:"groups"`
		Group      []string `json:"group"`
		DataAmount int64    `json:"dataAmount"`
		Countries  []struct{ Name, Region, ISO string }
	}
	res.json(t, &b)
	if b.Name != "esim_1GB_7D_REUL_V2" || b.DataAmount != 1000 || len(b.Countries) != 2 || b.Countries[0].Name != "France" || b.Countries[0].Region != "Europe" {
		t.Errorf("bundle detail = %+v", b)
	}
	if !cmp.Equal(b.Groups, []string{"Standard Fixed"}) || !cmp.Equal(b.Group, b.Groups) {
		t.Errorf("groups %v / group %v; want both Standard Fixed", b.Groups, b.Group)
	}
	for _, name := range []string{"ESIM_1GB_7D_REUL_V2", "esim_1gb_7d_reul_v2", "nope"} {
		res := e.get("/v2.5/catalogue/bundle/" + name)
		if res.status != 400 || !strings.Contains(res.message(t), "case-sensitive") {
			t.Errorf("%s: status %d %s; want 400 explaining names are case-sensitive", name, res.status, res.body)
		}
	}
}

func TestPricesAreExactNumbers(t *testing.T) {
	e := newEnv(t, envOptions{})
	body := string(e.get("/v2.5/catalogue?countries=US&orderBy=price").body)
	for _, want := range []string{`"price":2.28`, `"price":38.3`} {
		if !strings.Contains(body, want) {
			t.Errorf("catalogue body lacks %s:\n%s", want, body)
		}
	}
	if !strings.Contains(string(e.get("/v2.5/catalogue/bundle/esim_UL_1D_FR_V2").body), `"price":6.9,`) {
		t.Error("6.9 does not render as 6.9")
	}
}

func TestOrganisation(t *testing.T) {
	e := newEnv(t, envOptions{})
	var body struct {
		Organisations []struct {
			Name     string  `json:"name"`
			APIKey   string  `json:"apiKey"`
			Currency string  `json:"currency"`
			Balance  float64 `json:"balance"`
		} `json:"organisations"`
	}
	res := e.get("/v2.5/organisation")
	res.json(t, &body)
	if len(body.Organisations) != 1 {
		t.Fatalf("organisations = %s; want one wrapped organisation", res.body)
	}
	o := body.Organisations[0]
	if o.Name != "Acme Travel" || o.Currency != "USD" || o.Balance != 250.5 {
		t.Errorf("organisation = %+v", o)
	}
	if strings.Contains(string(res.body), e.key) || !strings.HasSuffix(o.APIKey, e.key[len(e.key)-4:]) {
		t.Errorf("apiKey %q: want a hint of the key, never the key", o.APIKey)
	}
}

func TestGroupsShapeByVersion(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, v := range []string{"/v2", "/v2.1", "/v2.2"} {
		if b := strings.TrimSpace(string(e.get(v + "/organisation/groups").body)); !strings.HasPrefix(b, "[") {
			t.Errorf("%s groups = %s, want a bare array", v, b)
		}
	}
	for _, v := range []string{"/v2.3", "/v2.4", "/v2.5"} {
		if b := string(e.get(v + "/organisation/groups").body); !strings.HasPrefix(b, `{"groups":[`) {
			t.Errorf("%s groups = %s, want {groups: […]}", v, b)
		}
	}
}

func TestGroupCountriesLegacy(t *testing.T) {
	e := newEnv(t, envOptions{})
	var got []struct{ ISO string }
	e.get("/v2.1/organisation/groups/Standard%20Long%20Duration/countries").json(t, &got)
	if len(got) != 3 {
		t.Errorf("countries of Standard Long Duration = %+v, want GB, US, JP", got)
	}
	if res := e.get("/v2.1/organisation/groups/Nope/countries"); res.status != 400 {
		t.Errorf("unknown group: status %d, want 400", res.status)
	}
	if res := e.get("/v2.5/organisation/groups/Standard%20Fixed/countries"); res.status != 403 {
		t.Errorf("legacy route on v2.5: status %d, want 403 (unknown route)", res.status)
	}
}

func TestAPIDetailsLegacy(t *testing.T) {
	e := newEnv(t, envOptions{})
	var got []string
	e.get("/v2.3/").json(t, &got)
	if len(got) == 0 || got[0] != "GET /catalogue" {
		t.Errorf("GET /v2.3/ = %v", got)
	}
	if res := e.get("/v2.5/"); res.status != 403 {
		t.Errorf("GET /v2.5/: status %d, want 403 (dropped in v2.5)", res.status)
	}
}

func TestNetworks(t *testing.T) {
	e := newEnv(t, envOptions{})
	type netBody struct {
		CountryNetworks []struct {
			Name     string `json:"name"`
			Networks []struct {
				Name  string   `json:"name"`
				MCC   string   `json:"mcc"`
				MNC   string   `json:"mnc"`
				TagID string   `json:"tagid"`
				Speed []string `json:"speed"`
			} `json:"networks"`
		} `json:"countryNetworks"`
	}
	countries := func(q string) []string {
		var b netBody
		res := e.get("/v2.5/networks?" + q)
		if res.status != 200 {
			t.Fatalf("%s: status %d %s", q, res.status, res.body)
		}
		res.json(t, &b)
		out := []string{}
		for _, c := range b.CountryNetworks {
			out = append(out, c.Name)
		}
		return out
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"isos=GB", []string{"GB"}},
		{"isos=gb,%20us", []string{"GB", "US"}},
		{"countries=United%20Kingdom,%20france", []string{"GB", "FR"}},
		{"countries=Atlantis", []string{}},
		{"returnAll=true", []string{"FR", "GB", "US"}},
		{"returnAll=TRUE&isos=GB", []string{"FR", "GB", "US"}},
	} {
		if diff := cmp.Diff(tc.want, countries(tc.query)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.query, diff)
		}
	}
	// One network behind two profiles is listed once with the union of speeds.
	var b netBody
	e.get("/v2.5/networks?isos=GB").json(t, &b)
	if n := b.CountryNetworks[0].Networks; len(n) != 2 || n[0].MCC != "234" || n[0].MNC != "30" || n[0].TagID != "GBRME" || !cmp.Equal(n[0].Speed, []string{"2G", "4G", "5G"}) {
		t.Errorf("GB networks = %+v", n)
	}
	for _, q := range []string{"", "returnAll=false", "returnAll=maybe", "isos=G1"} {
		if res := e.get("/v2.5/networks?" + q); res.status != 400 {
			t.Errorf("networks?%s: status %d, want 400", q, res.status)
		}
	}
}

// TestKeyHintShowsOnlyTheTail: a key is shown as its last four
// characters, in GET /organisation and in the stored hint the admin
// commands list; a 16-character chosen key showed 10 of them.
func TestKeyHintShowsOnlyTheTail(t *testing.T) {
	e := newEnv(t, envOptions{})
	const key = "Bootstrap-key-16"
	o, _, err := e.orgs.Create(context.Background(), orgs.NewOrganisation{Name: "Boot", Currency: "USD", Sandbox: true, APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Organisations []struct {
			APIKey string `json:"apiKey"`
		} `json:"organisations"`
	}
	e.get("/v2.5/organisation", "X-API-Key", key).json(t, &body)
	keys, err := e.orgs.APIKeys(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{body.Organisations[0].APIKey, keys[0].Hint}
	if diff := cmp.Diff([]string{"…y-16", "…y-16"}, got); diff != "" {
		t.Errorf("hints of %q (-want +got):\n%s", key, diff)
	}
}
