package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
)

// esimPlace orders qty bundles of item onto new eSIMs of org and returns
// the order reference and the ICCIDs.
func esimPlace(t *testing.T, e *env, org orgs.ID, item string, qty int) (string, []string) {
	t.Helper()
	placed, err := e.orders.Place(context.Background(), org, orders.Request{Type: "transaction", Assign: true,
		Lines: []orders.LineRequest{{Type: "bundle", Item: item, Quantity: qty}}}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var iccids []string
	for _, line := range placed.ESIMs {
		for _, es := range line {
			iccids = append(iccids, es.ICCID)
		}
	}
	return placed.Order.Reference, iccids
}

// esimTopUp orders one more bundle onto an existing eSIM.
func esimTopUp(t *testing.T, e *env, iccid, item string) string {
	t.Helper()
	placed, err := e.orders.Place(context.Background(), e.org.ID, orders.Request{Type: "transaction", Assign: true,
		Lines: []orders.LineRequest{{Type: "bundle", Item: item, Quantity: 1, ICCIDs: []string{iccid}}}}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return placed.Order.Reference
}

func esimInstall(t *testing.T, e *env, iccid string) {
	t.Helper()
	if _, err := e.esims.SetProfileStatus(context.Background(), e.org.ID, iccid, esims.ProfileInstalled, ""); err != nil {
		t.Fatal(err)
	}
}

var esimGB = esims.Registration{Country: "GB", MCC: "234", MNC: "30", TADIG: "GBRME", NetworkName: "EE Limited", Brand: "EE"}

func esimUse(t *testing.T, e *env, iccid string, bytes int64) {
	t.Helper()
	if _, err := e.esims.ApplyUsage(context.Background(), esims.UsageRecord{Org: e.org.ID, ICCID: iccid, Bytes: bytes, Network: esimGB}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) esimPut(path, body string) response {
	e.t.Helper()
	return e.do(http.MethodPut, path, strings.NewReader(body), "Content-Type", "application/json")
}

var (
	esimMatchingRE = regexp.MustCompile(`[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}`)
	esimUUIDRE     = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	esimPINRE      = regexp.MustCompile(`"(pin|puk)":"[0-9]+"`)
)

// esimScrub replaces what differs on every run (matching IDs, references,
// PIN and PUK) with placeholders numbered in order of appearance. ICCIDs
// come from a per-database counter and stay as they are.
func esimScrub(body []byte) []byte {
	s := string(body)
	for _, r := range []struct {
		re   *regexp.Regexp
		name string
	}{{esimMatchingRE, "MATCHING"}, {esimUUIDRE, "REF"}} {
		seen := map[string]string{}
		s = r.re.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := seen[m]; ok {
				return v
			}
			seen[m] = fmt.Sprintf("<%s-%d>", r.name, len(seen)+1)
			return seen[m]
		})
	}
	s = esimPINRE.ReplaceAllString(s, `"$1":"<$1>"`)
	return []byte(s)
}

// esimVersionName is a golden-file suffix: /v2.5 → v2_5.
func esimVersionName(prefix string) string {
	return strings.ReplaceAll(strings.TrimPrefix(prefix, "/"), ".", "_")
}

func esimWantStatus(t *testing.T, what string, res response, status int) {
	t.Helper()
	if res.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, res.status, status, res.body)
	}
}

