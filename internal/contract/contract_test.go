package contract

import (
	"archive/zip"
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exchange is one request/response pair and what Validate must say of it.
type exchange struct {
	name   string
	method string // default GET
	target string // path and query as we serve them
	accept string
	status int    // default 200
	ctype  string // default application/json; "-" for none
	header map[string]string
	body   string
	// wantErr lists substrings the error must contain; empty means valid.
	wantErr []string
}

func (x exchange) run(t *testing.T, v *Validator) {
	t.Helper()
	method := x.method
	if method == "" {
		method = http.MethodGet
	}
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+x.target, nil)
	if x.accept != "" {
		req.Header.Set("Accept", x.accept)
	}
	status := x.status
	if status == 0 {
		status = http.StatusOK
	}
	h := http.Header{}
	switch x.ctype {
	case "":
		h.Set("Content-Type", "application/json; charset=utf-8")
	case "-":
	default:
		h.Set("Content-Type", x.ctype)
	}
	for k, val := range x.header {
		h.Set(k, val)
	}
	err := v.Validate(req, status, h, []byte(x.body))
	if len(x.wantErr) == 0 {
		if err != nil {
			t.Fatalf("want valid, got:\n%v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want an error containing %q, got nil", x.wantErr)
	}
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) == 0 {
		t.Fatalf("want *Error with problems, got %T: %v", err, err)
	}
	for _, want := range x.wantErr {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

// TestVendorDocuments checks the validator against the vendor's documents,
// which live outside the repository: without them it skips, once, saying
// where to put them (and fails under CI=true).
func TestVendorDocuments(t *testing.T) {
	ForTest(t)
	for _, c := range []struct {
		name  string
		check func(*testing.T)
	}{
		{"catalogue", checkCatalogue}, {"organisation", checkOrganisation}, {"eSIMs", checkESIMs}, {"orders", checkOrders},
		{"assignments", checkAssignments}, {"errors", checkErrors}, {"routing", checkRouting},
	} {
		t.Run(c.name, c.check)
	}
}

func runAll(t *testing.T, cases []exchange) {
	v := ForTest(t)
	for _, x := range cases {
		t.Run(x.name, func(t *testing.T) { x.run(t, v) })
	}
}

const (
	bundle = `{"name":"esim_1GB_7D_AD_V2","description":"eSIM, 1GB, 7 Days, Andorra, V2","groups":["Standard Fixed"],
		"countries":[{"name":"Andorra","region":"Europe","iso":"AD"}],"dataAmount":1000,"duration":7,
		"speed":["4G","5G"],"autostart":true,"unlimited":false,"roamingEnabled":[],"price":2.28,"billingType":"FixedCost"}`
	bundleV25 = `{"name":"esim_1GB_7D_AD_V2","groups":["Standard Fixed"],"dataAmount":1000,"duration":7,"price":6.9,
		"billingType":"FixedCost","profileName":"Profile 1",
		"allowances":[{"type":"DATA","service":"STANDARD","description":"ESIM_1GB_7D_ZONEC_U (data)","amount":1000.5,"unit":"MB","unlimited":false}]}`
	iccid = "8944538532008160222"
)

func checkCatalogue(t *testing.T) {
	runAll(t, []exchange{
		{name: "object v2.5", target: "/v2.5/catalogue?perPage=5",
			body: `{"bundles":[` + bundleV25 + `],"pageCount":1,"rows":1,"pageSize":5}`},
		{name: "object v2.4", target: "/v2.4/catalogue",
			body: `{"bundles":[` + bundle + `],"pageCount":1,"rows":1,"pageSize":50}`},
		{name: "object v2.1", target: "/v2.1/catalogue",
			body: `{"bundles":[],"pageCount":0,"rows":0,"pageSize":50}`},
		{name: "bare array fails", target: "/v2.5/catalogue",
			body: `[` + bundle + `]`, wantErr: []string{"value must be an object"}},
		{name: "paging fields required", target: "/v2.5/catalogue",
			body: `{"bundles":[]}`, wantErr: []string{`property "pageCount" is missing`}},
		{name: "price as string fails with its path", target: "/v2.5/catalogue",
			body:    `{"bundles":[{"name":"b","price":"2.28"}],"pageCount":1,"rows":1,"pageSize":1}`,
			wantErr: []string{"/bundles/0/price: value must be a number", `(got "2.28")`}},
		{name: "every problem listed", target: "/v2.5/catalogue",
			body:    `{"bundles":[{"name":1,"duration":"7"}],"pageCount":1,"rows":1,"pageSize":1}`,
			wantErr: []string{"/bundles/0/name", "/bundles/0/duration", "2 problems"}},
		{name: "dataAmount stays integer", target: "/v2.5/catalogue",
			body:    `{"bundles":[{"dataAmount":1000.5}],"pageCount":1,"rows":1,"pageSize":1}`,
			wantErr: []string{"/bundles/0/dataAmount: value must be an integer"}},
		{name: "allowance unit enum", target: "/v2.5/catalogue",
			body:    `{"bundles":[{"allowances":[{"unit":"GB"}]}],"pageCount":1,"rows":1,"pageSize":1}`,
			wantErr: []string{"/bundles/0/allowances/0/unit"}},
		{name: "null array fails", target: "/v2.5/catalogue",
			body:    `{"bundles":[{"countries":null}],"pageCount":1,"rows":1,"pageSize":1}`,
			wantErr: []string{"/bundles/0/countries"}},
		{name: "trailing data fails", target: "/v2.5/catalogue",
			body: `{"bundles":[],"pageCount":0,"rows":0,"pageSize":1}{}`, wantErr: []string{"not valid JSON"}},
		{name: "wrong content type fails", target: "/v2.5/catalogue", ctype: "text/plain",
			body: `{"bundles":[],"pageCount":0,"rows":0,"pageSize":1}`, wantErr: []string{"text/plain"}},
		{name: "bundle detail with group and groups v2.5", target: "/v2.5/catalogue/bundle/esim_1GB_7D_AD_V2",
			body: `{"name":"esim_1GB_7D_AD_V2","group":["Standard Fixed"],"groups":["Standard Fixed"],"price":2.28}`},
		{name: "bundle detail with group and groups v2.4", target: "/v2.4/catalogue/bundle/esim_1GB_7D_AD_V2",
			body: `{"name":"esim_1GB_7D_AD_V2","group":["Standard Fixed"],"groups":["Standard Fixed"],"price":2.28}`},
		{name: "prices stay strings", target: "/v2.5/catalogue/prices",
			body: `{"hash":"ab","prices":[{"country":{"iso":"GB","name":"United Kingdom"},"prices":[{"id":"0b6d8e1c-5f3a-4c47-9a39-2f1e0c1d2e3f","price":"1.20","currency":"USD"}]}]}`},
		{name: "price id must be a uuid", target: "/v2.5/catalogue/prices",
			body: `{"prices":[{"prices":[{"id":"42"}]}]}`, wantErr: []string{"/prices/0/prices/0/id"}},
	})
}

func checkOrganisation(t *testing.T) {
	org := `{"name":"Acme","currency":"USD","balance":1234.56,"testCredit":0.5,"testCreditExpiry":"2025-01-31","groups":["Standard Fixed"]}`
	runAll(t, []exchange{
		{name: "wrapped", target: "/v2.5/organisation", body: `{"organisations":[` + org + `]}`},
		{name: "wrapped v2", target: "/v2/organisation", body: `{"organisations":[` + org + `]}`},
		{name: "bare object fails", target: "/v2.5/organisation", body: org,
			wantErr: []string{`property "organisations" is missing`}},
		{name: "groups v2.2 bare array", target: "/v2.2/organisation/groups", body: `[{"name":"Standard Fixed"}]`},
		{name: "groups v2 bare array", target: "/v2/organisation/groups", body: `[{"name":"Standard Fixed"}]`},
		{name: "groups v2.2 object fails", target: "/v2.2/organisation/groups",
			body: `{"groups":[{"name":"Standard Fixed"}]}`, wantErr: []string{"value must be an array"}},
		{name: "group countries v2.1", target: "/v2.1/organisation/groups/Standard%20Fixed/countries",
			body: `[{"name":"Andorra","region":"Europe","iso":"AD"}]`},
		{name: "group countries gone in v2.4", target: "/v2.4/organisation/groups/Standard%20Fixed/countries",
			body: `[]`, wantErr: []string{"no operation"}},
		{name: "groups v2.4 object", target: "/v2.4/organisation/groups",
			body: `{"groups":[{"name":"Standard Fixed","priceListUrl":"https://example.com/p.csv"}]}`},
		{name: "groups v2.3 bare array fails", target: "/v2.3/organisation/groups",
			body: `[{"name":"Standard Fixed"}]`, wantErr: []string{"value must be an object"}},
		{name: "group name required", target: "/v2.5/organisation/groups",
			body: `{"groups":[{"desc":"x"}]}`, wantErr: []string{`/groups/0/name: property "name" is missing`}},
		{name: "top-up amounts are money", method: http.MethodPost, target: "/v2.5/organisation/balance?amount=1000",
			body: `{"amount":1000.5,"balance":2234.56,"ref":987654321}`},
		{name: "top-up ref stays integer", method: http.MethodPost, target: "/v2.5/organisation/balance?amount=1000",
			body: `{"amount":1000,"balance":2234.56,"ref":1.5}`, wantErr: []string{"/ref: value must be an integer"}},
	})
}

func checkESIMs(t *testing.T) {
	assignment := `{"id":"123","callTypeGroup":"data","initialQuantity":1000000000,"remainingQuantity":999000000,
		"assignmentDateTime":"2023-06-15T10:30:45.123456789Z","assignmentReference":"ref-0","bundleState":"%s","unlimited":false}`
	withState := func(s string) string { return strings.Replace(assignment, "%s", s, 1) }
	runAll(t, []exchange{
		{name: "list with paging", target: "/v2.5/esims?perPage=10",
			body: `{"esims":[{"iccid":"` + iccid + `","customerRef":"","physical":false,"state":"active"}],"pageCount":1,"pageSize":10,"rows":1}`},
		{name: "list without paging fails", target: "/v2.4/esims",
			body: `{"esims":[]}`, wantErr: []string{`property "pageCount" is missing`}},
		{name: "iccid as number fails", target: "/v2.5/esims",
			body:    `{"esims":[{"iccid":8944538532008160222}],"pageCount":1,"pageSize":10,"rows":1}`,
			wantErr: []string{"/esims/0/iccid: value must be a string"}},
		{name: "details v2.4 with appleInstallUrl", target: "/v2.4/esims/" + iccid + "?additionalFields=appleInstallUrl",
			body: `{"iccid":"` + iccid + `","matchingId":"ABC","smdpAddress":"rsp.example.net","profileStatus":"Released",
				"firstInstalledDateTime":1686825045123,"appleInstallUrl":"https://esimsetup.apple.com/x"}`},
		{name: "details smdpAddress with scheme fails", target: "/v2.5/esims/" + iccid,
			body: `{"smdpAddress":"http://rsp.example.net"}`, wantErr: []string{"/smdpAddress"}},
		{name: "details profileStatus spelling", target: "/v2.5/esims/" + iccid,
			body: `{"profileStatus":"installed"}`, wantErr: []string{"/profileStatus: value is not one of the allowed values"}},
		{name: "details firstInstalledDateTime is epoch ms", target: "/v2.5/esims/" + iccid,
			body: `{"firstInstalledDateTime":"2023-06-15T10:30:45Z"}`, wantErr: []string{"/firstInstalledDateTime: value must be an integer"}},
		{name: "history list", target: "/v2.5/esims/" + iccid + "/history",
			body: `[{"name":"Bundle Applied","bundleName":"esim_1GB_7D_AD_V2","date":"2023-04-07T00:50:31.618780311Z"},
				{"name":"eSIM Utilisation Alert","bundleName":"esim_1GB_7D_AD_V2","date":"2023-04-07T00:50:31Z","alertType":"50% Used"}]`},
		{name: "history v2.2 with bundle key", target: "/v2.2/esims/" + iccid + "/history",
			body: `[{"name":"Bundle Applied","bundle":"esim_1GB_7D_AD_V2","date":"2023-04-07T00:50:31Z"}]`},
		{name: "history object fails", target: "/v2.5/esims/" + iccid + "/history",
			body: `{"name":"Bundle Applied"}`, wantErr: []string{"value must be an array"}},
		{name: "history date must be a UTC timestamp", target: "/v2.5/esims/" + iccid + "/history",
			body: `[{"name":"Bundle Applied","date":"2023-04-07 00:50:31"}]`, wantErr: []string{"/0/date"}},
		{name: "bundles lapsed state", target: "/v2.5/esims/" + iccid + "/bundles",
			body: `{"bundles":[{"name":"b","description":"d","assignments":[` + withState("lapsed") + `]}]}`},
		{name: "bundles capitalised state fails", target: "/v2.5/esims/" + iccid + "/bundles",
			body:    `{"bundles":[{"name":"b","assignments":[` + withState("Active") + `]}]}`,
			wantErr: []string{"/bundles/0/assignments/0/bundleState: value is not one of the allowed values"}},
		{name: "bundles v2.4 lapsed", target: "/v2.4/esims/" + iccid + "/bundles",
			body: `{"bundles":[{"name":"b","assignments":[` + withState("lapsed") + `]}]}`},
		{name: "bundle assignments with BYTES allowances", target: "/v2.5/esims/" + iccid + "/bundles/esim_1GB_7D_AD_V2",
			body: `{"assignments":[{"bundleState":"queued","allowances":[{"type":"DATA","service":"STANDARD","initialAmount":1000000000,"remainingAmount":1000000000,"unit":"BYTES","unlimited":false}]}]}`},
		{name: "offset timestamp fails", target: "/v2.5/esims/" + iccid + "/bundles/b",
			body:    `{"assignments":[{"assignmentDateTime":"2023-06-15T10:30:45+01:00"}]}`,
			wantErr: []string{"/assignments/0/assignmentDateTime", "UTC"}},
		{name: "suspend is 201", method: http.MethodPost, target: "/v2.5/esims/" + iccid + "/suspend", status: 201,
			body: `{"status":"eSIM suspended successfully"}`},
		{name: "suspend 200 fails", method: http.MethodPost, target: "/v2.5/esims/" + iccid + "/suspend",
			body: `{"status":"eSIM suspended successfully"}`, wantErr: []string{"status is not supported"}},
		{name: "suspend status", target: "/v2.5/esims/" + iccid + "/suspend", body: `{"suspended":true}`},
		{name: "delete on v2.4 falls back to v2.5", method: http.MethodDelete, target: "/v2.4/esims/" + iccid,
			body: `{"status":"eSIM deleted successfully"}`},
		{name: "compatible required", target: "/v2.5/esims/" + iccid + "/compatible/b", body: `{}`,
			wantErr: []string{`property "compatible" is missing`}},
	})
}

func checkOrders(t *testing.T) {
	runAll(t, []exchange{
		{name: "transaction v2.5", method: http.MethodPost, target: "/v2.5/orders",
			body: `{"order":[{"esims":[{"iccid":"` + iccid + `","matchingId":"M","smdpAddress":"rsp.example.net"}],"type":"bundle","item":"b",
				"iccids":["` + iccid + `"],"quantity":1,"subTotal":2.28,"pricePerUnit":2.28,"AllowReassign":false}],"total":2.28,"currency":"USD",
				"status":"completed","statusMessage":"Order completed: 1 eSIMs assigned","orderReference":"0b6d8e1c-5f3a-4c47-9a39-2f1e0c1d2e3f",
				"createdDate":"2024-12-11T10:47:00.34523Z","assigned":true,"runningBalance":"1234.56"}`},
		{name: "runningBalance as number fails", method: http.MethodPost, target: "/v2.5/orders",
			body: `{"total":2.28,"orderReference":"r","runningBalance":1234.56}`, wantErr: []string{"/runningBalance", "form 2"}},
		{name: "iccids must be digits", method: http.MethodPost, target: "/v2.5/orders",
			body: `{"order":[{"iccids":["89-44"]}],"orderReference":"r"}`, wantErr: []string{"/order/0/iccids/0"}},
		{name: "validate", method: http.MethodPost, target: "/v2.4/orders",
			body: `{"order":[{"type":"bundle","item":"b","quantity":2,"subTotal":4.56,"pricePerUnit":2.28,"AllowReassign":false}],
				"total":4.56,"valid":true,"currency":"USD","createdDate":"2024-12-11T10:47:00Z","assigned":false}`},
		{name: "neither form fails", method: http.MethodPost, target: "/v2.5/orders",
			body: `{"total":2.28}`, wantErr: []string{"matches none of the 2 accepted forms", `form 1: property "valid" is missing`, `form 2: property "orderReference" is missing`}},
		{name: "list paged", target: "/v2.5/orders?page=1&limit=10",
			body: `{"orders":[{"order":[{"type":"bundle","item":"b","quantity":1,"subTotal":2.28,"pricePerUnit":2.28}],"total":2.28,"currency":"USD","status":"completed"}],"pageCount":1,"pageSize":10,"rows":1}`},
		{name: "list bare array", target: "/v2.2/orders",
			body: `[{"order":[{"type":"bundleAssignment","item":"ref-0","quantity":0,"pricePerUnit":0}],"total":0,"currency":"USD"}]`},
		{name: "list single object fails", target: "/v2.5/orders",
			body: `{"order":[],"total":2.28}`, wantErr: []string{"matches none of the 2 accepted forms"}},
		{name: "inventory batch total stays integer", target: "/v2.5/inventory",
			body:    `{"bundles":[{"name":"b","available":[{"id":1,"total":1.5,"remaining":1,"expiry":"2026-01-31"}],"speed":null}]}`,
			wantErr: []string{"/bundles/0/available/0/total: value must be an integer"}},
	})
}

func checkAssignments(t *testing.T) {
	csvBody := "ICCID,Matching ID,RSP URL,Bundle,Reference\r\n" + iccid + ",ABC-123,rsp.example.net,esim_1GB_7D_AD_V2,ref\r\n"
	var zipBody bytes.Buffer
	zw := zip.NewWriter(&zipBody)
	w, _ := zw.Create(iccid + ".png")
	_, _ = w.Write([]byte("\x89PNG"))
	_ = zw.Close()
	details := `{"iccid":"` + iccid + `","matchingId":"ABC-123","smdpAddress":"rsp.example.net","profileStatus":"Released","pin":"1234","puk":"12345678"}`
	runAll(t, []exchange{
		{name: "csv by Accept", target: "/v2.5/esims/assignments?reference=ref", accept: "text/csv", ctype: "text/csv", body: csvBody},
		{name: "csv by default", target: "/v2.4/esims/assignments?reference=ref", ctype: "text/csv; charset=utf-8", body: csvBody},
		{name: "json without Accept fails", target: "/v2.5/esims/assignments?reference=ref", body: details,
			wantErr: []string{"without an Accept header this operation answers text/csv"}},
		{name: "json by Accept", target: "/v2.5/esims/assignments?reference=ref", accept: "application/json", body: details},
		{name: "json list by Accept", target: "/v2.5/esims/assignments?reference=a&reference=b", accept: "application/json",
			body: `[` + details + `,` + details + `]`},
		{name: "json when csv asked fails", target: "/v2.5/esims/assignments?reference=ref", accept: "text/csv", body: details,
			wantErr: []string{"does not match the request's Accept"}},
		{name: "zip", target: "/v2.5/esims/assignments?reference=ref", accept: "application/zip", ctype: "application/zip", body: zipBody.String()},
		{name: "broken zip fails", target: "/v2.5/esims/assignments?reference=ref", accept: "application/zip", ctype: "application/zip",
			body: "PK not really", wantErr: []string{"ZIP body does not open"}},
		{name: "csv header checked", target: "/v2.5/esims/assignments?reference=ref", accept: "text/csv", ctype: "text/csv",
			body: "iccid,matchingId\n" + iccid + ",ABC\n", wantErr: []string{"CSV header row must start with"}},
		{name: "path alias", target: "/v2.5/esims/assignments/ref", ctype: "text/csv", body: csvBody},
		{name: "deprecated csv route", target: "/v2.5/esims/csv/ref", ctype: "text/csv", body: csvBody},
		{name: "deprecated qr route", target: "/v2.5/esims/qr/ref", ctype: "application/zip", body: zipBody.String()},
	})
}

func checkErrors(t *testing.T) {
	retry := map[string]string{"Retry-After": "1"}
	runAll(t, []exchange{
		{name: "403 message", target: "/v2.5/catalogue", status: 403, body: `{"message":"x"}`},
		{name: "403 other shape fails", target: "/v2.5/catalogue", status: 403, body: `{"error":"x"}`,
			wantErr: []string{`needs a "message" string`, "/error: unexpected key"}},
		{name: "empty message fails", target: "/v2.5/catalogue", status: 400, body: `{"message":""}`,
			wantErr: []string{"/message: message must not be empty"}},
		{name: "plain text fails", target: "/v2.5/catalogue", status: 400, ctype: "text/plain", body: `bad request`,
			wantErr: []string{"application/json", "JSON object"}},
		{name: "POST /orders bad key is 403 JSON", method: http.MethodPost, target: "/v2.5/orders", status: 403,
			body: `{"message":"Forbidden"}`},
		{name: "401 is not used", method: http.MethodPost, target: "/v2.5/orders", status: 401,
			body: `{"message":"Unauthorized"}`, wantErr: []string{"status 401 is not one the API uses"}},
		{name: "404 on a known route fails", target: "/v2.5/esims/" + iccid, status: 404,
			body: `{"message":"not found"}`, wantErr: []string{"status 404"}},
		{name: "410", target: "/v2.5/esims/assignments?reference=x", status: 410, body: `{"message":"eSIM deactivated"}`},
		{name: "429 everywhere", method: http.MethodPost, target: "/v2.5/orders", status: 429, header: retry,
			body: `{"message":"Rate limit exceeded"}`},
		{name: "429 needs Retry-After", target: "/v2.5/catalogue", status: 429,
			body: `{"message":"Rate limit exceeded"}`, wantErr: []string{"Retry-After"}},
		{name: "429 message is literal", target: "/v2.5/catalogue", status: 429, header: retry,
			body: `{"message":"slow down"}`, wantErr: []string{`"Rate limit exceeded"`}},
		{name: "503 with Retry-After", target: "/v2.5/orders/ref", status: 503, header: map[string]string{"Retry-After": "5"},
			body: `{"message":"Processing"}`},
		{name: "unknown route 403", target: "/v2.5/bundles", status: 403, body: `{"message":"Forbidden"}`},
		{name: "unknown route 404 fails", target: "/v2.5/bundles", status: 404, body: `{"message":"Not Found"}`,
			wantErr: []string{"no operation for GET /v2.5/bundles", "403"}},
		{name: "unknown version 403", target: "/v3/catalogue", status: 403, body: `{"message":"Forbidden"}`},
	})
}

func checkRouting(t *testing.T) {
	runAll(t, []exchange{
		{name: "unknown path", target: "/v2.5/nope", body: `{}`, wantErr: []string{"no operation for GET /v2.5/nope"}},
		{name: "unknown method", method: http.MethodPatch, target: "/v2.5/catalogue", body: `{}`,
			wantErr: []string{"no operation for PATCH /v2.5/catalogue"}},
		{name: "unknown version", target: "/v2.6/catalogue", body: `{}`, wantErr: []string{"no operation for GET /v2.6/catalogue"}},
		{name: "no prefix", target: "/catalogue", body: `{}`, wantErr: []string{"no operation for GET /catalogue"}},
		{name: "api details v2.3", target: "/v2.3/", body: `["GET /catalogue"]`},
		{name: "api details v2.1 without slash", target: "/v2.1", body: `["GET /catalogue"]`},
		{name: "api details gone in v2.5", target: "/v2.5/", body: `["GET /catalogue"]`, wantErr: []string{"no operation"}},
		{name: "literal segment wins", target: "/v2.5/esims/assignments?reference=r", accept: "application/json", body: `{"iccid":"` + iccid + `"}`},
		{name: "escaped bundle name", target: "/v2.5/catalogue/bundle/esim%201GB", body: `{"name":"esim 1GB"}`},
		{name: "rate-limit headers checked", target: "/v2.5/esims/" + iccid,
			header: map[string]string{"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "many", "X-Ratelimit-Reset": "soon"},
			body:   `{}`, wantErr: []string{"X-Ratelimit-Remaining", "X-Ratelimit-Reset"}},
		{name: "rate-limit headers valid", target: "/v2.5/esims/" + iccid,
			header: map[string]string{"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "9", "X-Ratelimit-Cost": "1",
				"X-Ratelimit-Reset": "2024-12-11T10:47:01Z"},
			body: `{}`},
	})
}

func TestLocate(t *testing.T) {
	t.Run("env wins", func(t *testing.T) {
		t.Setenv(EnvSpecDir, "/some/where")
		if got := Locate(); got != "/some/where" {
			t.Fatalf("Locate() = %q, want /some/where", got)
		}
	})
	t.Run("walks up", func(t *testing.T) {
		t.Setenv(EnvSpecDir, "")
		root := t.TempDir()
		spec := filepath.Join(root, "shared", "spec")
		deep := filepath.Join(root, "main", "internal", "contract")
		for _, d := range []string{spec, deep} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(spec, fileV25), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Chdir(deep)
		if got := Locate(); got != spec {
			t.Fatalf("Locate() = %q, want %q", got, spec)
		}
	})
	t.Run("load names the variable", func(t *testing.T) {
		_, err := Load(t.TempDir())
		if err == nil || !strings.Contains(err.Error(), EnvSpecDir) {
			t.Fatalf("Load(empty dir) = %v, want an error naming %s", err, EnvSpecDir)
		}
	})
}

// TestOverridesDocumented keeps the package documentation in step with the
// override table.
func TestOverridesDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range overrides {
		if seen[o.name] {
			t.Errorf("override %s listed twice", o.name)
		}
		seen[o.name] = true
		if !bytes.Contains(doc, []byte(o.name)) {
			t.Errorf("override %s (%s) is not described in doc.go", o.name, o.notes)
		}
		if o.notes == "" || o.in == 0 {
			t.Errorf("override %s needs a notes citation and a document set", o.name)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	dir := Locate()
	if dir == "" {
		b.Skipf("set %s", EnvSpecDir)
	}
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}
