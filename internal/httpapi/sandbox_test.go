package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/esimapi"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

type callbackList struct {
	Callbacks []struct {
		ID      int64          `json:"id"`
		Kind    string         `json:"kind"`
		ICCID   string         `json:"iccid"`
		Date    time.Time      `json:"date"`
		Payload map[string]any `json:"payload"`
	} `json:"callbacks"`
}

// newCallbacks returns the callbacks written since the last call.
func (e *env) newCallbacks(t *testing.T, after *int64) []string {
	t.Helper()
	var l callbackList
	res := e.get("/sandbox/v1/callbacks?after=" + itoa(*after))
	if res.status != 200 {
		t.Fatalf("callbacks: %d %s", res.status, res.body)
	}
	res.json(t, &l)
	var out []string
	for _, c := range l.Callbacks {
		*after = c.ID
		s := c.Kind
		if p, ok := c.Payload["percentage"]; ok {
			s += " " + itoa(int64(p.(float64))) + "%"
		}
		if b, ok := c.Payload["bundle"].(map[string]any); ok && b["name"] != nil {
			s += " " + b["name"].(string)
		}
		if st, ok := c.Payload["profileStatus"]; ok {
			s += " " + st.(string)
		}
		if co, ok := c.Payload["country"].(map[string]any); ok {
			s += " " + co["code"].(string)
		}
		out = append(out, s+" @"+c.Date.Format(time.RFC3339))
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (e *env) bundleStates(t *testing.T, iccid string) map[string]string {
	t.Helper()
	var b struct {
		Bundles []struct {
			Name        string
			Assignments []struct{ BundleState string }
		}
	}
	res := e.get("/v2.5/esims/" + iccid + "/bundles?includeUsed=true")
	if res.status != 200 {
		t.Fatalf("bundles: %d %s", res.status, res.body)
	}
	res.json(t, &b)
	out := map[string]string{}
	for _, x := range b.Bundles {
		for _, a := range x.Assignments {
			out[x.Name] = a.BundleState
		}
	}
	return out
}

// TestSandboxStory tells a whole integration through HTTP only: order,
// install, attach, first use, thresholds, depletion, the next bundle,
// expiry, lapse and inactivity deletion, asserting every callback and its
// time on the organisation's clock.
func TestSandboxStory(t *testing.T) {
	e := newEnv(t, envOptions{})
	var cursor int64
	rcv := newReceiver(t)
	e.useReceiver(t, rcv)
	// Day 0, 12:00: buy a 1 GB bundle on a new eSIM, then queue two more.
	var o orderBody
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`).json(t, &o)
	iccid := o.Order[0].ICCIDs[0]
	for _, item := range []string{"esim_3GB_30D_GB_V2", "esim_1GB_7D_REUL_V2"} {
		if res := e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"`+item+`","quantity":1,"iccids":["`+iccid+`"]}]}`); res.status != 200 {
			t.Fatalf("top-up %s: %d %s", item, res.status, res.body)
		}
	}
	if res := e.post("/sandbox/v1/esims/"+iccid+"/attach", `{"country":"GB"}`); res.status != 400 || !strings.Contains(res.message(t), "not installed") {
		t.Fatalf("attach before install: %d %s", res.status, res.body)
	}
	res := e.post("/sandbox/v1/esims/"+iccid+"/install", `{}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"profileStatus":"Installed"`) {
		t.Fatalf("install: %d %s", res.status, res.body)
	}
	res = e.post("/sandbox/v1/esims/"+iccid+"/attach", `{"country":"GB"}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"mobileNetworkCode":"GBRME"`) {
		t.Fatalf("attach: %d %s", res.status, res.body)
	}
	want := []string{
		"ProfileStatusChange Downloaded @2026-03-01T12:00:00Z",
		"ProfileStatusChange Installed @2026-03-01T12:00:00Z",
		"FirstAttachment @2026-03-01T12:00:00Z",
		"CountryChange GB @2026-03-01T12:00:00Z",
	}
	if diff := cmp.Diff(want, e.newCallbacks(t, &cursor)); diff != "" {
		t.Fatalf("callbacks after install and attach (-want +got):\n%s", diff)
	}
	// Use data through the thresholds of the 1 GB bundle.
	e.post("/sandbox/v1/clock/advance", `{"duration":"1h"}`)
	for _, mb := range []string{"10", "490", "300"} {
		if res := e.post("/sandbox/v1/esims/"+iccid+"/usage", `{"megabytes":`+mb+`}`); res.status != 200 {
			t.Fatalf("usage %s MB: %d %s", mb, res.status, res.body)
		}
	}
	want = []string{
		"FirstUse esim_1GB_7D_GB_V2 @2026-03-01T13:00:00Z", // in place of the 1 % alert
		"Utilisation 50% esim_1GB_7D_GB_V2 @2026-03-01T13:00:00Z",
		"Utilisation 80% esim_1GB_7D_GB_V2 @2026-03-01T13:00:00Z",
	}
	if diff := cmp.Diff(want, e.newCallbacks(t, &cursor)); diff != "" {
		t.Fatalf("callbacks while using the first bundle (-want +got):\n%s", diff)
	}
	// Deplete it: the 100 MB left over start the next bundle at once.
	e.post("/sandbox/v1/clock/advance", `{"duration":"24h"}`)
	res = e.post("/sandbox/v1/esims/"+iccid+"/usage", `{"megabytes":300}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"bytesCharged":300000000`) {
		t.Fatalf("depleting usage: %d %s", res.status, res.body)
	}
	want = []string{
		"Utilisation 100% esim_1GB_7D_GB_V2 @2026-03-02T13:00:00Z",
		"FirstUse esim_3GB_30D_GB_V2 @2026-03-02T13:00:00Z",
	}
	if diff := cmp.Diff(want, e.newCallbacks(t, &cursor)); diff != "" {
		t.Fatalf("callbacks at depletion (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"esim_1GB_7D_GB_V2": "depleted", "esim_3GB_30D_GB_V2": "active", "esim_1GB_7D_REUL_V2": "queued"}, e.bundleStates(t, iccid)); diff != "" {
		t.Fatalf("bundle states after depletion (-want +got):\n%s", diff)
	}
	// 30 days later the 3 GB bundle expires; a year after purchase the
	// unused third bundle lapses; 7 days after the deletion notice the eSIM
	// is gone.
	res = e.post("/sandbox/v1/clock/advance", `{"duration":"30d"}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"now":"2026-04-01T13:00:00Z"`) {
		t.Fatalf("advance 30d: %d %s", res.status, res.body)
	}
	if got := e.bundleStates(t, iccid)["esim_3GB_30D_GB_V2"]; got != "expired" {
		t.Fatalf("3 GB bundle is %s after 30 days, want expired", got)
	}
	res = e.post("/sandbox/v1/clock/advance", `{"to":"2027-03-10T00:00:00Z"}`)
	if res.status != 200 {
		t.Fatalf("advance to 2027: %d %s", res.status, res.body)
	}
	want = []string{
		"esim.deletion_scheduled @2027-03-01T12:00:00Z",
		"esim.deleted @2027-03-08T12:00:00Z",
	}
	if diff := cmp.Diff(want, e.newCallbacks(t, &cursor)); diff != "" {
		t.Fatalf("callbacks over the year (-want +got):\n%s", diff)
	}
	// The depleted 1 GB bundle expired at the end of its 7 days (notes §3.1).
	if diff := cmp.Diff(map[string]string{"esim_1GB_7D_GB_V2": "expired", "esim_3GB_30D_GB_V2": "expired", "esim_1GB_7D_REUL_V2": "lapsed"}, e.bundleStates(t, iccid)); diff != "" {
		t.Errorf("final bundle states (-want +got):\n%s", diff)
	}
	// Every callback reached the receiver, signed, with the body the
	// sandbox shows, in order; the utilisation bodies carry the bundle.
	if err := e.notify.DeliverDue(context.Background(), e.org.ID); err != nil {
		t.Fatal(err)
	}
	var all struct {
		Callbacks []struct {
			ID             int64           `json:"id"`
			Body           json.RawMessage `json:"body"`
			DeliveryStatus string          `json:"deliveryStatus"`
		} `json:"callbacks"`
	}
	e.get("/sandbox/v1/callbacks?limit=1000").json(t, &all)
	got := rcv.bodies()
	if len(got) != len(all.Callbacks) || len(got) != 11 {
		t.Fatalf("receiver got %d callbacks, the sandbox lists %d; want 11", len(got), len(all.Callbacks))
	}
	for i, c := range all.Callbacks {
		if string(got[i].body) != string(c.Body) || c.DeliveryStatus != "delivered" || got[i].eventID != strconv.FormatInt(c.ID, 10) {
			t.Errorf("callback %d: received %s (event %s), listed %s (%s)", c.ID, got[i].body, got[i].eventID, c.Body, c.DeliveryStatus)
		}
		if err := esimapi.VerifySignature(got[i].body, got[i].header, e.key); err != nil {
			t.Errorf("callback %d: %v", c.ID, err)
		}
	}
	var fiftyPct map[string]any
	if err := json.Unmarshal(got[5].body, &fiftyPct); err != nil {
		t.Fatal(err)
	}
	bundle, _ := fiftyPct["bundle"].(map[string]any)
	if fiftyPct["alertType"] != "Utilisation" || fiftyPct["iccid"] != iccid || bundle["name"] != "esim_1GB_7D_GB_V2" ||
		bundle["initialQuantity"] != float64(1_000_000_000) || bundle["remainingQuantity"] != float64(500_000_000) ||
		bundle["startTime"] != "2026-03-01T13:00:00Z" || bundle["endTime"] != "2026-03-08T13:00:00Z" {
		t.Errorf("the 50 %% body = %s", got[5].body)
	}
	if res := e.get("/v2.5/esims/" + iccid); !strings.Contains(string(res.body), `"state":"deactivated"`) {
		t.Errorf("eSIM after deletion: %s", res.body)
	}
}

func TestSandboxClockAndReset(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.get("/sandbox/v1/clock")
	if res.status != 200 || !strings.Contains(string(res.body), `"now":"2026-03-01T12:00:00Z"`) || !strings.Contains(string(res.body), `"offsetSeconds":0`) {
		t.Fatalf("clock: %d %s", res.status, res.body)
	}
	for _, tc := range []struct{ body, mention string }{
		{`{}`, "duration"},
		{`{"duration":"soon"}`, "duration"},
		{`{"duration":"-1h"}`, "negative"},
		{`{"to":"yesterday"}`, "RFC 3339"},
		{`{"to":"2020-01-01T00:00:00Z"}`, "cannot go back"},
		{`{"duration":"1h","to":"2030-01-01T00:00:00Z"}`, "not both"},
		{`{"duration":"4000d"}`, "10 years"},
	} {
		if res := e.post("/sandbox/v1/clock/advance", tc.body); res.status != 400 || !strings.Contains(res.message(t), tc.mention) {
			t.Errorf("advance %s: %d %s", tc.body, res.status, res.body)
		}
	}
	res = e.post("/sandbox/v1/clock/advance", `{"duration":"1d12h"}`)
	if !strings.Contains(string(res.body), `"offsetSeconds":129600`) {
		t.Errorf("advance 1d12h: %s", res.body)
	}
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`)
	if res := e.post("/sandbox/v1/reset", ""); res.status != 200 {
		t.Fatalf("reset: %d %s", res.status, res.body)
	}
	var list struct{ Rows int }
	e.get("/v2.5/esims").json(t, &list)
	if list.Rows != 0 || e.balance(t) != money.MustParse("250.5") {
		t.Errorf("after reset: %d eSIMs, balance %s", list.Rows, e.balance(t))
	}
	if res := e.get("/sandbox/v1/clock"); !strings.Contains(string(res.body), `"offsetSeconds":0`) {
		t.Errorf("clock after reset: %s", res.body)
	}
	// Live organisations have no sandbox controls.
	live := false
	if _, err := e.orgs.Update(context.Background(), e.org.ID, orgs.Update{Sandbox: &live}); err != nil {
		t.Fatal(err)
	}
	if res := e.get("/sandbox/v1/clock"); res.status != 403 {
		t.Errorf("live organisation clock: %d, want 403", res.status)
	}
}

func TestSandboxFaultsAndMagicValues(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.post("/sandbox/v1/faults", `{"method":"GET","path":"/catalogue","status":503,"count":2}`)
	if res.status != 201 {
		t.Fatalf("add fault: %d %s", res.status, res.body)
	}
	for i, want := range []int{503, 503, 200} {
		if res := e.get("/v2.5/catalogue?perPage=1"); res.status != want {
			t.Errorf("request %d: %d, want %d", i, res.status, want)
		} else if want == 503 && res.header.Get("Retry-After") == "" {
			t.Errorf("injected 503 without Retry-After")
		}
	}
	e.post("/sandbox/v1/faults", `{"path":"/organisation","status":500}`)
	if res := e.get("/v2.5/organisation"); res.status != 500 || !strings.Contains(res.message(t), "Injected") {
		t.Errorf("injected 500: %d %s", res.status, res.body)
	}
	if res := e.do("DELETE", "/sandbox/v1/faults", nil); res.status != 200 {
		t.Fatalf("clear faults: %d", res.status)
	}
	if res := e.get("/v2.5/organisation"); res.status != 200 {
		t.Errorf("after clearing: %d", res.status)
	}
	for _, bad := range []string{`{"status":200}`, `{"path":"orders","status":500}`, `{"status":500,"probability":2}`, `{}`, `{"colour":"red"}`} {
		if res := e.post("/sandbox/v1/faults", bad); res.status != 400 {
			t.Errorf("fault %s: %d, want 400", bad, res.status)
		}
	}
	// Reserved bundle names and ICCIDs force documented errors.
	for _, tc := range []struct {
		item   string
		status int
	}{
		{"sandbox_insufficient_balance", 400}, {"sandbox_incompatible_profile", 400}, {"sandbox_processing", 503},
		{"sandbox_rate_limited", 429}, {"sandbox_server_error", 500},
	} {
		res := e.post("/v2.5/orders", `{"type":"transaction","order":[{"type":"bundle","item":"`+tc.item+`","quantity":1}]}`)
		if res.status != tc.status {
			t.Errorf("%s: %d, want %d (%s)", tc.item, res.status, tc.status, res.body)
		}
	}
	for _, status := range []string{"400", "403", "410", "429", "500", "503"} {
		if res := e.get("/v2.5/esims/8999900000000000" + status); itoa(int64(res.status)) != status {
			t.Errorf("magic ICCID %s: status %d", status, res.status)
		}
	}
	if e.balance(t) != money.MustParse("250.5") {
		t.Errorf("magic values changed the balance")
	}
}

func TestSandboxDeviceErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	var o orderBody
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_US_V2","quantity":1}]}`).json(t, &o)
	iccid := o.Order[0].ICCIDs[0]
	if res := e.post("/sandbox/v1/esims/"+iccid+"/install", `{"eid":"123"}`); res.status != 400 || !strings.Contains(res.message(t), "EID") {
		t.Errorf("bad EID: %d %s", res.status, res.body)
	}
	e.post("/sandbox/v1/esims/"+iccid+"/install", `{"eid":"89049032123451234512345678901235"}`)
	for _, tc := range []struct{ path, body, mention string }{
		{"/attach", `{"country":"FR"}`, "no Profile 2 network in FR"},
		{"/attach", `{"country":"XX"}`, "not in the coverage"},
		{"/attach", `{"mccmnc":"23430"}`, "does not serve Profile 2"},
		{"/attach", `{"mccmnc":"2x430"}`, "5 or 6 digits"},
		{"/attach", `{}`, "country"},
		{"/usage", `{"bytes":1000}`, "attach it first"},
		{"/usage", `{"minutes":5}`, "attach it first"},
		{"/usage", `{"bytes":0,"country":"US"}`, "positive"},
		{"/install", `{}`, "already installed"},
	} {
		if res := e.post("/sandbox/v1/esims/"+iccid+tc.path, tc.body); res.status != 400 || !strings.Contains(res.message(t), tc.mention) {
			t.Errorf("%s %s: %d %s; want 400 mentioning %q", tc.path, tc.body, res.status, res.body, tc.mention)
		}
	}
	res := e.post("/sandbox/v1/esims/"+iccid+"/usage", `{"bytes":5000000,"mccmnc":"310410"}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"networkName":"AT\u0026T Mobility"`) {
		t.Errorf("usage on AT&T: %d %s", res.status, res.body)
	}
	if res := e.post("/sandbox/v1/esims/"+iccid+"/uninstall", ""); res.status != 200 || !strings.Contains(string(res.body), `"profileStatus":"Released"`) {
		t.Errorf("uninstall: %d %s", res.status, res.body)
	}
	if res := e.post("/sandbox/v1/esims/8999901999999999994/install", ""); res.status != 403 {
		t.Errorf("unknown ICCID: %d, want 403", res.status)
	}
}

