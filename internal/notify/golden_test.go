package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
)

const (
	bundle1GB = "esim_1GB_7D_GB_V2"
	mb        = int64(1_000_000)
)

func goldenCatalogue() catalogue.Data {
	return catalogue.Data{
		Currency:  "USD",
		Countries: []catalogue.Country{{ISO: "GB", Name: "United Kingdom", Region: "Europe"}},
		Bundles: []catalogue.Bundle{{Name: bundle1GB, Description: "eSIM, 1GB, 7 Days, United Kingdom, V2", Groups: []string{catalogue.GroupFixed},
			Countries: []string{"GB"}, Roaming: []string{}, DataBytes: 1000 * mb, DurationDays: 7, Autostart: true, Speeds: []string{"4G"},
			Profile: "Profile 1", Price: money.MustParse("1.73"), BillingType: catalogue.BillingFixedCost,
			Allowances: []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: bundle1GB, Amount: 1000 * mb}}}},
		Networks: []catalogue.Network{{CountryISO: "GB", Profile: "Profile 1", Name: "EE Limited", Brand: "EE", MCC: "234", MNC: "30", TADIG: "GBRME", Speeds: []string{"4G"}}},
	}
}

// engineScenario drives the real engine (esims, orders) through every
// notification it emits, for one organisation, and adds the kinds it does
// not emit yet from their samples.
func engineScenario(t *testing.T, e *env, o orgs.Organisation) {
	t.Helper()
	ctx := e.ctx
	cat := catalogue.NewService(e.db, e.clock.Now)
	if err := cat.Import(ctx, goldenCatalogue()); err != nil {
		t.Fatal(err)
	}
	engine := esims.NewService(esims.Config{Store: e.db, Orgs: e.db, Catalogue: cat, Now: e.clock.Now})
	ord := orders.NewService(e.db, engine, cat, e.clock.Now, nil)

	// InsufficientBalance: 100 × 1.73 is more than the balance of 100.
	_, err := ord.Place(ctx, o.ID, orders.Request{Type: "transaction", Assign: true,
		Lines: []orders.LineRequest{{Type: "bundle", Item: bundle1GB, Quantity: 100}}}, "")
	wantKind(t, err, fault.Invalid)
	// Topup.
	if _, _, err := ord.TopUp(ctx, o.ID, money.MustParse("1000")); err != nil {
		t.Fatal(err)
	}
	// An eSIM with a bundle under a fixed reference, so that V3 bodies are stable.
	ref := orders.Order{OrgID: o.ID, Reference: "5b1f7c1e-9a3d-4c55-8e0b-2f4d6a8c0e12", Kind: orders.KindOrder,
		Status: orders.StatusCompleted, Assigned: true, Currency: "USD", CreatedAt: e.clock.Now()}
	if err := e.db.InsertOrder(ctx, &ref); err != nil {
		t.Fatal(err)
	}
	var iccid string
	err = e.db.InTx(ctx, func(ctx context.Context) error {
		org, err := e.db.Organisation(ctx, o.ID)
		if err != nil {
			return err
		}
		es, err := engine.Provision(ctx, &org, "Profile 1", 1, "")
		if err != nil {
			return err
		}
		b, _ := cat.Current(ctx).Bundle(bundle1GB)
		iccid = es[0].ICCID
		_, err = engine.Assign(ctx, &org, &es[0], &b, ref.ID, ref.Reference+"-0", b.Price, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(90 * time.Second)
	// ProfileStatusChange with the device's EID.
	if _, err := engine.SetProfileStatus(ctx, o.ID, iccid, esims.ProfileInstalled, "89049032000001000000000000000074"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	// FirstAttachment and CountryChange.
	if _, err := engine.Attach(ctx, o.ID, iccid, esims.Registration{Country: "GB", MCC: "234", MNC: "30"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// FirstUse (in place of the 1 % alert), then Utilisation at 50, 80 and 100 %.
	for _, n := range []int64{10, 490, 300, 200} {
		e.clock.Advance(time.Hour)
		if _, err := engine.ApplyUsage(ctx, esims.UsageRecord{Org: o.ID, ICCID: iccid, Bytes: n * mb}); err != nil {
			t.Fatal(err)
		}
	}
	// 180 days without activity schedule the deletion; 7 more delete it.
	for _, d := range []time.Duration{181 * 24 * time.Hour, 7 * 24 * time.Hour} {
		e.clock.Advance(d)
		if _, err := engine.RunDue(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Kinds the engine does not emit yet, from their samples.
	seen := map[string]bool{}
	all, err := engine.Events(ctx, o.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range all {
		seen[ev.Kind] = true
	}
	for _, k := range notify.Kinds {
		if seen[k] {
			continue
		}
		raw, _ := notify.SamplePayload(k)
		p, err := events.Decode(k, raw)
		if err != nil {
			t.Fatal(err)
		}
		var who struct {
			ICCID string `json:"iccid"`
		}
		if err := json.Unmarshal(raw, &who); err != nil {
			t.Fatal(err)
		}
		e.event(o.ID, who.ICCID, p)
	}
}

// TestBodiesGolden delivers every notification kind, as the engine writes
// it, to a real receiver in both callback versions and compares each body
// byte for byte with testdata/golden/<kind>.<version>.json.
func TestBodiesGolden(t *testing.T) {
	for _, version := range []string{orgs.CallbackV2, orgs.CallbackV3} {
		t.Run(version, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			rc := newReceiver(t, nil)
			o, _ := e.org("Acme Travel", true, rc.URL, version)
			engineScenario(t, e, o)
			e.deliver(o.ID)

			states, err := e.svc.Events(e.ctx, o.ID, notify.EventQuery{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			// Utilisation bodies are pinned per alert level: Utilisation.<pct>.
			kindOf := map[string]string{}
			for _, st := range states {
				if st.Status != notify.StatusDelivered {
					t.Errorf("event %d (%s) is %s: %s", st.ID, st.Kind, st.Status, st.LastError)
				}
				k := st.Kind
				if k == notify.KindUtilisation {
					var p struct{ Percentage int }
					if err := json.Unmarshal(st.Payload, &p); err != nil {
						t.Fatal(err)
					}
					k += "." + strconv.Itoa(p.Percentage)
				}
				kindOf[strconv.FormatInt(st.ID, 10)] = k
			}
			first := map[string][]byte{}
			for _, r := range rc.all() {
				k := kindOf[r.eventID()]
				if _, ok := first[k]; !ok {
					first[k] = r.Body
				}
			}
			want := slices.DeleteFunc(slices.Clone(notify.Kinds), func(k string) bool { return k == notify.KindUtilisation })
			// No Utilisation at 1 %: FirstUse replaces it (notes §4.2).
			want = append(want, "Utilisation.50", "Utilisation.80", "Utilisation.100")
			if _, ok := first["Utilisation.1"]; ok {
				t.Errorf("a 1 %% Utilisation callback was sent besides FirstUse")
			}
			for _, k := range want {
				body, ok := first[k]
				if !ok {
					t.Errorf("no %s callback was delivered", k)
					continue
				}
				checkGolden(t, filepath.Join("testdata", "golden", k+"."+version+".json"), body)
			}
		})
	}
}

func checkGolden(t *testing.T, path string, body []byte) {
	t.Helper()
	if !json.Valid(body) {
		t.Errorf("%s: body is not JSON: %s", path, body)
	}
	got := append(bytes.Clone(body), '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestBodiesGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got %s\nwant %s", path, got, want)
	}
}

// TestRenderFieldOrder pins the documented field order of the usage
// bodies independently of the golden files.
func TestRenderFieldOrder(t *testing.T) {
	raw, _ := notify.SamplePayload(notify.KindUtilisation)
	for _, tc := range []struct {
		version string
		want    string
	}{
		{orgs.CallbackV2, `{"iccid":"8999901000000000013","alertType":"Utilisation","bundle":{"name":"esim_1GB_7D_GB_V2","initialQuantity":1000000000,"remainingQuantity":200000000,"startTime":"2026-03-01T12:00:00Z","endTime":"2026-03-08T12:00:00Z"},"percentage":80}`},
		{orgs.CallbackV3, `{"iccid":"8999901000000000013","alertType":"Utilisation","bundle":{"id":"42","reference":"0f8c2a8e-5d2b-4f7e-9a51-1c3f1f6f8b10-0","name":"esim_1GB_7D_GB_V2","description":"eSIM, 1GB, 7 Days, United Kingdom, V2","initialQuantity":1000000000,"remainingQuantity":200000000,"startTime":"2026-03-01T12:00:00Z","endTime":"2026-03-08T12:00:00Z","unlimited":false},"percentage":80}`},
	} {
		got, err := notify.Render(notify.KindUtilisation, raw, tc.version)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%s body\n got %s\nwant %s", tc.version, got, tc.want)
		}
	}
	// Numbers keep their exact text; a numeric ICCID becomes a string;
	// times become RFC 3339 UTC whole seconds.
	got, err := notify.Render(notify.KindFirstUse, json.RawMessage(`{"alertType":"FirstUse","iccid":8944538532008160222,
		"bundle":{"name":"b","initialQuantity":20000000000,"remainingQuantity":19999999999,"startTime":"2026-03-01T13:00:00.123456789+01:00"}}`), orgs.CallbackV2)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"alertType":"FirstUse","iccid":"8944538532008160222","bundle":{"name":"b","initialQuantity":20000000000,"remainingQuantity":19999999999,"startTime":"2026-03-01T12:00:00Z"}}`
	if string(got) != want {
		t.Errorf("FirstUse\n got %s\nwant %s", got, want)
	}
	// Voice and SMS alerts carry their unit at the end of the bundle.
	voice := json.RawMessage(`{"alertType":"Utilisation","iccid":"8999901000000000013","percentage":50,"bundle":{"id":"7","reference":"r-0","name":"v",` +
		`"description":"d","initialQuantity":100,"remainingQuantity":50,"unit":"minutes","unlimited":false,"startTime":"2026-03-01T12:00:00Z"}}`)
	for version, want := range map[string]string{
		orgs.CallbackV2: `{"iccid":"8999901000000000013","alertType":"Utilisation","bundle":{"name":"v","initialQuantity":100,"remainingQuantity":50,"startTime":"2026-03-01T12:00:00Z","unit":"minutes"},"percentage":50}`,
		orgs.CallbackV3: `{"iccid":"8999901000000000013","alertType":"Utilisation","bundle":{"id":"7","reference":"r-0","name":"v","description":"d","initialQuantity":100,"remainingQuantity":50,"startTime":"2026-03-01T12:00:00Z","unlimited":false,"unit":"minutes"},"percentage":50}`,
	} {
		if got, err := notify.Render(notify.KindUtilisation, voice, version); err != nil || string(got) != want {
			t.Errorf("%s voice alert\n got %s (%v)\nwant %s", version, got, err, want)
		}
	}
	topup, _ := notify.Render(notify.KindTopup, json.RawMessage(`{"alertType":"Topup","bundle":{"oldAmount":250.5,"newAmount":1250.5}}`), orgs.CallbackV3)
	if string(topup) != `{"alertType":"Topup","bundle":{"oldAmount":250.5,"newAmount":1250.5}}` {
		t.Errorf("Topup body %s", topup)
	}
	if _, err := notify.Render("Utilisation", json.RawMessage(`[1]`), orgs.CallbackV3); err == nil {
		t.Errorf("a payload that is not an object rendered")
	}
	if !slices.Contains(notify.Kinds, notify.KindProfileStatusChange) {
		t.Errorf("Kinds lacks ProfileStatusChange")
	}
}
