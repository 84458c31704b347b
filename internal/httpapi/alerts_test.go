package httpapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/esimapi"
	"github.com/esimd/esimd/internal/catalogue"
)

// sentBodies returns the callbacks written after *after, each as its kind
// and the body the organisation's callback version sends, and moves *after on.
func (e *env) sentBodies(t *testing.T, after *int64) (kinds []string, bodies []json.RawMessage) {
	t.Helper()
	var l struct {
		Callbacks []struct {
			ID   int64           `json:"id"`
			Kind string          `json:"kind"`
			Body json.RawMessage `json:"body"`
		} `json:"callbacks"`
	}
	res := e.get("/sandbox/v1/callbacks?limit=1000&after=" + itoa(*after))
	if res.status != 200 {
		t.Fatalf("callbacks: %d %s", res.status, res.body)
	}
	res.json(t, &l)
	for _, c := range l.Callbacks {
		*after = c.ID
		kinds, bodies = append(kinds, c.Kind), append(bodies, c.Body)
	}
	return kinds, bodies
}

// voiceCatalogue is the fixture plus a 1 GB bundle with 100 minutes and 50 SMS.
func voiceCatalogue() *catalogue.Data {
	d := fixture()
	voice := d.Bundles[0]
	voice.Name, voice.Description = "esim_1GB_7D_GB_VOICE", "eSIM, 1GB, 100 mins, 50 SMS, 7 Days, United Kingdom"
	voice.Allowances = append(slices.Clone(voice.Allowances),
		catalogue.Allowance{Type: catalogue.AllowanceVoice, Service: catalogue.ServiceStandard, Description: "100 mins", Amount: 100},
		catalogue.Allowance{Type: catalogue.AllowanceSMS, Service: catalogue.ServiceStandard, Description: "50 SMS", Amount: 50})
	d.Bundles = append(d.Bundles, voice)
	return &d
}

