package adminapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/app/apptest"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
)

const token = "test-admin-token-0123456789"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is the admin API over a real SQLite file, a real notify service and
// a real receiver.
type env struct {
	t      *testing.T
	db     *store.DB
	orgs   *orgs.Service
	notify *notify.Service
	srv    *httptest.Server
	org    orgs.Organisation
	key    string
	cat    *catalogue.Service
	esims  *esims.Service
	orders *orders.Service

	mu  sync.Mutex
	got [][]byte
	rcv *httptest.Server
}

func newEnv(t *testing.T, adminToken string) *env {
	t.Helper()
	data := fixtureCatalogue()
	a := apptest.New(t, apptest.Options{Catalogue: &data, AdminToken: adminToken, NoAdmin: adminToken == "",
		Clock: apptest.NewClock(t0), Jitter: rand.New(rand.NewPCG(1, 1))})
	e := &env{t: t, db: a.App.DB, orgs: a.App.Orgs, notify: a.App.Notify, srv: a.Server,
		cat: a.App.Catalogue, esims: a.App.ESIMs, orders: a.App.Orders}
	// Made without its signing copy, like an organisation from before
	// callback signing, so that the tests can seal it through the API.
	var err error
	if e.org, e.key, err = e.orgs.Create(context.Background(), orgs.NewOrganisation{Name: "Acme", Currency: "USD", Sandbox: true}); err != nil {
		t.Fatal(err)
	}
	e.rcv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.got = append(e.got, b)
		e.mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(e.rcv.Close)
	return e
}

// do sends a request with the admin token and decodes the JSON answer.
func (e *env) do(method, path, body string, wantStatus int, out any) {
	e.t.Helper()
	e.doAuth(method, path, body, "Bearer "+token, wantStatus, out)
}

func (e *env) doAuth(method, path, body, auth string, wantStatus int, out any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, wantStatus, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

type message struct {
	Message string `json:"message"`
}

func TestAdminTokenRequired(t *testing.T) {
	off := newEnv(t, "")
	var m message
	off.do("GET", "/admin/v1/organisations/1/callbacks", "", http.StatusForbidden, &m)
	if m.Message != "admin API disabled: set ESIMD_ADMIN_TOKEN" {
		t.Errorf("message %q", m.Message)
	}

	e := newEnv(t, token)
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", token, "Basic " + token} {
		e.doAuth("GET", "/admin/v1/organisations/1/callbacks", "", auth, http.StatusUnauthorized, &m)
		if !strings.Contains(m.Message, "Authorization: Bearer") {
			t.Errorf("auth %q: message %q", auth, m.Message)
		}
	}
	e.do("GET", "/admin/v1/nothing/here", "", http.StatusNotFound, &m)
	e.doAuth("GET", "/admin/v1/nothing/here", "", "", http.StatusUnauthorized, nil)
	e.do("GET", "/admin/v1/organisations/999/callbacks", "", http.StatusNotFound, &m)
	e.do("GET", "/admin/v1/organisations/abc/callbacks", "", http.StatusBadRequest, &m)
}