func TestESIMListShapesAndPaging(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	_, first := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 2)
	e.advance(time.Hour)
	_, second := esimPlace(t, e, e.org.ID, "esim_1GB_7D_US_V2", 1)
	all := append(first, second...)
	e.advance(time.Hour)
	if _, err := e.esims.SetCustomerRef(ctx, e.org.ID, all[1], "cust-0042"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"/v2", "/v2.4", "/v2.5"} {
		res := e.get(v + "/esims")
		esimWantStatus(t, v, res, 200)
		golden(t, "esim_list_"+esimVersionName(v), res.body)
	}

	type page struct {
		ESIMs []struct {
			ICCID       string
			CustomerRef string
			State       *string
		}
		PageCount, PageSize, Rows int
	}
	iccids := func(p page) []string {
		out := []string{}
		for _, x := range p.ESIMs {
			out = append(out, x.ICCID)
		}
		return out
	}
	tests := []struct {
		name              string
		query             string
		want              []string
		rows, size, pages int
	}{
		{"default page size is 25", "", all, 3, 25, 1},
		{"page size 10", "perPage=10", all, 3, 10, 1},
		{"page past the end", "perPage=10&page=2", []string{}, 3, 10, 1},
		{"descending", "direction=desc&orderBy=iccid", []string{all[2], all[1], all[0]}, 3, 25, 1},
		{"direction in capitals", "direction=DESC", []string{all[2], all[1], all[0]}, 3, 25, 1},
		{"iccid substring", "filterBy=iccid&filter=" + all[1][10:], []string{all[1]}, 1, 25, 1},
		{"iccid substring takes _ literally", "filterBy=iccid&filter=8_9", []string{}, 0, 25, 0},
		{"iccid exact", "filterBy=iccid&filter=eq:" + all[2], []string{all[2]}, 1, 25, 1},
		{"iccid eq needs the whole number", "filterBy=iccid&filter=eq:" + all[2][1:], []string{}, 0, 25, 0},
		{"customerRef like is a substring, any case", "filterBy=customerRef&filter=CUST", []string{all[1]}, 1, 25, 1},
		{"customerRef with wildcards", "filterBy=customerRef&filter=*0042*", []string{all[1]}, 1, 25, 1},
		{"customerRef exact", "filterBy=customerRef&filter=eq:cust-0042", []string{all[1]}, 1, 25, 1},
		{"customerRef exact misses a part", "filterBy=customerRef&filter=eq:cust", []string{}, 0, 25, 0},
		{"filterBy in other letter case", "filterBy=CUSTOMERREF&filter=0042", []string{all[1]}, 1, 25, 1},
		{"lastAction", "filterBy=lastAction&filter=eq:eSIM%20Updated", []string{all[1]}, 1, 25, 1},
		{"lastAction like", "filterBy=lastAction&filter=applied", []string{all[0], all[2]}, 2, 25, 1},
		{"assignedDate defaults to eq", "filterBy=assignedDate&filter=2026-03-01T12:00:00Z", first, 2, 25, 1},
		{"assignedDate gte", "filterBy=assignedDate&filter=gte:2026-03-01T12:30:00.000Z", second, 1, 25, 1},
		{"assignedDate lt", "filterBy=assignedDate&filter=lt:2026-03-01T13:00:00Z", first, 2, 25, 1},
		{"time with an encoded offset", "filterBy=assignedDate&filter=gte:2026-03-01T13:30:00%2B01:00", second, 1, 25, 1},
		{"time with an unencoded offset", "filterBy=assignedDate&filter=gte:2026-03-01T13:30:00+01:00", second, 1, 25, 1},
		{"actionDate gt", "filterBy=actionDate&filter=gt:2026-03-01T13:00:00Z", []string{all[1]}, 1, 25, 1},
		{"actionDate lte", "filterBy=actionDate&filter=lte:2026-03-01T13:00:00Z", []string{all[0], all[2]}, 2, 25, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.get("/v2.5/esims?" + tc.query)
			esimWantStatus(t, tc.query, res, 200)
			var p page
			res.json(t, &p)
			if diff := cmp.Diff(tc.want, iccids(p)); diff != "" {
				t.Errorf("eSIMs (-want +got):\n%s", diff)
			}
			if p.Rows != tc.rows || p.PageSize != tc.size || p.PageCount != tc.pages {
				t.Errorf("rows/pageSize/pageCount = %d/%d/%d, want %d/%d/%d", p.Rows, p.PageSize, p.PageCount, tc.rows, tc.size, tc.pages)
			}
		})
	}
	// Eleven eSIMs over pages of ten.
	esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 5)
	esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 3)
	var p page
	e.get("/v2.5/esims?perPage=10&page=2").json(t, &p)
	if len(p.ESIMs) != 1 || p.Rows != 11 || p.PageCount != 2 || p.PageSize != 10 {
		t.Errorf("second page of 11 by 10 = %d eSIMs, rows %d, pages %d, size %d", len(p.ESIMs), p.Rows, p.PageCount, p.PageSize)
	}
	// state and msisdn are v2.5 only.
	var old page
	e.get("/v2.4/esims").json(t, &old)
	if old.ESIMs[0].State != nil {
		t.Errorf("v2.4 list carries state")
	}
}

func TestESIMListBadQueries(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct{ query, mention string }{
		{"page=0", "page"},
		{"page=first", "page"},
		{"perPage=20", "perPage"},
		{"perPage=ten", "perPage"},
		{"perPage=1000", "perPage"},
		{"direction=up", "direction"},
		{"orderBy=customerRef", "orderBy"},
		{"filterBy=state&filter=active", "filterBy"},
		{"filterBy=iccid", "filter"},
		{"filter=8999", "filterBy"},
		{"filterBy=actionDate&filter=yesterday", "RFC 3339"},
		{"filterBy=assignedDate&filter=gte:2026-03-01", "RFC 3339"},
		{"filterBy=assignedDate&filter=after:2026-03-01T00:00:00Z", "assignedDate"},
		{"filterBy=customerRef&filter=eq:", "eq"},
	} {
		res := e.get("/v2.5/esims?" + tc.query)
		if res.status != 400 {
			t.Errorf("%s: status %d, want 400 (%s)", tc.query, res.status, res.body)
			continue
		}
		if msg := res.message(t); !strings.Contains(msg, tc.mention) {
			t.Errorf("%s: message %q does not mention %q", tc.query, msg, tc.mention)
		}
	}
}

