package adminapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
)

func fixtureCatalogue() catalogue.Data {
	return catalogue.Data{
		Currency:  "USD",
		Countries: []catalogue.Country{{ISO: "FR", Name: "France", Region: "Europe"}, {ISO: "GB", Name: "United Kingdom", Region: "Europe"}},
		Bundles: []catalogue.Bundle{{Name: "esim_1GB_7D_GB_V2", Description: "eSIM, 1GB, 7 Days, United Kingdom, V2", Groups: []string{catalogue.GroupFixed},
			Countries: []string{"GB"}, Roaming: []string{"FR"}, DataBytes: 1_000_000_000, DurationDays: 7, Autostart: true, Speeds: []string{"4G"},
			Profile: "Profile 1", Price: money.MustParse("1.73"), BillingType: catalogue.BillingFixedCost}},
		Networks: []catalogue.Network{
			{CountryISO: "GB", Profile: "Profile 1", Name: "EE Limited", Brand: "EE", MCC: "234", MNC: "30", TADIG: "GBRME", Speeds: []string{"4G"}},
			{CountryISO: "FR", Profile: "Profile 1", Name: "Orange France", Brand: "Orange", MCC: "208", MNC: "01", TADIG: "FRAF1", Speeds: []string{"4G"}},
		},
	}
}

func TestCreateThrowawayOrganisations(t *testing.T) {
	e := newEnv(t, token)
	var created struct {
		ID      int64   `json:"id"`
		Sandbox bool    `json:"sandbox"`
		Balance float64 `json:"balance"`
		APIKey  string  `json:"apiKey"`
	}
	e.do("POST", "/admin/v1/organisations", `{"name":"test-run-42","balance":500}`, 201, &created)
	if !created.Sandbox || created.Balance != 500 || !strings.HasPrefix(created.APIKey, "esimd_") {
		t.Fatalf("created %+v; want a sandbox organisation with its key", created)
	}
	if o, err := e.orgs.Authenticate(context.Background(), created.APIKey); err != nil || int64(o.ID) != created.ID {
		t.Fatalf("the returned key does not authenticate: %v", err)
	}
	var list struct {
		Organisations []struct {
			ID     int64  `json:"id"`
			APIKey string `json:"apiKey"`
		}
	}
	e.do("GET", "/admin/v1/organisations", "", 200, &list)
	if len(list.Organisations) != 2 || list.Organisations[1].APIKey != "" {
		t.Errorf("list = %+v; want two organisations and no keys", list)
	}
	var m message
	e.do("POST", "/admin/v1/organisations", `{"name":""}`, 400, &m)
	e.do("POST", "/admin/v1/organisations", `{"name":"x","colour":"red"}`, 400, &m)
	e.doAuth("POST", "/admin/v1/organisations", `{"name":"x"}`, "", 401, &m)
}

func TestShowAndCreditOrganisation(t *testing.T) {
	e := newEnv(t, token)
	path := fmt.Sprintf("/admin/v1/organisations/%d", e.org.ID)
	type orgJSON struct {
		ID      int64        `json:"id"`
		Name    string       `json:"name"`
		Balance money.Amount `json:"balance"`
		APIKey  string       `json:"apiKey"`
	}
	var o orgJSON
	e.do("GET", path, "", 200, &o)
	if o.ID != int64(e.org.ID) || o.Name != "Acme" || o.APIKey != "" {
		t.Errorf("GET %s = %+v; want Acme without a key", path, o)
	}
	type entryJSON struct {
		Kind    string       `json:"kind"`
		Amount  money.Amount `json:"amount"`
		Balance money.Amount `json:"balance"`
		Note    string       `json:"note"`
	}
	for _, tc := range []struct {
		body string
		want entryJSON
	}{
		{`{"amount":"25.50","note":"goodwill"}`, entryJSON{Kind: "topup", Amount: money.MustParse("25.50"), Balance: money.MustParse("25.50"), Note: "goodwill"}},
		{`{"amount":10,"kind":"credit"}`, entryJSON{Kind: "credit", Amount: money.MustParse("10"), Balance: money.MustParse("35.50")}},
		{`{"amount":"-5.5","kind":"adjustment"}`, entryJSON{Kind: "adjustment", Amount: money.MustParse("-5.5"), Balance: money.MustParse("30")}},
	} {
		var got entryJSON
		e.do("POST", path+"/credit", tc.body, 200, &got)
		if got != tc.want {
			t.Errorf("credit %s = %+v, want %+v", tc.body, got, tc.want)
		}
	}
	if got, err := e.orgs.Get(context.Background(), e.org.ID); err != nil || got.Balance != money.MustParse("30") {
		t.Errorf("balance after the credits: %v %v, want 30", got.Balance, err)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"GET", "/admin/v1/organisations/999", "", 404, "organisation"},
		{"GET", "/admin/v1/organisations/abc", "", 400, "organisation"},
		{"POST", path + "/credit", `{"amount":-1}`, 400, "positive"},
		{"POST", path + "/credit", `{"amount":0}`, 400, "zero"},
		{"POST", path + "/credit", `{"amount":1,"kind":"order"}`, 400, "kind must be topup, credit or adjustment"},
		{"POST", path + "/credit", `{"amount":"lots"}`, 400, "not a decimal number"},
		{"POST", "/admin/v1/organisations/999/credit", `{"amount":1}`, 404, "organisation"},
	} {
		var m message
		e.do(tc.method, tc.path, tc.body, tc.status, &m)
		if !strings.Contains(strings.ToLower(m.Message), tc.msg) {
			t.Errorf("%s %s %s: message %q does not mention %q", tc.method, tc.path, tc.body, m.Message, tc.msg)
		}
	}
	var m message
	e.doAuth("POST", path+"/credit", `{"amount":1}`, "", 401, &m)
}

