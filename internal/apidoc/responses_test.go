package apidoc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/esimd/esimd/internal/apidoc"
	"github.com/esimd/esimd/internal/app"
	"github.com/esimd/esimd/internal/app/apptest"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

const (
	testKey    = "esimd_test_apidoc_sandbox_key_01"
	adminToken = "esimd-test-apidoc-admin-token"
)

// startServer runs the real application (apptest, apidoc mounted as
// esimd serve mounts it) and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	bundle := func(name, price string, gb int64) catalogue.Bundle {
		return catalogue.Bundle{Name: name, Description: name, Groups: []string{catalogue.GroupFixed}, Countries: []string{"GB"}, Roaming: []string{"FR"},
			DataBytes: gb * 1_000_000_000, DurationDays: 7, Autostart: true, Speeds: []string{"4G"}, Profile: "Profile 1",
			Price: money.MustParse(price), BillingType: catalogue.BillingFixedCost,
			Allowances: []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: name + " (data)", Amount: gb * 1_000_000_000}}}
	}
	data := catalogue.Data{Currency: "USD",
		Countries: []catalogue.Country{{ISO: "GB", Name: "United Kingdom", Region: "Europe"}, {ISO: "FR", Name: "France", Region: "Europe"}},
		Bundles:   []catalogue.Bundle{bundle("esim_1GB_7D_GB_V2", "1.73", 1), bundle("esim_3GB_7D_GB_V2", "4.5", 3)},
		Networks: []catalogue.Network{{CountryISO: "GB", Profile: "Profile 1", Name: "EE Limited", Brand: "EE", MCC: "234", MNC: "30", TADIG: "GBRME", Speeds: []string{"4G"}},
			{CountryISO: "FR", Profile: "Profile 1", Name: "Orange France", Brand: "Orange", MCC: "208", MNC: "01", TADIG: "FRAF1", Speeds: []string{"4G"}}},
	}
	env := apptest.New(t, apptest.Options{Catalogue: &data, AdminToken: adminToken, Workers: app.DueWork, RealClock: true,
		Org: &orgs.NewOrganisation{Name: "Docs", Currency: "USD", Sandbox: true,
			StartingBalance: money.MustParse("500"), RefundsEnabled: true, APIKey: testKey}})
	if env.Org.ID != 1 {
		t.Fatalf("the organisation is %d, want 1", env.Org.ID)
	}
	return env.URL
}

var registerDecoders sync.Once

var updateExamples = flag.Bool("update-examples", false, "record "+apidoc.ExamplesFile+" from the answers TestDocumentMatchesAnswers gets")

// checker validates live answers against the document.
type checker struct {
	t        *testing.T
	base     string
	doc      *openapi3.T
	checked  map[string]bool
	examples map[string]apidoc.Example // the first success per operation, else its first answer
}

// record keeps an exchange as the operation's example: the first success,
// or the first answer when none succeeds.
func (c *checker) record(key string, public bool, method, path string, reqBody []byte, header []string, status int, ct string, body []byte) {
	if old, ok := c.examples[key]; ok && (old.Response.Status < 300 || status >= 300) {
		return
	}
	q := apidoc.ExampleRequest{Method: method, Path: path, Body: string(reqBody)}
	if !public {
		q.Headers = append(q.Headers, [2]string{"X-API-Key", "$KEY"})
	}
	for i := 0; i+1 < len(header); i += 2 {
		name, value := header[i], header[i+1]
		switch {
		case name == "X-API-Key":
			continue // a deliberately wrong key; the example shows the right one
		case name == "Authorization" && value == "Bearer "+adminToken:
			q.Headers, value = nil, "Bearer $ESIMD_ADMIN_TOKEN" // the admin API takes no API key
		}
		q.Headers = append(q.Headers, [2]string{name, value})
	}
	c.examples[key] = apidoc.Example{Request: q, Response: apidoc.ExampleResponse{Status: status, ContentType: ct, Body: shown(ct, body)}}
}