func TestUpdateESIM(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	iccid := iccids[0]
	ref := func() string {
		t.Helper()
		var d struct{ CustomerRef string }
		e.get("/v2.5/esims/"+iccid).json(t, &d)
		return d.CustomerRef
	}
	// Query parameters, as the documents say.
	res := e.esimPut("/v2.5/esims?iccid="+iccid+"&customerRef=order-17", "")
	esimWantStatus(t, "PUT by query", res, 200)
	if string(res.body) != `{"status":"success"}` {
		t.Errorf("PUT answer %s", res.body)
	}
	if got := ref(); got != "order-17" {
		t.Errorf("customerRef %q after PUT by query", got)
	}
	// A JSON body, as their example shows; numbers are accepted as written.
	esimWantStatus(t, "PUT by body", e.esimPut("/v2.4/esims", `{"iccid":`+iccid+`,"customerRef":"order 18 ✓","extra":1}`), 200)
	if got := ref(); got != "order 18 ✓" {
		t.Errorf("customerRef %q after PUT by body", got)
	}
	// The query wins over the body; the body fills what the query lacks.
	esimWantStatus(t, "PUT mixed", e.esimPut("/v2.5/esims?customerRef=from-query", `{"iccid":"`+iccid+`","customerRef":"from-body"}`), 200)
	if got := ref(); got != "from-query" {
		t.Errorf("customerRef %q, want the query's", got)
	}
	// An empty customerRef clears it.
	esimWantStatus(t, "PUT empty", e.esimPut("/v2.5/esims?iccid="+iccid+"&customerRef=", ""), 200)
	if got := ref(); got != "" {
		t.Errorf("customerRef %q after clearing", got)
	}
	var l struct{ ESIMs []struct{ LastAction string } }
	e.get("/v2.5/esims").json(t, &l)
	if l.ESIMs[0].LastAction != "eSIM Updated" {
		t.Errorf("lastAction %q after PUT", l.ESIMs[0].LastAction)
	}

	for _, tc := range []struct {
		query, body string
		status      int
		mention     string
	}{
		{"", "", 400, "iccid"},
		{"?customerRef=x", "", 400, "iccid"},
		{"?iccid=" + iccid, "", 400, "customerRef"},
		{"", `{"iccid":"` + iccid + `"}`, 400, "customerRef"},
		{"", `{"iccid":"` + iccid + `","customerRef":null}`, 400, "customerRef"},
		{"", `{"iccid":"` + iccid + `",`, 400, "JSON"},
		{"", `["` + iccid + `"]`, 400, "JSON object"},
		{"", `{"iccid":"` + iccid + `","customerRef":{"a":1}}`, 400, "customerRef"},
		{"", `{"iccid":"` + iccid + `","customerRef":"` + strings.Repeat("x", 201) + `"}`, 400, "200"},
		{"", `{"iccid":"` + iccid + `","customerRef":"` + strings.Repeat("x", 70_000) + `"}`, 400, "larger"},
		{"?iccid=12345&customerRef=x", "", 400, "ICCID"},
		{"?iccid=8999901999999999994&customerRef=x", "", 403, "not accessible"},
	} {
		res := e.esimPut("/v2.5/esims"+tc.query, tc.body)
		if res.status != tc.status {
			t.Errorf("PUT %s %.60s: status %d, want %d (%s)", tc.query, tc.body, res.status, tc.status, res.body)
			continue
		}
		if msg := res.message(t); !strings.Contains(msg, tc.mention) {
			t.Errorf("PUT %s %.60s: message %q does not mention %q", tc.query, tc.body, msg, tc.mention)
		}
	}
}

type esimDetails struct {
	ICCID                  string `json:"iccid"`
	MatchingID             string `json:"matchingId"`
	SMDPAddress            string `json:"smdpAddress"`
	ProfileStatus          string `json:"profileStatus"`
	FirstInstalledDateTime *int64 `json:"firstInstalledDateTime"`
	AppleInstallURL        string `json:"appleInstallUrl"`
	AndroidInstallURL      string `json:"androidInstallUrl"`
	State                  string `json:"state"`
}

