package httpapi_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSandboxUsageAbroad: a bundle is charged only where it works, in its
// base countries and its roaming countries (notes §5.9). Usage where no
// bundle on the eSIM works is unbilled, and an active bundle that does not
// work there stays active for when the device is back.
func TestSandboxUsageAbroad(t *testing.T) {
	type use struct {
		where     string // JSON fields naming the place
		megabytes string
		charged   int64
		unbilled  int64
	}
	cases := []struct {
		name    string
		bundles []string // in the order applied
		uses    []use
		states  map[string]string
		remain  map[string]int64 // remaining bytes per bundle at the end
	}{
		{
			name:    "the README's move to France on a GB bundle",
			bundles: []string{"esim_1GB_7D_GB_V2"},
			uses: []use{
				{`"country":"GB"`, "600", 600_000_000, 0},
				{`"mccmnc":"20801"`, "500", 0, 500_000_000},
				{`"country":"GB"`, "100", 100_000_000, 0}, // back home: the bundle carries on
			},
			states: map[string]string{"esim_1GB_7D_GB_V2": "active"},
			remain: map[string]int64{"esim_1GB_7D_GB_V2": 300_000_000},
		},
		{
			name:    "a GB bundle never started does not start in France",
			bundles: []string{"esim_1GB_7D_GB_V2"},
			uses:    []use{{`"country":"FR"`, "50", 0, 50_000_000}},
			states:  map[string]string{"esim_1GB_7D_GB_V2": "queued"},
			remain:  map[string]int64{"esim_1GB_7D_GB_V2": 1_000_000_000},
		},
		{
			name:    "a queued bundle that works in France starts there",
			bundles: []string{"esim_1GB_7D_GB_V2", "esim_1GB_7D_REUL_V2"},
			uses:    []use{{`"country":"FR"`, "50", 50_000_000, 0}},
			states:  map[string]string{"esim_1GB_7D_GB_V2": "queued", "esim_1GB_7D_REUL_V2": "active"},
			remain:  map[string]int64{"esim_1GB_7D_GB_V2": 1_000_000_000, "esim_1GB_7D_REUL_V2": 950_000_000},
		},
		{
			name:    "roaming countries count",
			bundles: []string{"esim_3GB_30D_GB_V2"}, // roams in France in this test's catalogue
			uses:    []use{{`"country":"FR"`, "50", 50_000_000, 0}},
			states:  map[string]string{"esim_3GB_30D_GB_V2": "active"},
			remain:  map[string]int64{"esim_3GB_30D_GB_V2": 2_950_000_000},
		},
		{
			name:    "one active bundle: a running GB bundle keeps a Europe bundle queued, and France is unbilled",
			bundles: []string{"esim_1GB_7D_GB_V2", "esim_1GB_7D_REUL_V2"},
			uses: []use{
				{`"country":"GB"`, "10", 10_000_000, 0},
				{`"country":"FR"`, "20", 0, 20_000_000},
			},
			states: map[string]string{"esim_1GB_7D_GB_V2": "active", "esim_1GB_7D_REUL_V2": "queued"},
			remain: map[string]int64{"esim_1GB_7D_GB_V2": 990_000_000, "esim_1GB_7D_REUL_V2": 1_000_000_000},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := fixture()
			for i := range d.Bundles {
				if d.Bundles[i].Name == "esim_3GB_30D_GB_V2" {
					d.Bundles[i].Roaming = []string{"FR"}
				}
			}
			e := newEnv(t, envOptions{data: &d})
			var iccid string
			for _, b := range c.bundles {
				body := `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"` + b + `","quantity":1}]}`
				if iccid != "" {
					body = `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"` + b + `","quantity":1,"iccids":["` + iccid + `"]}]}`
				}
				res := e.post("/v2.5/orders", body)
				if res.status != 200 {
					t.Fatalf("order %s: %d %s", b, res.status, res.body)
				}
				var o orderBody
				res.json(t, &o)
				iccid = o.Order[0].ICCIDs[0]
			}
			if res := e.post("/sandbox/v1/esims/"+iccid+"/install", `{}`); res.status != 200 {
				t.Fatalf("install: %d %s", res.status, res.body)
			}
			for _, u := range c.uses {
				res := e.post("/sandbox/v1/esims/"+iccid+"/usage", `{`+u.where+`,"megabytes":`+u.megabytes+`}`)
				if res.status != 200 {
					t.Fatalf("usage %s: %d %s", u.where, res.status, res.body)
				}
				var got struct{ BytesCharged, BytesUnbilled int64 }
				res.json(t, &got)
				if got.BytesCharged != u.charged || got.BytesUnbilled != u.unbilled {
					t.Errorf("%s MB at %s: charged %d, unbilled %d; want %d and %d", u.megabytes, u.where, got.BytesCharged, got.BytesUnbilled, u.charged, u.unbilled)
				}
			}
			if diff := cmp.Diff(c.states, e.bundleStates(t, iccid)); diff != "" {
				t.Errorf("bundle states (-want +got):\n%s", diff)
			}
			var b struct {
				Bundles []struct {
					Name        string
					Assignments []struct{ RemainingQuantity int64 }
				}
			}
			e.get("/v2.5/esims/"+iccid+"/bundles?includeUsed=true").json(t, &b)
			remain := map[string]int64{}
			for _, x := range b.Bundles {
				for _, a := range x.Assignments {
					remain[x.Name] = a.RemainingQuantity
				}
			}
			if diff := cmp.Diff(c.remain, remain); diff != "" {
				t.Errorf("remaining bytes (-want +got):\n%s", diff)
			}
		})
	}
}