// shown is a body as the reference page shows it: JSON indented and cut
// after 40 lines, text cut after 6 lines, binary described.
func shown(ct string, body []byte) string {
	cut := func(s string, n int) string {
		lines := strings.SplitAfter(s, "\n")
		if len(lines) <= n {
			return s
		}
		return strings.Join(lines[:n], "") + "…"
	}
	mt, _, _ := strings.Cut(ct, ";")
	switch {
	case len(body) == 0:
		return ""
	case mt == "application/json":
		var b bytes.Buffer
		if json.Indent(&b, body, "", "  ") != nil {
			return cut(string(body), 40)
		}
		return cut(b.String(), 40)
	case strings.HasPrefix(mt, "text/") || mt == "application/yaml":
		return cut(string(body), 6)
	}
	return fmt.Sprintf("(%d bytes of %s)", len(body), mt)
}

func (c *checker) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError: true, IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(map[string]openapi3.StringFormatValidator{
			"date-time": openapi3.NewCallbackValidator(func(s string) error { _, err := time.Parse(time.RFC3339Nano, s); return err }),
			"date":      openapi3.NewCallbackValidator(func(s string) error { _, err := time.Parse(time.DateOnly, s); return err }),
			"uuid": openapi3.NewCallbackValidator(func(s string) error {
				if len(s) != 36 || strings.Count(s, "-") != 4 {
					return errors.New("not a UUID")
				}
				return nil
			}),
		})},
	}
}

// call sends a request to path, documented as template, and validates the
// answer; it returns the body.
func (c *checker) call(method, template, path string, body any, header ...string) []byte {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("X-API-Key", testKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	item := c.doc.Paths.Value(template)
	if item == nil || item.GetOperation(method) == nil {
		c.t.Fatalf("%s %s is not in the document", method, template)
	}
	op := item.GetOperation(method)
	params := map[string]string{}
	tsegs, psegs := strings.Split(template, "/"), strings.Split(strings.SplitN(path, "?", 2)[0], "/")
	for i := range tsegs {
		if strings.HasPrefix(tsegs[i], "{") && i < len(psegs) {
			params[strings.Trim(tsegs[i], "{}")] = psegs[i]
		}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params,
			Route: &routers.Route{Spec: c.doc, Path: template, PathItem: item, Method: method, Operation: op}},
		Status: res.StatusCode, Header: res.Header, Options: c.options(),
	}
	var reqBody []byte
	if body != nil {
		reqBody, _ = json.Marshal(body)
	}
	c.record(method+" "+template, op.Security != nil && len(*op.Security) == 0, method, path, reqBody, header, res.StatusCode, res.Header.Get("Content-Type"), data)
	in.SetBodyBytes(data)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("%s %s → %d does not match openapi.yaml:\n%v\nbody: %.600s", method, path, res.StatusCode, err, data)
	}
	if res.StatusCode >= 300 {
		c.t.Logf("%s %s → %d %s", method, path, res.StatusCode, data)
	}
	c.checked[method+" "+template] = true
	return data
}