func TestSandboxAutopilot(t *testing.T) {
	e := newEnv(t, envOptions{})
	var o orderBody
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":2}]}`).json(t, &o)
	running := o.Order[0].ICCIDs[0]
	e.post("/sandbox/v1/esims/"+running+"/install", "")
	e.post("/sandbox/v1/esims/"+running+"/attach", `{"country":"GB"}`)
	if res := e.do("PUT", "/sandbox/v1/autopilot", strings.NewReader(`{"enabled":true}`)); res.status != 400 {
		t.Errorf("autopilot without a rate: %d", res.status)
	}
	if res := e.do("PUT", "/sandbox/v1/autopilot", strings.NewReader(`{"enabled":true,"bytesPerHour":100000000}`)); res.status != 200 {
		t.Fatalf("autopilot: %d %s", res.status, res.body)
	}
	e.advance(90 * time.Minute) // the wall clock the simulation runs on
	if err := e.sandbox.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	used := func(iccid string) int64 {
		as, err := e.esims.Assignments(context.Background(), e.org.ID, iccid, true, 0)
		if err != nil || len(as) != 1 {
			t.Fatalf("assignments of %s: %v %v", iccid, as, err)
		}
		return as[0].InitialBytes - as[0].RemainingBytes
	}
	if got := used(running); got != 150_000_000 {
		t.Errorf("installed eSIM used %d bytes in 90 minutes at 100 MB/h, want 150000000", got)
	}
	if got := used(o.Order[0].ICCIDs[1]); got != 0 {
		t.Errorf("an eSIM that is not installed used %d bytes", got)
	}
	e.do("PUT", "/sandbox/v1/autopilot", strings.NewReader(`{"enabled":false}`))
	e.advance(time.Hour)
	e.sandbox.Tick(context.Background())
	if got := used(running); got != 150_000_000 {
		t.Errorf("usage went on after the autopilot was switched off: %d", got)
	}
}