func TestESIMDetails(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	iccid := iccids[0]
	for _, v := range []string{"/v2", "/v2.4", "/v2.5"} {
		res := e.get(v + "/esims/" + iccid)
		esimWantStatus(t, v, res, 200)
		golden(t, "esim_details_"+esimVersionName(v), esimScrub(res.body))
	}
	var d esimDetails
	res := e.get("/v2.5/esims/" + iccid)
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("details with PIN and PUK: Cache-Control %q, want no-store", cc)
	}
	res.json(t, &d)
	if d.FirstInstalledDateTime != nil || d.AppleInstallURL != "" || d.State != "active" {
		t.Errorf("details before install = %+v", d)
	}
	// Installed an hour later: epoch milliseconds.
	e.advance(time.Hour)
	esimInstall(t, e, iccid)
	e.get("/v2.5/esims/"+iccid).json(t, &d)
	if want := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC).UnixMilli(); d.FirstInstalledDateTime == nil || *d.FirstInstalledDateTime != want || d.ProfileStatus != "Installed" {
		t.Errorf("after install: firstInstalledDateTime %v, profileStatus %s; want %d, Installed", d.FirstInstalledDateTime, d.ProfileStatus, want)
	}
	lpa := "LPA:1$" + d.SMDPAddress + "$" + d.MatchingID
	apple := "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=" + lpa
	android := "https://esimsetup.android.com/esim_qrcode_provisioning?carddata=" + lpa
	for _, tc := range []struct{ path, apple, android string }{
		{"/v2.4/esims/" + iccid + "?additionalFields=appleInstallUrl", apple, ""},
		{"/v2.4/esims/" + iccid + "?additionalFields=installUrl", apple, android},
		{"/v2.5/esims/" + iccid + "?additionalFields=appleInstallUrl", apple, android},
		{"/v2.5/esims/" + iccid + "?additionalFields=installUrl", apple, android},
		{"/v2.5/esims/" + iccid + "?additionalFields=installUrl,appleInstallUrl", apple, android},
		{"/v2.5/esims/" + iccid + "?additionalFields=installUrl&additionalFields=appleInstallUrl", apple, android},
		{"/v2.5/esims/" + iccid, "", ""},
		{"/v2.5/esims/" + iccid + "?additionalFields=qrCode,installUrl", apple, android},
		{"/v2.4/esims/" + iccid + "?additionalFields=appleInstallUrl&additionalFields=qrCode", apple, ""},
	} {
		var got esimDetails
		res := e.get(tc.path)
		esimWantStatus(t, tc.path, res, 200)
		res.json(t, &got)
		if got.AppleInstallURL != tc.apple || got.AndroidInstallURL != tc.android {
			t.Errorf("%s: apple %q android %q, want %q %q", tc.path, got.AppleInstallURL, got.AndroidInstallURL, tc.apple, tc.android)
		}
	}
	res = e.get("/v2.5/esims/" + iccid + "?additionalFields=installUrl")
	golden(t, "esim_details_install_urls_v2_5", esimScrub(res.body))
	// additionalFields is a free string in both documents: a value esimd
	// has no field for (qrCode, sent by storefront code in the wild) is
	// ignored, beside known ones too.
	plain := e.get("/v2.5/esims/" + iccid)
	for _, q := range []string{"?additionalFields=qrCode", "?additionalFields=qrCode,smdp&additionalFields="} {
		res = e.get("/v2.5/esims/" + iccid + q)
		if res.status != 200 || !bytes.Equal(res.body, plain.body) {
			t.Errorf("additionalFields %s: %d %s; want the plain details", q, res.status, res.body)
		}
	}
}

// esimRouteCases are every route that takes an {iccid}, with a body that
// would be accepted.
var esimRouteCases = []struct{ method, path, body string }{
	{"GET", "/v2.5/esims/{iccid}", ""},
	{"DELETE", "/v2.5/esims/{iccid}", ""},
	{"GET", "/v2.5/esims/{iccid}/history", ""},
	{"GET", "/v2.5/esims/{iccid}/refresh", ""},
	{"GET", "/v2.5/esims/{iccid}/compatible/esim_1GB_7D_GB_V2", ""},
	{"POST", "/v2.5/esims/{iccid}/sms", `{"message":"hello"}`},
	{"GET", "/v2.5/esims/{iccid}/location", ""},
	{"POST", "/v2.5/esims/{iccid}/suspend", `{"suspend":true}`},
	{"GET", "/v2.5/esims/{iccid}/suspend", ""},
	{"GET", "/v2.5/esims/{iccid}/bundles", ""},
	{"GET", "/v2.5/esims/{iccid}/bundles/esim_1GB_7D_GB_V2", ""},
	{"GET", "/v2.2/esims/{iccid}/bundles", ""},
	{"GET", "/v2/esims/{iccid}/history", ""},
	{"PUT", "/v2.5/esims?iccid={iccid}&customerRef=x", ""},
}

func TestESIMAccessIsPerOrganisation(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	other, _, err := e.orgs.Create(ctx, orgs.NewOrganisation{Name: "Other", Currency: "USD", Sandbox: true, StartingBalance: 100 * money.Scale})
	if err != nil {
		t.Fatal(err)
	}
	_, theirs := esimPlace(t, e, other.ID, "esim_1GB_7D_GB_V2", 1)
	unknown := "8999901999999999994"
	for _, rc := range esimRouteCases {
		var msgs []string
		for _, iccid := range []string{theirs[0], unknown} {
			path := strings.ReplaceAll(rc.path, "{iccid}", iccid)
			res := e.do(rc.method, path, strings.NewReader(rc.body), "Content-Type", "application/json")
			if res.status != 403 {
				t.Errorf("%s %s: status %d, want 403 (%s)", rc.method, path, res.status, res.body)
				continue
			}
			msgs = append(msgs, strings.ReplaceAll(res.message(t), iccid, "<ICCID>"))
		}
		if len(msgs) == 2 && msgs[0] != msgs[1] {
			t.Errorf("%s %s: another organisation's eSIM answers %q, an unknown one %q; they must not differ", rc.method, rc.path, msgs[0], msgs[1])
		}
	}
	// The other organisation's eSIM was left alone.
	if es, err := e.esims.Get(ctx, other.ID, theirs[0]); err != nil || es.State != esims.StateActive {
		t.Errorf("other organisation's eSIM: %+v, %v", es, err)
	}
	for _, rc := range esimRouteCases {
		for _, bad := range []string{"12345", "89999010000000000a7", "8999901000000000000000017"} {
			path := strings.ReplaceAll(rc.path, "{iccid}", bad)
			res := e.do(rc.method, path, strings.NewReader(rc.body), "Content-Type", "application/json")
			if res.status != 400 || !strings.Contains(res.message(t), "ICCID") {
				t.Errorf("%s %s: %d %s; want 400 naming the ICCID", rc.method, path, res.status, res.body)
			}
		}
	}
}