// TestDocumentMatchesAnswers drives the real server through every
// documented operation and validates each answer against the document.
func TestDocumentMatchesAnswers(t *testing.T) {
	registerDecoders.Do(func() {
		raw := func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			data, err := io.ReadAll(body)
			return string(data), err
		}
		for _, mt := range []string{"text/csv", "application/zip", "application/yaml", "text/html"} {
			openapi3filter.RegisterBodyDecoder(mt, raw)
		}
	})
	doc, err := apidoc.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := &checker{t: t, base: startServer(t), doc: doc, checked: map[string]bool{}, examples: map[string]apidoc.Example{}}
	var v struct {
		OrderReference string `json:"orderReference"`
		ApplyReference string `json:"applyReference"`
		Order          []struct {
			ICCIDs []string `json:"iccids"`
		} `json:"order"`
		Bundles []struct {
			Available []struct {
				ID int64 `json:"id"`
			} `json:"available"`
			Assignments []struct {
				ID string `json:"id"`
			} `json:"assignments"`
		} `json:"bundles"`
		Assignments []struct {
			ID string `json:"id"`
		} `json:"assignments"`
	}
	decode := func(b []byte) {
		v.Bundles, v.Assignments = nil, nil
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
	}
	const p = "/v2.5"
	c.call("GET", "/healthz", "/healthz", nil)
	c.call("GET", "/openapi.yaml", "/openapi.yaml", nil)
	c.call("GET", "/docs", "/docs", nil)
	c.call("GET", "/", "/", nil)                            // an API client: the gateway's 403
	c.call("GET", "/", "/", nil, "Accept", "text/html,*/*") // a browser: the entry page
	c.call("GET", p+"/catalogue", p+"/catalogue?countries=GB", nil)
	c.call("GET", p+"/catalogue/bundle/{name}", p+"/catalogue/bundle/esim_1GB_7D_GB_V2", nil)
	c.call("GET", p+"/catalogue/bundle/{name}", p+"/catalogue/bundle/nope", nil)
	c.call("GET", p+"/networks", p+"/networks?returnAll=true", nil)
	c.call("GET", p+"/catalogue/prices", p+"/catalogue/prices", nil) // 403: fixed-cost billing only
	c.call("GET", p+"/organisation", p+"/organisation", nil)
	c.call("GET", p+"/organisation", p+"/organisation", nil, "X-API-Key", "esimd_not_a_key_not_a_key_0000")
	c.call("POST", p+"/organisation/balance", p+"/organisation/balance?amount=1000", nil)
	c.call("GET", p+"/organisation/groups", p+"/organisation/groups", nil)
	c.call("GET", "/v2.2/organisation/groups/{group}/countries", "/v2.2/organisation/groups/Standard%20Fixed/countries", nil)
	c.call("GET", "/v2.4/", "/v2.4/", nil)

	line := map[string]any{"type": "bundle", "item": "esim_1GB_7D_GB_V2", "quantity": 1}
	c.call("POST", p+"/orders", p+"/orders", map[string]any{"type": "validate", "assign": true, "order": []any{line}})
	decode(c.call("POST", p+"/orders", p+"/orders", map[string]any{"type": "transaction", "assign": true, "order": []any{line}}))
	ref, iccid := v.OrderReference, v.Order[0].ICCIDs[0]
	c.call("GET", p+"/orders", p+"/orders?includeIccids=true&limit=5", nil)
	c.call("GET", p+"/orders/{orderReference}", p+"/orders/"+ref, nil)
	inv := map[string]any{"type": "bundle", "item": "esim_3GB_7D_GB_V2", "quantity": 4}
	c.call("POST", p+"/orders", p+"/orders", map[string]any{"type": "transaction", "order": []any{inv}})
	decode(c.call("GET", p+"/inventory", p+"/inventory", nil))
	c.call("POST", p+"/inventory/refund", p+"/inventory/refund", map[string]any{"usageId": v.Bundles[0].Available[0].ID, "quantity": 1})
	decode(c.call("POST", p+"/esims/apply", p+"/esims/apply", map[string]any{"name": "esim_3GB_7D_GB_V2", "iccid": iccid}))
	c.call("POST", p+"/esims/{iccid}/bundles", p+"/esims/"+iccid+"/bundles", map[string]any{"name": "esim_3GB_7D_GB_V2"})

	c.call("GET", p+"/esims", p+"/esims?perPage=10", nil)
	c.call("PUT", p+"/esims", p+"/esims?iccid="+iccid+"&customerRef=c-1", nil)
	c.call("GET", p+"/esims/{iccid}", p+"/esims/"+iccid+"?additionalFields=installUrl", nil)
	c.call("POST", "/sandbox/v1/esims/{iccid}/install", "/sandbox/v1/esims/"+iccid+"/install", nil)
	c.call("POST", "/sandbox/v1/esims/{iccid}/attach", "/sandbox/v1/esims/"+iccid+"/attach", map[string]any{"country": "GB"})
	c.call("POST", "/sandbox/v1/esims/{iccid}/usage", "/sandbox/v1/esims/"+iccid+"/usage", map[string]any{"megabytes": 600})
	c.call("GET", p+"/esims/{iccid}", p+"/esims/"+iccid, nil)
	c.call("GET", p+"/esims/{iccid}/history", p+"/esims/"+iccid+"/history", nil)
	c.call("GET", p+"/esims/{iccid}/refresh", p+"/esims/"+iccid+"/refresh", nil)
	c.call("GET", p+"/esims/{iccid}/compatible/{bundle}", p+"/esims/"+iccid+"/compatible/esim_3GB_7D_GB_V2", nil)
	c.call("POST", p+"/esims/{iccid}/sms", p+"/esims/"+iccid+"/sms", map[string]any{"message": "hello"})
	c.call("GET", p+"/esims/{iccid}/location", p+"/esims/"+iccid+"/location", nil)
	c.call("GET", "/v2.2/esims/{iccid}/qr", "/v2.2/esims/"+iccid+"/qr", nil)
	c.call("POST", p+"/esims/{iccid}/suspend", p+"/esims/"+iccid+"/suspend", map[string]any{"suspend": true})
	c.call("GET", p+"/esims/{iccid}/suspend", p+"/esims/"+iccid+"/suspend", nil)
	c.call("POST", p+"/esims/{iccid}/suspend", p+"/esims/"+iccid+"/suspend", map[string]any{"suspend": false})
	c.call("GET", p+"/esims/{iccid}/bundles", p+"/esims/"+iccid+"/bundles?includeUsed=true", nil)
	decode(c.call("GET", p+"/esims/{iccid}/bundles/{name}", p+"/esims/"+iccid+"/bundles/esim_3GB_7D_GB_V2", nil))
	if len(v.Assignments) < 2 {
		t.Fatalf("want two assignments of esim_3GB_7D_GB_V2, got %+v", v.Assignments)
	}
	c.call("DELETE", p+"/esims/{iccid}/bundles/{name}", p+"/esims/"+iccid+"/bundles/esim_3GB_7D_GB_V2?type=validate", nil)
	c.call("DELETE", p+"/esims/{iccid}/bundles/{name}/assignments/{assignmentId}",
		p+"/esims/"+iccid+"/bundles/esim_3GB_7D_GB_V2/assignments/"+v.Assignments[0].ID, nil)
	c.call("DELETE", p+"/esims/{iccid}/bundles/{name}/applications/{assignmentId}",
		p+"/esims/"+iccid+"/bundles/esim_3GB_7D_GB_V2/applications/"+v.Assignments[1].ID+"?refundToBalance=true", nil)
	c.call("DELETE", p+"/esims/{iccid}/bundles/{name}", p+"/esims/"+iccid+"/bundles/esim_1GB_7D_GB_V2", nil)

	for _, accept := range []string{"application/json", "text/csv", "application/zip"} {
		c.call("GET", p+"/esims/assignments", p+"/esims/assignments?reference="+ref+"&additionalFields=installUrl", nil, "Accept", accept)
	}
	c.call("GET", p+"/esims/assignments/{reference}", p+"/esims/assignments/"+ref, nil, "Accept", "application/json")
	c.call("GET", p+"/esims/qr/{reference}", p+"/esims/qr/"+ref, nil)
	c.call("GET", p+"/esims/csv/{reference}", p+"/esims/csv/"+ref, nil)

	c.call("GET", "/esimd/v1/ledger", "/esimd/v1/ledger?limit=2", nil)
	c.call("GET", "/sandbox/v1/clock", "/sandbox/v1/clock", nil)
	c.call("POST", "/sandbox/v1/clock/advance", "/sandbox/v1/clock/advance", map[string]any{"duration": "2d"})
	c.call("GET", "/sandbox/v1/esims/{iccid}/sms", "/sandbox/v1/esims/"+iccid+"/sms", nil)
	c.call("GET", "/sandbox/v1/callbacks", "/sandbox/v1/callbacks?limit=50", nil)
	c.call("POST", "/sandbox/v1/esims/{iccid}/uninstall", "/sandbox/v1/esims/"+iccid+"/uninstall", nil)
	c.call("POST", "/sandbox/v1/faults", "/sandbox/v1/faults", map[string]any{"path": "/catalogue", "status": 503, "count": 1})
	c.call("GET", "/sandbox/v1/faults", "/sandbox/v1/faults", nil)
	c.call("GET", p+"/catalogue", p+"/catalogue", nil) // the injected 503
	c.call("DELETE", "/sandbox/v1/faults", "/sandbox/v1/faults", nil)
	c.call("PUT", "/sandbox/v1/autopilot", "/sandbox/v1/autopilot", map[string]any{"enabled": true, "bytesPerHour": 1000})
	c.call("GET", "/sandbox/v1/autopilot", "/sandbox/v1/autopilot", nil)
	c.call("PUT", "/sandbox/v1/settings", "/sandbox/v1/settings", map[string]any{"provisioningDelay": "90s"})
	c.call("GET", "/sandbox/v1/settings", "/sandbox/v1/settings", nil)
	// The admin API, with a receiver that accepts everything.
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer rcv.Close()
	const a = "/admin/v1/organisations/{org}/callbacks"
	const o = "/admin/v1/organisations/1/callbacks"
	bearer := []string{"Authorization", "Bearer " + adminToken}
	c.call("POST", "/admin/v1/organisations", "/admin/v1/organisations", map[string]any{"name": "throwaway", "balance": 10}, bearer...)
	c.call("GET", "/admin/v1/organisations", "/admin/v1/organisations", nil, bearer...)
	c.call("GET", "/admin/v1/organisations/{org}", "/admin/v1/organisations/1", nil, bearer...)
	c.call("GET", "/admin/v1/organisations/{org}", "/admin/v1/organisations/999", nil, bearer...)
	c.call("POST", "/admin/v1/organisations/{org}/credit", "/admin/v1/organisations/1/credit", map[string]any{"amount": "25.50", "note": "goodwill"}, bearer...)
	c.call("POST", "/admin/v1/organisations/{org}/credit", "/admin/v1/organisations/1/credit", map[string]any{"amount": -1}, bearer...)
	c.call("PATCH", "/admin/v1/organisations/{org}", "/admin/v1/organisations/2", map[string]any{"ipAllowList": []string{"203.0.113.0/24"}}, bearer...)
	c.call("POST", "/admin/v1/usage", "/admin/v1/usage", map[string]any{"records": []map[string]any{
		{"recordId": "r1", "iccid": iccid, "bytes": 1000, "mccmnc": "23430", "timestamp": "2026-01-01T00:00:00Z"},
		{"recordId": "r2", "iccid": "8999901999999999994", "bytes": 1, "country": "GB", "timestamp": "2026-01-01T00:00:00Z"},
	}}, bearer...)
	c.call("GET", a, o, nil, bearer...)
	c.call("GET", a, o, nil, "Authorization", "Bearer wrong")
	c.call("PUT", a, o, map[string]any{"callbackUrl": rcv.URL, "standardWebhooks": true}, bearer...)
	c.call("POST", a+"/signing-key", o+"/signing-key", map[string]any{"apiKey": testKey}, bearer...)
	c.call("POST", a+"/test", o+"/test", map[string]any{"kind": "Utilisation"}, bearer...)
	c.call("POST", "/sandbox/v1/clock/advance", "/sandbox/v1/clock/advance", map[string]any{"duration": "1m"})
	c.call("GET", a+"/deliveries", o+"/deliveries?limit=3", nil, bearer...)
	c.call("GET", a+"/events", o+"/events?limit=5", nil, bearer...)
	c.call("GET", a+"/events/{event}", o+"/events/1", nil, bearer...)
	c.call("GET", a+"/events/{event}", o+"/events/999999", nil, bearer...)
	c.call("POST", a+"/events/{event}/replay", o+"/events/1/replay", nil, bearer...)
	c.call("POST", a+"/replay", o+"/replay", map[string]any{"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}, bearer...)

	c.call("DELETE", p+"/esims/{iccid}", p+"/esims/"+iccid, nil)
	c.call("GET", p+"/esims/assignments", p+"/esims/assignments?reference="+ref, nil, "Accept", "application/json") // 410
	c.call("POST", "/sandbox/v1/reset", "/sandbox/v1/reset", nil)

	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !c.checked[method+" "+path] {
				t.Errorf("%s %s was not exercised", method, path)
			}
		}
	}
	if *updateExamples { // even after a failure: the page cannot render before the first recording
		b, err := json.MarshalIndent(c.examples, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(apidoc.ExamplesFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEveryOperationHasAnExample keeps examples.json in step with the
// document: an example for every operation, of a status it documents, and
// none for an operation that is gone.
func TestEveryOperationHasAnExample(t *testing.T) {
	doc, err := apidoc.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	examples, err := apidoc.Examples()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			seen[key] = true
			ex, ok := examples[key]
			switch {
			case !ok:
				t.Errorf("%s has no example; record them with go test ./internal/apidoc -run TestDocumentMatchesAnswers -update-examples", key)
			case op.Responses.Value(strconv.Itoa(ex.Response.Status)) == nil:
				t.Errorf("%s: the example answers %d, which the document does not list", key, ex.Response.Status)
			case ex.Request.Method != method:
				t.Errorf("%s: the example is a %s", key, ex.Request.Method)
			}
		}
	}
	for key := range examples {
		if !seen[key] {
			t.Errorf("example for %s, which the document no longer has", key)
		}
	}
}
