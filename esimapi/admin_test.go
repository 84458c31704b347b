package esimapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/esimd/esimd/esimapi"
)

// receiver is a callback URL built with the SDK's CallbackHandler: it
// accepts only deliveries whose signature verifies with the API key.
type receiver struct {
	mu      sync.Mutex
	got     []esimapi.Notification
	headers []http.Header
	codes   []int
	srv     *httptest.Server
}

func newReceiver(t *testing.T, v esimapi.Verifier) *receiver {
	r := &receiver{}
	h := v.Handler(func(ctx context.Context, n esimapi.Notification) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, n)
		return nil
	})
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Clone())
		r.codes = append(r.codes, rec.Code)
		r.mu.Unlock()
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) snapshot() ([]esimapi.Notification, []http.Header, []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]esimapi.Notification(nil), r.got...), append([]http.Header(nil), r.headers...), append([]int(nil), r.codes...)
}

func ptr[T any](v T) *T { return &v }

// TestAdminAndSignedDeliveries drives the admin API through the SDK and
// checks that esimd's real, signed deliveries verify with VerifySignature
// in every encoding the server offers.
func TestAdminAndSignedDeliveries(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t)
	admin := c.Admin(ts.AdminToken)
	ctx := t.Context()
	// The server's wall clock is the test's; Standard Webhooks timestamps
	// are checked against it.
	rcv := newReceiver(t, esimapi.Verifier{Key: ts.Key, Now: ts.wall})

	if _, err := c.Admin("wrong-token").CallbackSettings(ctx, ts.OrgID); esimapi.StatusCode(err) != http.StatusUnauthorized {
		t.Errorf("wrong admin token: %v, want 401", err)
	}
	if _, err := admin.CallbackSettings(ctx, 999); err == nil {
		t.Error("settings of a missing organisation succeeded")
	}
	s, err := admin.SealSigningKey(ctx, ts.OrgID, ts.Key)
	if err != nil || s.SigningKey == nil {
		t.Fatalf("SealSigningKey = %+v, %v", s, err)
	}
	s, err = admin.UpdateCallbackSettings(ctx, ts.OrgID, esimapi.CallbackSettingsChange{CallbackURL: ptr(rcv.srv.URL), CallbackVersion: ptr("V3")})
	if err != nil || s.CallbackURL != rcv.srv.URL || s.CallbackVersion != "V3" || s.SignatureEncoding != "base64" || !s.Sandbox {
		t.Fatalf("UpdateCallbackSettings = %+v, %v", s, err)
	}
	if got, err := admin.CallbackSettings(ctx, ts.OrgID); err != nil || got.CallbackURL != rcv.srv.URL || got.OrganisationID != ts.OrgID {
		t.Errorf("CallbackSettings = %+v, %v", got, err)
	}

	// Test sends in each signature form; the receiver verifies every one.
	for _, tc := range []struct {
		kind     string
		change   esimapi.CallbackSettingsChange
		header   string
		sigLen   int
		wantType string
	}{
		{"Utilisation", esimapi.CallbackSettingsChange{}, "X-Signature-Sha256", 44, "Utilisation"},
		{"FirstAttachment", esimapi.CallbackSettingsChange{SignatureEncoding: ptr("hex")}, "X-Signature-Sha256", 64, "FirstAttachment"},
		{"ProfileStatusChange", esimapi.CallbackSettingsChange{StandardWebhooks: ptr(true)}, "Webhook-Signature", 47, "ProfileStatusChange"},
	} {
		if _, err := admin.UpdateCallbackSettings(ctx, ts.OrgID, tc.change); err != nil {
			t.Fatal(err)
		}
		a, err := admin.TestCallback(ctx, ts.OrgID, tc.kind)
		if err != nil {
			t.Fatalf("TestCallback(%s): %v", tc.kind, err)
		}
		if a.StatusCode != 200 || !a.Test || a.At.IsZero() {
			t.Errorf("TestCallback(%s) attempt = %+v", tc.kind, a)
		}
		got, headers, codes := rcv.snapshot()
		last := len(headers) - 1
		if last < 0 || codes[last] != 200 {
			t.Fatalf("%s: the receiver answered %v", tc.kind, codes)
		}
		if sig := headers[last].Get(tc.header); len(sig) != tc.sigLen {
			t.Errorf("%s: %s = %q, want %d characters", tc.kind, tc.header, sig, tc.sigLen)
		}
		if n := got[len(got)-1]; n.Type() != tc.wantType {
			t.Errorf("%s: the receiver parsed a %s", tc.kind, n.Type())
		}
	}

	// Real events: install and attach a sandbox eSIM; advancing the clock
	// delivers what is due.
	o, err := c.PlaceOrder(ctx, esimapi.OrderRequest{Assign: true, Lines: []esimapi.OrderLine{{Item: "esim_1GB_7D_GB_V2", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	iccid := o.ICCIDs()[0]
	if _, err := c.Sandbox().Install(ctx, iccid, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sandbox().Attach(ctx, iccid, esimapi.Where{Country: "GB"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sandbox().Advance(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, _, codes := rcv.snapshot()
	kinds := map[string]int{}
	for i, n := range got {
		kinds[n.Type()]++
		if codes[i] != 200 {
			t.Errorf("delivery %d answered %d", i, codes[i])
		}
	}
	if kinds["FirstAttachment"] < 2 || kinds["CountryChange"] != 1 || kinds["ProfileStatusChange"] < 3 {
		t.Errorf("delivered and verified: %v", kinds)
	}

	events, err := admin.CallbackEvents(ctx, ts.OrgID, esimapi.EventsQuery{})
	if err != nil || len(events) < 4 {
		t.Fatalf("CallbackEvents = %+v, %v", events, err)
	}
	ev := events[0]
	if ev.Attempts == 0 || ev.DeliveredAt.IsZero() || ev.Date.IsZero() {
		t.Errorf("event %+v", ev)
	}
	if n, err := ev.Notification(); err != nil || n.Type() != ev.Kind {
		t.Errorf("event notification = %v, %v", n, err)
	}
	one, err := admin.CallbackEvent(ctx, ts.OrgID, ev.ID)
	if err != nil || one.ID != ev.ID {
		t.Errorf("CallbackEvent = %+v, %v", one, err)
	}
	if len(events) > 1 {
		if later, err := admin.CallbackEvents(ctx, ts.OrgID, esimapi.EventsQuery{After: events[0].ID, Limit: 1}); err != nil || len(later) != 1 || later[0].ID != events[1].ID {
			t.Errorf("CallbackEvents after %d = %+v, %v", events[0].ID, later, err)
		}
	}

	before := len(got)
	if _, err := admin.ReplayEvent(ctx, ts.OrgID, ev.ID); err != nil {
		t.Fatalf("ReplayEvent: %v", err)
	}
	if _, err := c.Sandbox().Advance(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := rcv.snapshot(); len(got) != before+1 || got[len(got)-1].Type() != ev.Kind {
		t.Errorf("after the replay the receiver has %d notifications (was %d)", len(got), before)
	}
	clock, err := c.Sandbox().Clock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	queued, err := admin.ReplayRange(ctx, ts.OrgID, clock.Now.Add(-24*time.Hour), clock.Now.Add(time.Hour), nil)
	if err != nil || queued != len(events) {
		t.Errorf("ReplayRange = %d, %v; want %d", queued, err, len(events))
	}

	page, err := admin.Deliveries(ctx, ts.OrgID, esimapi.DeliveriesQuery{Limit: 2})
	if err != nil || len(page.Deliveries) != 2 || page.NextBefore == 0 {
		t.Fatalf("Deliveries = %+v, %v", page, err)
	}
	d := page.Deliveries[0]
	if d.URL != rcv.srv.URL || d.StatusCode != 200 || d.Outcome == "" || d.Signature == "" {
		t.Errorf("delivery %+v", d)
	}
	older, err := admin.Deliveries(ctx, ts.OrgID, esimapi.DeliveriesQuery{Before: page.NextBefore, Limit: 100})
	if err != nil || len(older.Deliveries) == 0 || older.Deliveries[0].ID >= page.NextBefore {
		t.Errorf("older deliveries = %+v, %v", older, err)
	}
	byEvent, err := admin.Deliveries(ctx, ts.OrgID, esimapi.DeliveriesQuery{EventID: ev.ID})
	if err != nil || len(byEvent.Deliveries) != 2 {
		t.Errorf("deliveries of event %d = %+v, %v; want the first and the replay", ev.ID, byEvent, err)
	}
}

// TestAdminOrganisations drives the operator's organisation routes through
// the SDK over the real server.
func TestAdminOrganisations(t *testing.T) {
	ts := newTestServer(t)
	ctx := t.Context()
	c, err := esimapi.NewClient(ts.URL) // the operator API needs no organisation's key
	if err != nil {
		t.Fatal(err)
	}
	admin := c.Admin(ts.AdminToken)
	created, err := admin.CreateOrganisation(ctx, esimapi.NewOrganisation{Name: "ci-run-1", Balance: esimapi.MustParseMoney("500")})
	if err != nil {
		t.Fatal(err)
	}
	if !created.Sandbox || created.Balance.String() != "500" || created.APIKey == "" || created.CreatedAt.IsZero() {
		t.Fatalf("created %+v; want a sandbox organisation with 500 and its key", created)
	}
	// The key works for the organisation's own API.
	own, err := esimapi.NewClient(ts.URL, esimapi.WithAPIKey(created.APIKey))
	if err != nil {
		t.Fatal(err)
	}
	if o, err := own.Organisation(ctx); err != nil || o.Name != "ci-run-1" {
		t.Fatalf("the new key: %+v %v", o, err)
	}
	list, err := admin.Organisations(ctx)
	if err != nil || len(list) != 3 || list[2].ID != created.ID || list[2].APIKey != "" {
		t.Fatalf("Organisations = %+v, %v; want three, the new one last, no keys", list, err)
	}
	got, err := admin.Organisation(ctx, created.ID)
	if err != nil || got.Name != "ci-run-1" || got.APIKey != "" {
		t.Fatalf("Organisation(%d) = %+v, %v", created.ID, got, err)
	}
	cr, err := admin.Credit(ctx, created.ID, esimapi.CreditRequest{Amount: esimapi.MustParseMoney("-0.5"), Kind: esimapi.CreditAdjustment, Note: "rounding"})
	if err != nil || cr.Balance.String() != "499.5" || cr.Kind != "adjustment" || cr.Note != "rounding" || cr.OrganisationID != created.ID {
		t.Fatalf("Credit = %+v, %v; want an adjustment to 499.5", cr, err)
	}
	if _, err := admin.Credit(ctx, created.ID, esimapi.CreditRequest{Amount: esimapi.MustParseMoney("-1")}); esimapi.StatusCode(err) != http.StatusBadRequest {
		t.Errorf("a negative top-up: %v, want 400", err)
	}
	if _, err := admin.Organisation(ctx, 999); esimapi.StatusCode(err) != http.StatusNotFound {
		t.Errorf("Organisation(999): %v, want 404", err)
	}
	if _, err := c.Admin("wrong").Organisations(ctx); esimapi.StatusCode(err) != http.StatusUnauthorized {
		t.Errorf("a wrong token: %v, want 401", err)
	}
}