func TestESIMVersionOnlyRoutes(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	for _, rc := range []struct{ method, path, body string }{
		{"DELETE", "/v2.4/esims/" + iccids[0], ""},
		{"POST", "/v2.4/esims/" + iccids[0] + "/suspend", `{"suspend":true}`},
		{"GET", "/v2.4/esims/" + iccids[0] + "/suspend", ""},
		{"GET", "/v2.5/esims/" + iccids[0] + "/qr", ""},
		{"GET", "/v2.5/esims/" + iccids[0] + "/nothing", ""},
	} {
		res := e.do(rc.method, rc.path, strings.NewReader(rc.body))
		if res.status != 403 || !strings.Contains(res.message(t), "not an endpoint") {
			t.Errorf("%s %s: %d %s; want 403 not an endpoint", rc.method, rc.path, res.status, res.body)
		}
	}
	if es, _ := e.esims.Get(context.Background(), e.org.ID, iccids[0]); es.State != esims.StateActive {
		t.Errorf("eSIM state %s after v2.4 calls to v2.5-only routes", es.State)
	}
}

func TestESIMHistory(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	iccid := iccids[0]
	e.advance(time.Hour)
	esimInstall(t, e, iccid)
	e.advance(time.Hour)
	esimUse(t, e, iccid, 20_000_000)  // 2%: first attachment, first use, 1% alert
	esimUse(t, e, iccid, 500_000_000) // 52%: 50% alert
	e.advance(time.Hour)
	esimWantStatus(t, "refresh", e.get("/v2.5/esims/"+iccid+"/refresh"), 200)
	if _, err := e.esims.SetCustomerRef(ctx, e.org.ID, iccid, "c-1"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"/v2.2", "/v2.3", "/v2.5"} {
		res := e.get(v + "/esims/" + iccid + "/history")
		esimWantStatus(t, v, res, 200)
		golden(t, "esim_history_"+esimVersionName(v), res.body)
	}
	var hist []map[string]any
	e.get("/v2.5/esims/"+iccid+"/history").json(t, &hist)
	var alerts []string
	for _, h := range hist {
		if at, ok := h["alertType"]; ok {
			if h["name"] != "eSIM Utilisation Alert" {
				t.Errorf("alertType on a %v entry", h["name"])
			}
			alerts = append(alerts, at.(string)+" "+h["bundleName"].(string))
		}
		if _, ok := h["bundle"]; ok {
			t.Errorf("v2.5 history entry uses the legacy key bundle: %v", h)
		}
	}
	if diff := cmp.Diff([]string{"1% Used esim_1GB_7D_GB_V2", "50% Used esim_1GB_7D_GB_V2"}, alerts); diff != "" {
		t.Errorf("utilisation alerts (-want +got):\n%s", diff)
	}
	var legacy []map[string]any
	e.get("/v2.2/esims/"+iccid+"/history").json(t, &legacy)
	for _, h := range legacy {
		if _, ok := h["bundleName"]; ok {
			t.Errorf("v2.2 history entry uses bundleName: %v", h)
		}
		if _, ok := h["alertType"]; ok {
			t.Errorf("v2.2 history entry has alertType: %v", h)
		}
	}
	// A new eSIM's history is a list, never null.
	_, fresh := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	if res := e.get("/v2.5/esims/" + fresh[0] + "/history"); res.status != 200 || !strings.HasPrefix(string(res.body), `[{"name":"Bundle Applied"`) {
		t.Errorf("fresh history: %d %s", res.status, res.body)
	}
}

