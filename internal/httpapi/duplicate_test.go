package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestDuplicateKeysRefused: a body that gives a key twice in one object,
// at any depth, is a 400 that names the key, on every route that reads a
// JSON body, and changes nothing: {"type":"validate","type":"transaction"}
// once placed a real order.
func TestDuplicateKeysRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	var o orderBody
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`).json(t, &o)
	iccid := o.Order[0].ICCIDs[0]
	before := e.balance(t)
	cases := []struct {
		method, path, body string
		want               string
	}{
		{"POST", "/v2.5/orders", `{"type":"validate","type":"transaction","order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`, `"type"`},
		{"POST", "/v2.5/orders", `{"type":"transaction","order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1,"quantity":9}]}`, `"quantity" in order[0]`},
		{"POST", "/v2.5/esims/apply", `{"bundles":[{"name":"esim_1GB_7D_GB_V2"},{"name":"a","name":"b"}]}`, `"name" in bundles[1]`},
		{"POST", "/v2.5/inventory/refund", `{"usageId":1,"quantity":1,"usageId":2}`, `"usageId"`},
		{"PUT", "/v2.5/esims", `{"iccid":"` + iccid + `","customerRef":"a","customerRef":"b"}`, `"customerRef"`},
		{"POST", "/v2.5/esims/" + iccid + "/sms", `{"message":"a","message":"b"}`, `"message"`},
		{"POST", "/sandbox/v1/esims/" + iccid + "/usage", `{"bytes":1,"bytes":2}`, `"bytes"`},
		{"POST", "/sandbox/v1/clock/advance", `{"duration":"1h","duration":"1000d"}`, `"duration"`},
		{"POST", "/sandbox/v1/faults", `{"path":"/orders","status":503,"status":500}`, `"status"`},
		{"PUT", "/sandbox/v1/autopilot", `{"enabled":false,"enabled":true}`, `"enabled"`},
	}
	for _, c := range cases {
		res := e.do(c.method, c.path, strings.NewReader(c.body), "Content-Type", "application/json")
		if res.status != http.StatusBadRequest {
			t.Errorf("%s %s %s: status %d %s; want 400", c.method, c.path, c.body, res.status, res.body)
			continue
		}
		if m := res.message(t); !strings.Contains(m, c.want) || !strings.Contains(m, "twice") {
			t.Errorf("%s %s %s: message %q; want it to name %s", c.method, c.path, c.body, m, c.want)
		}
	}
	if after := e.balance(t); after != before {
		t.Errorf("balance %s after refused bodies, was %s", after, before)
	}
}