// receiver is a callback endpoint that keeps what it gets.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
}

type received struct {
	eventID string
	header  http.Header
	body    []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{eventID: req.Header.Get("X-Esimd-Event-Id"), header: req.Header.Clone(), body: b})
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) bodies() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// useReceiver points the organisation's V3 callbacks at rcv and seals its
// key for signing.
func (e *env) useReceiver(t *testing.T, rcv *receiver) {
	t.Helper()
	ctx := context.Background()
	url, version := rcv.srv.URL, "V3"
	if _, err := e.notify.Configure(ctx, e.org.ID, notify.Change{URL: &url, Version: &version}); err != nil {
		t.Fatal(err)
	}
	if err := e.notify.SealSigningKey(ctx, e.org.ID, e.key); err != nil {
		t.Fatal(err)
	}
	o, err := e.orgs.Get(ctx, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.org = o
}

// TestVoiceAndSMSAllowances: a bundle with voice and SMS gives a sandbox
// eSIM a phone number while it runs, counts minutes and messages, and takes
// the number back when it ends.
func TestVoiceAndSMSAllowances(t *testing.T) {
	d := fixture()
	voice := d.Bundles[0]
	voice.Name, voice.Description = "esim_1GB_7D_GB_VOICE", "eSIM, 1GB, 100 mins, 50 SMS, 7 Days, United Kingdom"
	voice.Allowances = append(slices.Clone(voice.Allowances),
		catalogue.Allowance{Type: catalogue.AllowanceVoice, Service: catalogue.ServiceStandard, Description: "100 mins", Amount: 100},
		catalogue.Allowance{Type: catalogue.AllowanceSMS, Service: catalogue.ServiceStandard, Description: "50 SMS", Amount: 50})
	d.Bundles = append(d.Bundles, voice)
	e := newEnv(t, envOptions{data: &d})
	var o orderBody
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_VOICE","quantity":1}]}`).json(t, &o)
	iccid := o.Order[0].ICCIDs[0]
	e.post("/sandbox/v1/esims/"+iccid+"/install", "")
	e.post("/sandbox/v1/esims/"+iccid+"/attach", `{"country":"GB"}`)
	res := e.post("/sandbox/v1/esims/"+iccid+"/usage", `{"minutes":30,"sms":10}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"minutesCharged":30`) || !strings.Contains(string(res.body), `"smsCharged":10`) || !strings.Contains(string(res.body), `"msisdn":"447700900`) {
		t.Fatalf("voice and SMS usage: %d %s", res.status, res.body)
	}
	res = e.get("/v2.5/esims/" + iccid + "/bundles/esim_1GB_7D_GB_VOICE")
	for _, want := range []string{`"type":"VOICE"`, `"initialAmount":100,"remainingAmount":70,"unit":"MINS"`, `"type":"SMS"`, `"initialAmount":50,"remainingAmount":40,"unit":"SMS"`} {
		if !strings.Contains(string(res.body), want) {
			t.Errorf("bundle lacks %s: %s", want, res.body)
		}
	}
	if res := e.get("/v2.5/esims/" + iccid); !strings.Contains(string(res.body), `"msisdn":"447700900`) {
		t.Errorf("eSIM details without the MSISDN: %s", res.body)
	}
	// More minutes than are left: only what is left is charged.
	if res := e.post("/sandbox/v1/esims/"+iccid+"/usage", `{"minutes":500}`); !strings.Contains(string(res.body), `"minutesCharged":70`) {
		t.Errorf("minutes beyond the allowance: %s", res.body)
	}
	e.post("/sandbox/v1/clock/advance", `{"duration":"8d"}`)
	var cursor int64
	kinds := strings.Join(e.newCallbacks(t, &cursor), "\n")
	for _, want := range []string{"MSISDNEnabled @2026-03-01T12:00:00Z", "MSISDNDisabled @2026-03-08T12:00:00Z"} {
		if !strings.Contains(kinds, want) {
			t.Errorf("callbacks lack %q:\n%s", want, kinds)
		}
	}
	var l callbackList
	e.get("/sandbox/v1/callbacks?limit=100").json(t, &l)
	for _, c := range l.Callbacks {
		if c.Kind == "MSISDNDisabled" && c.Payload["reason"] != "Bundle expired" {
			t.Errorf("MSISDNDisabled reason %v, want Bundle expired", c.Payload["reason"])
		}
	}
	if res := e.get("/v2.5/esims/" + iccid); strings.Contains(string(res.body), `"msisdn"`) {
		t.Errorf("the number outlived its bundle: %s", res.body)
	}
}

// TestSandboxRoutesRefuseLiveOrganisations: every route under
// /sandbox/v1 answers a live organisation's key with 403 and a message,
// and leaves its state alone.
func TestSandboxRoutesRefuseLiveOrganisations(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, liveKey, err := e.orgs.Create(context.Background(), orgs.NewOrganisation{Name: "Live Co", Currency: "USD", StartingBalance: money.MustParse("10")})
	if err != nil {
		t.Fatal(err)
	}
	const iccid = "8999901999999999994"
	for _, rt := range []struct{ method, path, body string }{
		{"GET", "/sandbox/v1/clock", ""},
		{"POST", "/sandbox/v1/clock/advance", `{"duration":"1h"}`},
		{"POST", "/sandbox/v1/esims/" + iccid + "/install", ""},
		{"POST", "/sandbox/v1/esims/" + iccid + "/uninstall", ""},
		{"POST", "/sandbox/v1/esims/" + iccid + "/attach", `{"country":"GB"}`},
		{"POST", "/sandbox/v1/esims/" + iccid + "/usage", `{"bytes":1000}`},
		{"GET", "/sandbox/v1/esims/" + iccid + "/sms", ""},
		{"GET", "/sandbox/v1/callbacks", ""},
		{"GET", "/sandbox/v1/faults", ""},
		{"POST", "/sandbox/v1/faults", `{"method":"GET","path":"/catalogue","status":503,"count":1}`},
		{"DELETE", "/sandbox/v1/faults", ""},
		{"POST", "/sandbox/v1/reset", ""},
		{"GET", "/sandbox/v1/autopilot", ""},
		{"PUT", "/sandbox/v1/autopilot", `{"enabled":true}`},
	} {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			var body io.Reader
			if rt.body != "" {
				body = strings.NewReader(rt.body)
			}
			res := e.do(rt.method, rt.path, body, "X-API-Key", liveKey, "Content-Type", "application/json")
			if res.status != http.StatusForbidden {
				t.Fatalf("live organisation: %d %s, want 403", res.status, res.body)
			}
			if msg := res.message(t); !strings.Contains(msg, "sandbox") {
				t.Errorf("message %q does not say the route is for sandbox organisations", msg)
			}
		})
	}
	if res := e.get("/v2.5/organisation", "X-API-Key", liveKey); res.status != http.StatusOK {
		t.Fatalf("the live organisation's own API: %d %s", res.status, res.body)
	}
}