func TestESIMRefreshCompatibleSMS(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	iccid := iccids[0]
	res := e.get("/v2.4/esims/" + iccid + "/refresh")
	esimWantStatus(t, "refresh", res, 200)
	if string(res.body) != `{"status":"Successfully refreshed SIM"}` {
		t.Errorf("refresh answer %s", res.body)
	}

	for _, tc := range []struct {
		bundle string
		want   string
	}{
		{"esim_3GB_30D_GB_V2", `{"compatible":true}`},     // Profile 1, like the eSIM
		{"esim_1GB_7D_REUL_V2", `{"compatible":true}`},    // Profile 1
		{"esim_1GB_7D_US_V2", `{"compatible":false}`},     // Profile 2
		{"esim_20GB_60D_RGBL_V2", `{"compatible":false}`}, // Profile 4
	} {
		res := e.get("/v2.4/esims/" + iccid + "/compatible/" + tc.bundle)
		if res.status != 200 || string(res.body) != tc.want {
			t.Errorf("compatible %s: %d %s, want %s", tc.bundle, res.status, res.body, tc.want)
		}
	}
	for _, name := range []string{"esim_1GB_7D_XX_V2", "ESIM_1GB_7D_GB_V2"} {
		res := e.get("/v2.5/esims/" + iccid + "/compatible/" + name)
		if res.status != 400 || !strings.Contains(res.message(t), name) || !strings.Contains(res.message(t), "case-sensitive") {
			t.Errorf("compatible with unknown bundle %s: %d %s", name, res.status, res.body)
		}
	}

	res = e.post("/v2.5/esims/"+iccid+"/sms", `{"message":"Welcome! Your eSIM is ready ✓"}`)
	if res.status != 200 || string(res.body) != `{"status":"sent"}` {
		t.Fatalf("sms: %d %s", res.status, res.body)
	}
	esimWantStatus(t, "sms from eSIM", e.post("/v2.5/esims/"+iccid+"/sms", `{"message":"`+strings.Repeat("é", 160)+`","from":"eSIM"}`), 200)
	sms, err := e.esims.SMS(ctx, e.org.ID, iccid)
	if err != nil || len(sms) != 2 || sms[0].Message != "Welcome! Your eSIM is ready ✓" || sms[0].Sender != "eSIM" {
		t.Errorf("stored SMS = %+v, %v", sms, err)
	}
	for _, tc := range []struct{ body, mention string }{
		{``, "empty"},
		{`{"message":`, "JSON"},
		{`"hello"`, "JSON object"},
		{`{}`, "message"},
		{`{"message":null}`, "message"},
		{`{"message":""}`, "message"},
		{`{"message":"` + strings.Repeat("x", 161) + `"}`, "160"},
		{`{"message":["hi"]}`, "message"},
		{`{"message":"hi","from":"ACME"}`, "from"},
	} {
		res := e.post("/v2.5/esims/"+iccid+"/sms", tc.body)
		if res.status != 400 || !strings.Contains(res.message(t), tc.mention) {
			t.Errorf("sms %.40s: %d %s; want 400 mentioning %q", tc.body, res.status, res.body, tc.mention)
		}
	}
}

func TestESIMLocation(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	iccid := iccids[0]
	// Never registered: 200 with empty fields and no lastSeen.
	res := e.get("/v2.5/esims/" + iccid + "/location")
	esimWantStatus(t, "location before registration", res, 200)
	golden(t, "esim_location_none_v2_5", res.body)
	esimInstall(t, e, iccid)
	e.advance(90 * time.Minute)
	esimUse(t, e, iccid, 1000)
	for _, v := range []string{"/v2.4", "/v2.5"} {
		res := e.get(v + "/esims/" + iccid + "/location")
		esimWantStatus(t, v, res, 200)
		golden(t, "esim_location_"+esimVersionName(v), res.body)
	}
}

func TestESIMSuspend(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	iccid := iccids[0]
	suspended := func() string {
		t.Helper()
		res := e.get("/v2.5/esims/" + iccid + "/suspend")
		esimWantStatus(t, "suspend status", res, 200)
		return string(res.body)
	}
	if got := suspended(); got != `{"suspended":false}` {
		t.Errorf("new eSIM: %s", got)
	}
	res := e.post("/v2.5/esims/"+iccid+"/suspend", `{"suspend":true}`)
	if res.status != 201 || string(res.body) != `{"status":"eSIM suspended successfully"}` {
		t.Fatalf("suspend: %d %s", res.status, res.body)
	}
	if got := suspended(); got != `{"suspended":true}` {
		t.Errorf("after suspend: %s", got)
	}
	var d esimDetails
	e.get("/v2.5/esims/"+iccid).json(t, &d)
	if d.State != "suspended" {
		t.Errorf("details state %q after suspend", d.State)
	}
	var l struct {
		ESIMs []struct{ State, LastAction string }
	}
	e.get("/v2.5/esims").json(t, &l)
	if l.ESIMs[0].State != "suspended" || l.ESIMs[0].LastAction != "eSIM Suspended" {
		t.Errorf("list after suspend: %+v", l.ESIMs)
	}
	res = e.post("/v2.5/esims/"+iccid+"/suspend", `{"suspend":true}`)
	if res.status != 400 || !strings.Contains(res.message(t), "already suspended") {
		t.Errorf("second suspend: %d %s", res.status, res.body)
	}
	// A suspended eSIM cannot use data.
	esimInstall(t, e, iccid)
	if _, err := e.esims.ApplyUsage(context.Background(), esims.UsageRecord{Org: e.org.ID, ICCID: iccid, Bytes: 10, Network: esimGB}); err == nil {
		t.Errorf("a suspended eSIM used data")
	}
	res = e.post("/v2.5/esims/"+iccid+"/suspend", `{"suspend":"false"}`)
	if res.status != 201 || string(res.body) != `{"status":"eSIM unsuspended successfully"}` {
		t.Fatalf("unsuspend: %d %s", res.status, res.body)
	}
	if got := suspended(); got != `{"suspended":false}` {
		t.Errorf("after unsuspend: %s", got)
	}
	res = e.post("/v2.5/esims/"+iccid+"/suspend", `{"suspend":false}`)
	if res.status != 400 || !strings.Contains(res.message(t), "not suspended") {
		t.Errorf("unsuspend an active eSIM: %d %s", res.status, res.body)
	}
	for _, tc := range []struct{ body, mention string }{
		{``, "empty"},
		{`{}`, "suspend is required"},
		{`{"suspend":null}`, "suspend is required"},
		{`{"suspended":true}`, "suspend is required"},
		{`{"suspend":"maybe"}`, "suspend"},
		{`{"suspend":1}`, "suspend"},
		{`suspend=true`, "JSON"},
	} {
		res := e.post("/v2.5/esims/"+iccid+"/suspend", tc.body)
		if res.status != 400 || !strings.Contains(res.message(t), tc.mention) {
			t.Errorf("suspend %s: %d %s; want 400 mentioning %q", tc.body, res.status, res.body, tc.mention)
		}
	}
	var hist []struct{ Name string }
	e.get("/v2.5/esims/"+iccid+"/history").json(t, &hist)
	var names []string
	for _, h := range hist {
		if strings.Contains(h.Name, "uspended") {
			names = append(names, h.Name)
		}
	}
	if diff := cmp.Diff([]string{"eSIM Suspended", "eSIM Unsuspended"}, names); diff != "" {
		t.Errorf("suspension history (-want +got):\n%s", diff)
	}
}