func TestUsageIngest(t *testing.T) {
	e := newEnv(t, token)
	ctx := context.Background()
	if _, _, err := e.orgs.Create(ctx, orgs.NewOrganisation{Name: "Live", StartingBalance: 100 * money.Scale}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.esims.ImportPool(ctx, []esims.PoolProfile{{ICCID: "8944000000000000001", MatchingID: "LIVE-1", SMDPAddress: "rsp.example.net", Profile: "Profile 1"}}); err != nil {
		t.Fatal(err)
	}
	orgID := findOrg(t, e, "Live")
	placed, err := e.orders.Place(ctx, orgID, orders.Request{Type: "transaction", Assign: true, Lines: []orders.LineRequest{{Type: "bundle", Item: "esim_1GB_7D_GB_V2", Quantity: 1}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	iccid := placed.ESIMs[0][0].ICCID
	body := `{"records":[
		{"recordId":"cdr-2","iccid":"` + iccid + `","bytes":300000000,"mccmnc":"20801","timestamp":"2026-03-01T11:00:00Z"},
		{"recordId":"cdr-1","iccid":"` + iccid + `","bytes":200000000,"mcc":"234","mnc":"30","timestamp":"2026-03-01T10:00:00Z"},
		{"recordId":"cdr-3","iccid":"8944000000000000019","bytes":1,"country":"GB","timestamp":"2026-03-01T10:00:00Z"},
		{"recordId":"cdr-4","iccid":"` + iccid + `","bytes":5,"mccmnc":"99999","timestamp":"2026-03-01T10:00:00Z"},
		{"recordId":"cdr-5","iccid":"` + iccid + `","bytes":5,"country":"GB","timestamp":"2030-01-01T00:00:00Z"}
	]}`
	type result struct {
		RecordID string `json:"recordId"`
		Status   string `json:"status"`
		Reason   string `json:"reason"`
		Charged  int64  `json:"bytesCharged"`
	}
	var got struct {
		Applied, Duplicate, Rejected int
		Results                      []result
	}
	e.do("POST", "/admin/v1/usage", body, 200, &got)
	if got.Applied != 2 || got.Rejected != 3 || got.Duplicate != 0 {
		t.Fatalf("ingest = %+v", got)
	}
	for i, want := range []struct{ status, reason string }{
		{"applied", ""}, {"applied", ""}, {"rejected", "not an eSIM"}, {"rejected", "coverage"}, {"rejected", "future"},
	} {
		r := got.Results[i]
		if r.Status != want.status || !strings.Contains(r.Reason, want.reason) {
			t.Errorf("record %s: %s %q; want %s mentioning %q", r.RecordID, r.Status, r.Reason, want.status, want.reason)
		}
	}
	as, err := e.esims.Assignments(ctx, orgID, iccid, true, 0)
	if err != nil || as[0].InitialBytes-as[0].RemainingBytes != 500_000_000 || as[0].State != "active" {
		t.Fatalf("assignment after ingest: %+v %v", as, err)
	}
	d, _ := e.esims.Get(ctx, orgID, iccid)
	if d.ProfileStatus != "Installed" || d.Location.Country != "FR" || d.Location.TADIG != "FRAF1" {
		t.Errorf("eSIM after ingest: profile %s, location %+v (the later record, in France, should be last)", d.ProfileStatus, d.Location)
	}
	// The same batch again charges nothing.
	e.do("POST", "/admin/v1/usage", body, 200, &got)
	if got.Duplicate != 2 || got.Applied != 0 {
		t.Fatalf("resent batch = %+v", got)
	}
	as, _ = e.esims.Assignments(ctx, orgID, iccid, true, 0)
	if as[0].InitialBytes-as[0].RemainingBytes != 500_000_000 {
		t.Errorf("a resent record was charged again")
	}
	var m message
	e.do("POST", "/admin/v1/usage", `{"records":[]}`, 400, &m)
	e.do("POST", "/admin/v1/usage", `{"records":"x"}`, 400, &m)

	// A full batch, far beyond the other admin bodies' 64 kB, is taken in
	// one request; one record more is refused as a whole.
	big := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"records":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"recordId":"big-%06d-%s","iccid":"%s","bytes":1000,"country":"GB","timestamp":"2026-03-01T12:00:00Z"}`,
				i, strings.Repeat("x", 150), iccid)
		}
		b.WriteString(`]}`)
		return b.String()
	}
	body = big(esims.MaxIngestBatch)
	if len(body) < 2_000_000 {
		t.Fatalf("a full batch is only %d bytes", len(body))
	}
	e.do("POST", "/admin/v1/usage", body, 200, &got)
	if got.Applied != esims.MaxIngestBatch {
		t.Fatalf("full batch: %d applied, %d rejected; want all %d", got.Applied, got.Rejected, esims.MaxIngestBatch)
	}
	as, _ = e.esims.Assignments(ctx, orgID, iccid, true, 0)
	if used := as[0].InitialBytes - as[0].RemainingBytes; used != 500_000_000+1000*int64(esims.MaxIngestBatch) {
		t.Errorf("after a full batch %d bytes used, want %d", used, 500_000_000+1000*int64(esims.MaxIngestBatch))
	}
	e.do("POST", "/admin/v1/usage", big(esims.MaxIngestBatch+1), 400, &m)
	if !strings.Contains(m.Message, "at most 10000 records") {
		t.Errorf("one record too many: %q", m.Message)
	}
}

func findOrg(t *testing.T, e *env, name string) orgs.ID {
	t.Helper()
	list, err := e.orgs.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list {
		if o.Name == name {
			return o.ID
		}
	}
	t.Fatalf("no organisation %q", name)
	return 0
}
