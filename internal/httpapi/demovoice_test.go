package httpapi_test

import (
	"strings"
	"testing"
)

// TestDemoCatalogueMSISDNFlow: the demo catalogue sells voice and SMS
// bundles, so the MSISDN flow works out of the box: find one in the
// catalogue, order it, use minutes and SMS, see the phone number.
func TestDemoCatalogueMSISDNFlow(t *testing.T) {
	e := demoEnv(t)
	var p cataloguePage
	e.get("/v2.5/catalogue?group=Demo%20Voice%20and%20SMS").json(t, &p)
	if names := p.names(); len(names) != 6 || !strings.Contains(strings.Join(names, ","), "esim_5GB_30D_GB_VOICE_SMS_V2") {
		t.Fatalf("demo voice and SMS bundles = %v", names)
	}
	res := e.get("/v2.5/catalogue/bundle/esim_5GB_30D_GB_VOICE_SMS_V2")
	for _, want := range []string{`"type":"VOICE"`, `"amount":100,"unit":"MINS"`, `"type":"SMS"`, `"amount":100,"unit":"SMS"`} {
		if !strings.Contains(string(res.body), want) {
			t.Errorf("bundle detail lacks %s: %s", want, res.body)
		}
	}
	var o orderBody
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_5GB_30D_GB_VOICE_SMS_V2","quantity":1}]}`).json(t, &o)
	if len(o.Order) != 1 || len(o.Order[0].ICCIDs) != 1 {
		t.Fatalf("order = %+v", o)
	}
	iccid := o.Order[0].ICCIDs[0]
	e.post("/sandbox/v1/esims/"+iccid+"/install", "")
	e.post("/sandbox/v1/esims/"+iccid+"/attach", `{"country":"GB"}`)
	res = e.post("/sandbox/v1/esims/"+iccid+"/usage", `{"minutes":12,"sms":3}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"minutesCharged":12`) || !strings.Contains(string(res.body), `"smsCharged":3`) {
		t.Fatalf("voice and SMS usage: %d %s", res.status, res.body)
	}
	if res := e.get("/v2.5/esims/" + iccid); !strings.Contains(string(res.body), `"msisdn":"447700900`) {
		t.Errorf("eSIM details without the MSISDN: %s", res.body)
	}
}