func TestESIMDelete(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	iccid := iccids[0]
	esimTopUp(t, e, iccid, "esim_3GB_30D_GB_V2")
	res := e.do("DELETE", "/v2.5/esims/"+iccid, nil)
	if res.status != 200 || string(res.body) != `{"status":"eSIM deleted successfully"}` {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	var d esimDetails
	e.get("/v2.5/esims/"+iccid).json(t, &d)
	if d.State != "deactivated" || d.ProfileStatus != "Deactivated" {
		t.Errorf("after delete: %+v", d)
	}
	if diff := cmp.Diff(map[string]string{"esim_1GB_7D_GB_V2": "revoked", "esim_3GB_30D_GB_V2": "revoked"}, e.bundleStatesOf(t, iccid)); diff != "" {
		t.Errorf("bundles after delete (-want +got):\n%s", diff)
	}
	for _, rc := range []struct{ method, path, body, mention string }{
		{"DELETE", "/v2.5/esims/" + iccid, "", "already deactivated"},
		{"GET", "/v2.5/esims/" + iccid + "/refresh", "", "deactivated"},
		{"POST", "/v2.5/esims/" + iccid + "/sms", `{"message":"hi"}`, "deactivated"},
		{"POST", "/v2.5/esims/" + iccid + "/suspend", `{"suspend":true}`, "deactivated"},
	} {
		res := e.do(rc.method, rc.path, strings.NewReader(rc.body), "Content-Type", "application/json")
		if res.status != 400 || !strings.Contains(res.message(t), rc.mention) {
			t.Errorf("%s %s: %d %s; want 400 mentioning %q", rc.method, rc.path, res.status, res.body, rc.mention)
		}
	}
	if res := e.get("/v2.5/esims/" + iccid + "/compatible/esim_3GB_30D_GB_V2"); string(res.body) != `{"compatible":false}` {
		t.Errorf("a deactivated eSIM is compatible: %s", res.body)
	}
}

// bundleStatesOf maps bundle names to the state of their newest assignment.
func (e *env) bundleStatesOf(t *testing.T, iccid string) map[string]string {
	t.Helper()
	var b struct {
		Bundles []struct {
			Name        string
			Assignments []struct{ BundleState string }
		}
	}
	res := e.get("/v2.5/esims/" + iccid + "/bundles?includeUsed=true")
	esimWantStatus(t, "bundles", res, 200)
	res.json(t, &b)
	out := map[string]string{}
	for _, x := range b.Bundles {
		out[x.Name] = x.Assignments[0].BundleState
	}
	return out
}

func TestESIMBundles(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	iccid := iccids[0]
	e.advance(time.Minute)
	esimTopUp(t, e, iccid, "esim_3GB_30D_GB_V2")
	e.advance(time.Minute)
	esimTopUp(t, e, iccid, "esim_1GB_7D_GB_V2")
	// Queued bundles, before any use.
	for _, v := range []string{"/v2.4", "/v2.5"} {
		res := e.get(v + "/esims/" + iccid + "/bundles")
		esimWantStatus(t, v, res, 200)
		golden(t, "esim_bundles_queued_"+esimVersionName(v), esimScrub(res.body))
	}
	// Use the first 1 GB bundle up and 123,456,789 bytes of the 3 GB one.
	esimInstall(t, e, iccid)
	e.advance(time.Hour)
	esimUse(t, e, iccid, 1_123_456_789)
	for _, v := range allVersions {
		res := e.get(v + "/esims/" + iccid + "/bundles?includeUsed=true")
		esimWantStatus(t, v, res, 200)
		golden(t, "esim_bundles_used_"+esimVersionName(v), esimScrub(res.body))
	}
	if diff := cmp.Diff(map[string]string{"esim_1GB_7D_GB_V2": "queued", "esim_3GB_30D_GB_V2": "active"}, e.bundleStatesOf(t, iccid)); diff != "" {
		t.Errorf("bundle states (-want +got):\n%s", diff)
	}

	type listed struct {
		Bundles []struct {
			Name        string
			Assignments []struct {
				ID          string
				BundleState string
				Allowances  []struct {
					InitialAmount   json.Number
					RemainingAmount json.Number
					Unit            string
				}
			}
		}
	}
	summary := func(path string) []string {
		t.Helper()
		res := e.get(path)
		esimWantStatus(t, path, res, 200)
		var l listed
		res.json(t, &l)
		out := []string{}
		for _, b := range l.Bundles {
			for _, a := range b.Assignments {
				out = append(out, b.Name+" "+a.BundleState)
			}
		}
		return out
	}
	base := "/v2.5/esims/" + iccid + "/bundles"
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"esim_1GB_7D_GB_V2 queued", "esim_3GB_30D_GB_V2 active"}},
		{"?includeUsed=false", []string{"esim_1GB_7D_GB_V2 queued", "esim_3GB_30D_GB_V2 active"}},
		{"?includeUsed=TRUE", []string{"esim_1GB_7D_GB_V2 queued", "esim_1GB_7D_GB_V2 depleted", "esim_3GB_30D_GB_V2 active"}},
		{"?includeUsed=true&limit=2", []string{"esim_1GB_7D_GB_V2 queued", "esim_3GB_30D_GB_V2 active"}},
		{"?includeUsed=true&limit=1", []string{"esim_1GB_7D_GB_V2 queued"}},
		{"?limit=200", []string{"esim_1GB_7D_GB_V2 queued", "esim_3GB_30D_GB_V2 active"}},
	} {
		if diff := cmp.Diff(tc.want, summary(base+tc.query)); diff != "" {
			t.Errorf("bundles%s (-want +got):\n%s", tc.query, diff)
		}
	}
	// v2.1 lists used assignments by default (includeUsed restores that later).
	if diff := cmp.Diff([]string{"esim_1GB_7D_GB_V2 ", "esim_1GB_7D_GB_V2 ", "esim_3GB_30D_GB_V2 "}, summary("/v2.1/esims/"+iccid+"/bundles")); diff != "" {
		t.Errorf("v2.1 default (-want +got):\n%s", diff)
	}
	// Allowances are in MB here, exactly.
	var l listed
	e.get(base).json(t, &l)
	if a := l.Bundles[1].Assignments[0].Allowances; len(a) != 1 || a[0].Unit != "MB" || a[0].InitialAmount != "3000" || a[0].RemainingAmount != "2876.543211" {
		t.Errorf("3 GB allowance = %+v, want 3000 MB with 2876.543211 MB left", a)
	}
	// The 3 GB bundle expires 30 days later.
	e.advance(30 * 24 * time.Hour)
	if _, err := e.esims.RunDue(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"esim_1GB_7D_GB_V2 queued"}, summary(base)); diff != "" {
		t.Errorf("after expiry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"esim_1GB_7D_GB_V2": "queued", "esim_3GB_30D_GB_V2": "expired"}, e.bundleStatesOf(t, iccid)); diff != "" {
		t.Errorf("states after expiry (-want +got):\n%s", diff)
	}

	for _, q := range []struct{ query, mention string }{
		{"includeUsed=yes", "includeUsed"},
		{"limit=0", "limit"},
		{"limit=201", "limit"},
		{"limit=ten", "limit"},
		{"limit=-1", "limit"},
	} {
		res := e.get(base + "?" + q.query)
		if res.status != 400 || !strings.Contains(res.message(t), q.mention) {
			t.Errorf("bundles?%s: %d %s; want 400 mentioning %s", q.query, res.status, res.body, q.mention)
		}
	}
}

