package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOrderHistorySurvivesTheReturnsProcess: once an eSIM of an order
// leaves the account (revoked down to nothing before it was installed),
// the order still lists what it sold, and the order's install data serves
// the other eSIMs and marks the returned one, in the returns process and
// after it was retired.
func TestOrderHistorySurvivesTheReturnsProcess(t *testing.T) {
	e := newEnv(t, envOptions{})
	var o orderBody
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":2}]}`).json(t, &o)
	ref := o.OrderReference
	kept, returned := o.Order[0].ICCIDs[0], o.Order[0].ICCIDs[1]
	sold := map[string]string{} // ICCID → matching ID
	for _, es := range o.Order[0].ESIMs {
		sold[es.ICCID] = es.MatchingID
	}
	esimInstall(t, e, kept)
	if res := e.do("DELETE", "/v2.5/esims/"+returned+"/bundles/esim_1GB_7D_GB_V2", nil); res.status != 200 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	if res := e.get("/v2.5/esims/" + returned); res.status != 403 {
		t.Fatalf("returned eSIM: %d, want 403 (out of the account)", res.status)
	}

	check := func(when, wantMark string) {
		t.Helper()
		// The order keeps ICCID, matching ID and SM-DP+ address of both.
		for _, path := range []string{"/v2.5/orders/" + ref, "/v2.4/orders/" + ref} {
			var got orderBody
			res := e.get(path)
			if res.status != 200 {
				t.Errorf("%s: GET %s: %d %s", when, path, res.status, res.body)
				continue
			}
			res.json(t, &got)
			have := map[string]string{}
			for _, es := range got.Order[0].ESIMs {
				have[es.ICCID] = es.MatchingID
				if es.SMDPAddress == "" {
					t.Errorf("%s: GET %s: eSIM %s without its SM-DP+ address", when, path, es.ICCID)
				}
			}
			if diff := cmp.Diff(sold, have); diff != "" {
				t.Errorf("%s: GET %s: eSIMs (-sold +listed):\n%s", when, path, diff)
			}
		}
		res := e.get("/v2.5/orders?includeIccids=true&limit=10")
		if res.status != 200 || !strings.Contains(string(res.body), returned) || !strings.Contains(string(res.body), kept) {
			t.Errorf("%s: GET /orders?includeIccids=true: %d %s", when, res.status, res.body)
		}
		// Install data: the kept eSIM in full, the returned one marked.
		var items []map[string]any
		res = e.get("/v2.5/esims/assignments?reference="+ref, "Accept", "application/json")
		if res.status != 200 {
			t.Fatalf("%s: install data JSON: %d %s", when, res.status, res.body)
		}
		res.json(t, &items)
		marks := map[string]any{}
		for _, it := range items {
			marks[it["iccid"].(string)] = it["unavailable"]
			if it["iccid"] == returned && (it["matchingId"] != nil || it["pin"] != nil) {
				t.Errorf("%s: the returned eSIM's install data is served: %v", when, it)
			}
			if it["iccid"] == kept && it["matchingId"] != sold[kept] {
				t.Errorf("%s: the kept eSIM's install data: %v", when, it)
			}
		}
		if diff := cmp.Diff(map[string]any{kept: nil, returned: wantMark}, marks); diff != "" {
			t.Errorf("%s: install data marks (-want +got):\n%s", when, diff)
		}
		for _, accept := range []string{"text/csv", "application/zip"} {
			res := e.get("/v2.5/esims/assignments?reference="+ref, "Accept", accept)
			if res.status != 200 {
				t.Errorf("%s: install data %s: %d %s", when, accept, res.status, res.body)
			}
		}
		csv := string(e.get("/v2.5/esims/assignments?reference=" + ref).body)
		if !strings.Contains(csv, kept) || strings.Contains(csv, returned) {
			t.Errorf("%s: install CSV: %s; want the kept eSIM only", when, csv)
		}
	}
	check("in the returns process", "returned")
	// Four days on, not installed: retired (deactivated).
	e.post("/sandbox/v1/clock/advance", `{"duration":"4d"}`)
	check("after retirement", "deactivated")
}

// TestInstallDataOfAnOrderWithADeactivatedESIM: one deactivated eSIM no
// longer takes the install data of the whole reference with it (v2.5): the
// others are served, and JSON lists the deactivated one as such.
func TestInstallDataOfAnOrderWithADeactivatedESIM(t *testing.T) {
	e := newEnv(t, envOptions{})
	ref, iccids := installTwoLineOrder(t, e)
	if res := e.do("DELETE", "/v2.5/esims/"+iccids[0], nil); res.status != 200 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	for _, tc := range []struct{ path, accept string }{
		{"/v2.5/esims/assignments?reference=" + ref, ""},
		{"/v2.5/esims/assignments?reference=" + ref, "application/json"},
		{"/v2.5/esims/assignments?reference=" + ref, "application/zip"},
		{"/v2.5/esims/qr/" + ref, ""},
		{"/v2.5/esims/csv/" + ref, ""},
	} {
		res := e.get(tc.path, "Accept", tc.accept)
		if res.status != 200 {
			t.Errorf("%s (Accept %q): %d %s; want 200 with the live eSIM", tc.path, tc.accept, res.status, res.body)
		}
	}
	var items []json.RawMessage
	e.get("/v2.5/esims/assignments?reference="+ref, "Accept", "application/json").json(t, &items)
	if len(items) != 2 || string(items[0]) != `{"iccid":"`+iccids[0]+`","profileStatus":"Deactivated","bundle":"esim_1GB_7D_GB_V2","reference":"`+ref+`-0","unavailable":"deactivated"}` ||
		!strings.Contains(string(items[1]), `"matchingId"`) {
		t.Errorf("JSON install data: %s", items)
	}
	if csv := string(e.get("/v2.5/esims/assignments?reference=" + ref).body); strings.Contains(csv, iccids[0]) || !strings.Contains(csv, iccids[1]) {
		t.Errorf("CSV install data: %s; want only the live eSIM", csv)
	}
	_, files := installZIPFiles(t, e.get("/v2.5/esims/assignments?reference="+ref, "Accept", "application/zip").body)
	if _, ok := files[iccids[0]+".png"]; ok {
		t.Errorf("the ZIP holds a QR code of the deactivated eSIM")
	}
	if _, ok := files[iccids[1]+".png"]; !ok {
		t.Errorf("the ZIP lacks the QR code of the live eSIM")
	}
}
