package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestReturnedESIMSaysSo: an eSIM in the returns process answers its own
// organisation with a 403 that says it was returned, when, and until when
// installing it brings it back; an ICCID the organisation never had keeps
// the plain "not accessible" answer, so nothing leaks about others.
func TestReturnedESIMSaysSo(t *testing.T) {
	e := newEnv(t, envOptions{})
	var o orderBody
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`).json(t, &o)
	iccid := o.Order[0].ICCIDs[0]
	if res := e.do("DELETE", "/v2.5/esims/"+iccid+"/bundles/esim_1GB_7D_GB_V2", nil); res.status != 200 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	want := []string{"eSIM " + iccid + " was returned at 2026-03-01T12:00:00Z", "revoked before it was ever installed", "installs it by 2026-03-05T12:00:00Z"}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v2.5/esims/" + iccid, ""},
		{"GET", "/v2.5/esims/" + iccid + "/history", ""},
		{"GET", "/v2.5/esims/" + iccid + "/bundles", ""},
		{"POST", "/v2.5/esims/" + iccid + "/sms", `{"message":"hi"}`},
	} {
		res := e.do(c.method, c.path, strings.NewReader(c.body), "Content-Type", "application/json")
		if res.status != http.StatusForbidden {
			t.Errorf("%s %s: %d %s; want 403", c.method, c.path, res.status, res.body)
			continue
		}
		m := res.message(t)
		for _, w := range want {
			if !strings.Contains(m, w) {
				t.Errorf("%s %s: message %q; want it to say %q", c.method, c.path, m, w)
			}
		}
	}
	other := "8999901000000009999"
	if res := e.get("/v2.5/esims/" + other); res.status != http.StatusForbidden || strings.Contains(res.message(t), "returned") {
		t.Errorf("an ICCID never had: %d %s; want the plain 403", res.status, res.body)
	}
}