func TestESIMBundleByName(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	iccid := iccids[0]
	e.advance(time.Minute)
	esimTopUp(t, e, iccid, "esim_1GB_7D_GB_V2")
	esimInstall(t, e, iccid)
	e.advance(time.Hour)
	esimUse(t, e, iccid, 250_000_000)
	for _, v := range []string{"/v2.2", "/v2.4", "/v2.5"} {
		res := e.get(v + "/esims/" + iccid + "/bundles/esim_1GB_7D_GB_V2")
		esimWantStatus(t, v, res, 200)
		golden(t, "esim_bundle_"+esimVersionName(v), esimScrub(res.body))
	}
	var b struct {
		Assignments []struct {
			BundleState string
			Allowances  []struct {
				RemainingAmount json.Number
				Unit            string
			}
		}
	}
	e.get("/v2.5/esims/"+iccid+"/bundles/esim_1GB_7D_GB_V2").json(t, &b)
	if len(b.Assignments) != 2 || b.Assignments[0].BundleState != "queued" || b.Assignments[1].BundleState != "active" {
		t.Fatalf("assignments = %+v, want the newest (queued) first", b.Assignments)
	}
	if a := b.Assignments[1].Allowances; len(a) != 1 || a[0].Unit != "BYTES" || a[0].RemainingAmount != "750000000" {
		t.Errorf("allowances of the active assignment = %+v, want 750000000 BYTES", a)
	}
	for _, name := range []string{"esim_3GB_30D_GB_V2", "ESIM_1GB_7D_GB_V2", "nothing"} {
		res := e.get("/v2.5/esims/" + iccid + "/bundles/" + name)
		if res.status != 400 || !strings.Contains(res.message(t), name) {
			t.Errorf("bundle %s: %d %s; want 400 naming it", name, res.status, res.body)
		}
	}
}