func TestCallbackSettings(t *testing.T) {
	e := newEnv(t, token)
	path := "/admin/v1/organisations/1/callbacks"
	var got map[string]any
	e.do("GET", path, "", http.StatusOK, &got)
	want := `{"balanceAlertThreshold":100,"callbackUrl":"","callbackVersion":"V3","endpointDisabled":false,"organisationId":1,"sandbox":true,"signatureEncoding":"base64","signingKey":null,"standardWebhooks":false}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Errorf("GET callbacks\n got %s\nwant %s", b, want)
	}
	e.do("PUT", path, `{"callbackUrl":"`+e.rcv.URL+`","callbackVersion":"V2","signatureEncoding":"hex","standardWebhooks":true,"balanceAlertThreshold":250.5}`, http.StatusOK, &got)
	if got["callbackUrl"] != e.rcv.URL || got["callbackVersion"] != "V2" || got["signatureEncoding"] != "hex" ||
		got["standardWebhooks"] != true || got["balanceAlertThreshold"] != 250.5 {
		t.Errorf("after PUT: %v", got)
	}
	// Partial: only the version changes.
	e.do("PUT", path, `{"callbackVersion":"V3"}`, http.StatusOK, &got)
	if got["callbackVersion"] != "V3" || got["signatureEncoding"] != "hex" {
		t.Errorf("partial PUT: %v", got)
	}
	var m message
	e.do("PUT", path, `{"callbackVersion":"V9"}`, http.StatusBadRequest, &m)
	e.do("PUT", path, `{"signatureEncoding":"base32"}`, http.StatusBadRequest, &m)
	e.do("PUT", path, `{"callbakUrl":"x"}`, http.StatusBadRequest, &m)
	if !strings.Contains(m.Message, "callbakUrl") {
		t.Errorf("unknown field message %q", m.Message)
	}
	e.do("PUT", path, ``, http.StatusBadRequest, &m)

	// Sealing the organisation's key makes V3 callbacks signed.
	e.do("POST", path+"/signing-key", `{"apiKey":"esimd_not_the_key_00000000"}`, http.StatusNotFound, &m)
	e.do("POST", path+"/signing-key", `{"apiKey":"`+e.key+`"}`, http.StatusOK, &got)
	if k, _ := got["signingKey"].(map[string]any); k == nil || k["apiKeyId"] != 1.0 {
		t.Errorf("signingKey after sealing: %v", got["signingKey"])
	}
}

func TestDeliveryLogReplayAndTestSend(t *testing.T) {
	e := newEnv(t, token)
	base := "/admin/v1/organisations/1/callbacks"
	e.do("PUT", base, `{"callbackUrl":"`+e.rcv.URL+`"}`, http.StatusOK, nil)
	ctx := context.Background()
	var ids []int64
	for _, iccid := range []string{"8999901000000000013", "8999901000000000021"} {
		ev := esims.Event{OrgID: e.org.ID, ICCID: iccid, Kind: "FirstAttachment", Payload: events.FirstAttachment{AlertType: events.KindFirstAttachment, ICCID: iccid}, At: t0}
		if err := e.db.AddEvent(ctx, &ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	if err := e.notify.DeliverDue(ctx, e.org.ID); err != nil {
		t.Fatal(err)
	}

	var evs struct {
		Events []struct {
			ID      int64           `json:"id"`
			Kind    string          `json:"kind"`
			ICCID   string          `json:"iccid"`
			Status  string          `json:"status"`
			Payload json.RawMessage `json:"payload"`
			Replays int             `json:"replays"`
		} `json:"events"`
	}
	e.do("GET", base+"/events?status=delivered", "", http.StatusOK, &evs)
	if len(evs.Events) != 2 || evs.Events[0].Kind != "FirstAttachment" || !bytes.Contains(evs.Events[0].Payload, []byte(`"iccid"`)) {
		t.Fatalf("delivered events: %+v", evs)
	}
	e.do("GET", base+"/events?status=failed", "", http.StatusOK, &evs)
	if len(evs.Events) != 0 {
		t.Errorf("failed events: %+v", evs)
	}
	var m message
	e.do("GET", base+"/events?status=lost", "", http.StatusBadRequest, &m)

	type logLine struct {
		ID         int64   `json:"id"`
		EventID    *int64  `json:"eventId"`
		StatusCode int     `json:"statusCode"`
		Response   string  `json:"response"`
		Outcome    string  `json:"outcome"`
		LatencyMs  float64 `json:"latencyMs"`
		Test       bool    `json:"test"`
		Replay     int     `json:"replay"`
	}
	var log struct {
		Deliveries []logLine `json:"deliveries"`
		NextBefore *int64    `json:"nextBefore"`
	}
	e.do("GET", base+"/deliveries", "", http.StatusOK, &log)
	if len(log.Deliveries) != 2 || log.NextBefore != nil {
		t.Fatalf("log: %+v", log)
	}
	for _, l := range log.Deliveries {
		if l.StatusCode != 200 || l.Response != "ok" || l.Outcome != "delivered" || l.EventID == nil {
			t.Errorf("log line %+v", l)
		}
	}

	// Replay one event.
	var ev struct {
		Status  string `json:"status"`
		Replays int    `json:"replays"`
	}
	e.do("POST", base+"/events/"+itoa(ids[0])+"/replay", "", http.StatusAccepted, &ev)
	if ev.Status != "pending" || ev.Replays != 1 {
		t.Errorf("replayed event %+v", ev)
	}
	e.do("POST", base+"/events/999/replay", "", http.StatusNotFound, &m)
	// Replay a time range.
	var queued map[string]int
	e.do("POST", base+"/replay", `{"from":"2026-03-01T00:00:00Z","to":"2026-03-02T00:00:00Z","status":["delivered"]}`, http.StatusAccepted, &queued)
	if queued["queued"] != 1 {
		t.Errorf("range replay queued %v, want 1 (the other is pending already)", queued)
	}
	e.do("POST", base+"/replay", `{"from":"yesterday","to":"2026-03-02T00:00:00Z"}`, http.StatusBadRequest, &m)
	if err := e.notify.DeliverDue(ctx, e.org.ID); err != nil {
		t.Fatal(err)
	}
	e.do("GET", base+"/deliveries?limit=2", "", http.StatusOK, &log)
	if len(log.Deliveries) != 2 || log.NextBefore == nil || log.Deliveries[0].Replay != 1 {
		t.Fatalf("first page: %+v", log)
	}
	e.do("GET", base+"/deliveries?limit=2&before="+itoa(*log.NextBefore), "", http.StatusOK, &log)
	if len(log.Deliveries) != 2 || log.Deliveries[0].Replay != 0 {
		t.Fatalf("second page: %+v", log)
	}
	e.do("GET", base+"/deliveries?eventId="+itoa(ids[0]), "", http.StatusOK, &log)
	if len(log.Deliveries) != 2 {
		t.Errorf("log of event %d: %+v", ids[0], log)
	}

	// Test send.
	var a logLine
	e.do("POST", base+"/test", "", http.StatusOK, &a)
	if !a.Test || a.StatusCode != 200 || a.EventID != nil || a.Outcome != "delivered" {
		t.Errorf("test send %+v", a)
	}
	e.do("POST", base+"/test", `{"kind":"Utilisation"}`, http.StatusOK, &a)
	e.mu.Lock()
	last := string(e.got[len(e.got)-1])
	e.mu.Unlock()
	if !strings.Contains(last, `"alertType":"Utilisation"`) {
		t.Errorf("sample body %s", last)
	}
	e.do("POST", base+"/test", `{"kind":"Nope"}`, http.StatusBadRequest, &m)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