// TestUsageCallbacks walks a voice/SMS bundle through its callbacks over
// HTTP: MSISDNEnabled as the bundle is added, FirstUse on the first data
// use of about a kB (not on an SMS or a minute) and no 1 % alert beside it,
// voice and SMS Utilisation alerts with their unit, and several alerts of
// one record each saying which threshold it is, in the body and through
// the SDK.
func TestUsageCallbacks(t *testing.T) {
	e := newEnv(t, envOptions{data: voiceCatalogue()})
	var cursor int64
	var o orderBody
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_VOICE","quantity":1}]}`).json(t, &o)
	iccid := o.Order[0].ICCIDs[0]
	kinds, bodies := e.sentBodies(t, &cursor)
	if !slices.Contains(kinds, "MSISDNEnabled") {
		t.Errorf("callbacks after the voice bundle was added: %v; want MSISDNEnabled (the bundle gives the number)", kinds)
	}
	for i, k := range kinds {
		if k == "MSISDNEnabled" && !strings.Contains(string(bodies[i]), `"msisdn":"447700900`) {
			t.Errorf("MSISDNEnabled body %s", bodies[i])
		}
	}
	if res := e.get("/v2.5/esims/" + iccid); !strings.Contains(string(res.body), `"msisdn":"447700900`) {
		t.Errorf("eSIM details before any use lack the number: %s", res.body)
	}
	e.post("/sandbox/v1/esims/"+iccid+"/install", "")
	e.post("/sandbox/v1/esims/"+iccid+"/attach", `{"country":"GB"}`)
	e.sentBodies(t, &cursor)

	type step struct {
		usage string
		want  []string // kind and the body's percentage and unit
	}
	for _, st := range []step{
		// An SMS starts the bundle (1 of 50: the SMS 1 % alert) but is no
		// data use: no FirstUse.
		{`{"sms":1}`, []string{"Utilisation 1 SMSmessages"}},
		{`{"bytes":400}`, nil}, // 0 kB to the nearest kB
		// 20 MB: the first data use, and past 1 % of 1 GB: FirstUse alone.
		{`{"megabytes":20}`, []string{"FirstUse"}},
		// From 2 % to 85 % in one record: two alerts that differ.
		{`{"megabytes":830}`, []string{"Utilisation 50", "Utilisation 80"}},
		// 24 of 50 SMS used (48 %), then 25 (50 %).
		{`{"sms":23}`, nil},
		{`{"sms":1}`, []string{"Utilisation 50 SMSmessages"}},
		// 85 of 100 minutes in one call: 1, 50 and 80 %.
		{`{"minutes":85}`, []string{"Utilisation 1 minutes", "Utilisation 50 minutes", "Utilisation 80 minutes"}},
	} {
		if res := e.post("/sandbox/v1/esims/"+iccid+"/usage", st.usage); res.status != 200 {
			t.Fatalf("usage %s: %d %s", st.usage, res.status, res.body)
		}
		kinds, bodies := e.sentBodies(t, &cursor)
		var got []string
		seen := map[string]bool{}
		for i, k := range kinds {
			if seen[string(bodies[i])] {
				t.Errorf("usage %s: two callbacks with the same body %s", st.usage, bodies[i])
			}
			seen[string(bodies[i])] = true
			if k != "Utilisation" {
				got = append(got, k)
				continue
			}
			// What a receiver reads: the SDK's view of the body.
			n, err := esimapi.ParseNotification(bodies[i])
			if err != nil {
				t.Fatalf("parse %s: %v", bodies[i], err)
			}
			u := n.(*esimapi.UtilisationNotification)
			s := k + " " + itoa(int64(u.Percentage))
			if u.Bundle.Unit != "" {
				s += " " + u.Bundle.Unit
			}
			got = append(got, s)
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("callbacks of usage %s (-want +got):\n%s", st.usage, diff)
		}
	}
	// The voice alert's quantities are minutes.
	var minutes map[string]any
	_, bodies = e.sentBodies(t, new(int64))
	for _, b := range bodies {
		if strings.Contains(string(b), `"unit":"minutes"`) && strings.Contains(string(b), `"percentage":80`) {
			if err := json.Unmarshal(b, &minutes); err != nil {
				t.Fatal(err)
			}
		}
	}
	bundle, _ := minutes["bundle"].(map[string]any)
	if bundle["initialQuantity"] != float64(100) || bundle["remainingQuantity"] != float64(15) {
		t.Errorf("the 80 %% voice alert = %v; want 100 minutes initially, 15 left", minutes)
	}
}

// TestInsufficientBalanceTenPerEpisode: refused orders send
// InsufficientBalance ten times at most, with the organisation's alert
// threshold in the body; a top-up starts a new episode.
func TestInsufficientBalanceTenPerEpisode(t *testing.T) {
	e := newEnv(t, envOptions{}) // balance 250.5, threshold 100
	var cursor int64
	refuse := func(qty string) {
		t.Helper()
		if res := e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":`+qty+`}]}`); res.status != 400 {
			t.Fatalf("order beyond the balance: %d %s", res.status, res.body)
		}
	}
	count := func() (n int, last json.RawMessage) {
		t.Helper()
		kinds, bodies := e.sentBodies(t, &cursor)
		for i, k := range kinds {
			if k == "InsufficientBalance" {
				n, last = n+1, bodies[i]
			}
		}
		return n, last
	}
	for range 12 {
		refuse("200") // 346 USD
	}
	n, body := count()
	if n != 10 {
		t.Errorf("%d InsufficientBalance callbacks for 12 refusals, want 10", n)
	}
	if want := `{"alertType":"InsufficientBalance","balanceInfo":{"balance":250.5,"threshold":100,"thresholdPercentRemaining":250}}`; string(body) != want {
		t.Errorf("body\n got %s\nwant %s", body, want)
	}
	if res := e.post("/v2.5/organisation/balance?amount=1000", ""); res.status != 200 {
		t.Fatalf("top-up: %d %s", res.status, res.body)
	}
	refuse("1000") // 1730 USD
	if n, _ := count(); n != 1 {
		t.Errorf("%d InsufficientBalance callbacks after a top-up, want 1 (a new episode)", n)
	}
}
