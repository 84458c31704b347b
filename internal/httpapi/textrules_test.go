package httpapi_test

import (
	"strings"
	"testing"
)

// TestTextFieldsRefuseNULAndInvalidUTF8 sends U+0000, bytes that are not
// UTF-8 and unpaired surrogate escapes in every kind of text field: each
// is a 400 that says so, on both engines alike (PostgreSQL refused a NUL
// with a 500, SQLite stored it; encoding/json stored invalid bytes as
// U+FFFD), and nothing is stored.
func TestTextFieldsRefuseNULAndInvalidUTF8(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	iccid := iccids[0]
	esimWantStatus(t, "customerRef", e.esimPut("/v2.5/esims?iccid="+iccid+"&customerRef=shop-1", ""), 200)
	for _, tc := range []struct {
		method, path, body string
		mention            string
	}{
		{"PUT", "/v2.5/esims?iccid=" + iccid + "&customerRef=a%00b", "", `"customerRef" contains U+0000`},
		{"PUT", "/v2.5/esims?iccid=" + iccid + "&customerRef=caf%E9", "", `"customerRef" is not valid UTF-8`},
		{"PUT", "/v2.5/esims", `{"iccid":"` + iccid + `","customerRef":"a\u0000b"}`, "customerRef contains U+0000"},
		{"PUT", "/v2.5/esims", `{"iccid":"` + iccid + `","customerRef":"caf` + "\xe9" + `"}`, "customerRef is not valid UTF-8"},
		{"PUT", "/v2.5/esims", `{"iccid":"` + iccid + `","customerRef":"\ud83d"}`, "customerRef contains \\uD83D"},
		{"GET", "/v2.5/esims?filterBy=customerRef&filter=shop%00", "", `"filter" contains U+0000`},
		{"GET", "/v2.5/esims?filterBy=customerRef&filter=%FF", "", `"filter" is not valid UTF-8`},
		{"POST", "/v2.5/esims/" + iccid + "/sms", `{"message":"hi\u0000"}`, "message contains U+0000"},
		{"POST", "/v2.5/esims/" + iccid + "/sms", `{"message":"hi ` + "\xff" + `"}`, "message is not valid UTF-8"},
		{"POST", "/v2.5/esims/" + iccid + "/sms", `{"message":"\udc4b"}`, "message contains \\uDC4B"},
		{"POST", "/v2.5/orders", `{"type":"validate","order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2\u0000","quantity":1}]}`, "item contains U+0000"},
		{"POST", "/v2.5/esims/apply", `{"iccid":"` + iccid + `","name":"esim_1GB` + "\xc0" + `"}`, "name is not valid UTF-8"},
		{"GET", "/v2.5/catalogue/bundle/esim%00", "", "the path contains U+0000"},
		{"POST", "/sandbox/v1/esims/" + iccid + "/attach", `{"country":"G\u0000"}`, "country contains U+0000"},
	} {
		res := e.do(tc.method, tc.path, strings.NewReader(tc.body), "Content-Type", "application/json")
		if res.status != 400 || !strings.Contains(res.message(t), tc.mention) {
			t.Errorf("%s %s %q: %d %s; want 400 mentioning %q", tc.method, tc.path, tc.body, res.status, res.body, tc.mention)
		}
	}
	var d struct{ CustomerRef string }
	e.get("/v2.5/esims/"+iccid).json(t, &d)
	if d.CustomerRef != "shop-1" {
		t.Errorf("customerRef %q after the refused updates, want shop-1", d.CustomerRef)
	}
	var sms struct{ Messages []struct{ Message string } }
	e.get("/sandbox/v1/esims/"+iccid+"/sms").json(t, &sms)
	if len(sms.Messages) != 0 {
		t.Errorf("refused messages were stored: %+v", sms)
	}
}

// TestSMSBodyRules: 1–160 characters of UTF-8 (characters, not bytes).
func TestSMSBodyRules(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	path := "/v2.5/esims/" + iccids[0] + "/sms"
	for _, tc := range []struct {
		body    string
		status  int
		mention string
	}{
		{`{"message":"` + strings.Repeat("é", 160) + `"}`, 200, ""},
		{`{"message":"` + strings.Repeat("👋", 160) + `"}`, 200, ""},
		{`{"message":"x"}`, 200, ""},
		{`{"message":"` + strings.Repeat("é", 161) + `"}`, 400, "1 to 160 characters, got 161"},
		{`{"message":""}`, 400, "1 to 160 characters, got 0"},
		{`{}`, 400, "message is required"},
		{`{"message":"caf` + "\xc3" + `"}`, 400, "message is not valid UTF-8"},
		{"{\"message\":\"\xed\xa0\x80\"}", 400, "message is not valid UTF-8"}, // a surrogate encoded as UTF-8 bytes
	} {
		res := e.post(path, tc.body)
		if res.status != tc.status || (tc.status != 200 && !strings.Contains(res.message(t), tc.mention)) {
			t.Errorf("%.60q: %d %s; want %d %q", tc.body, res.status, res.body, tc.status, tc.mention)
		}
	}
	var sms struct{ Messages []struct{ Message string } }
	e.get("/sandbox/v1/esims/"+iccids[0]+"/sms").json(t, &sms)
	if len(sms.Messages) != 3 || sms.Messages[0].Message != strings.Repeat("é", 160) {
		t.Errorf("stored messages %+v, want the three accepted", sms)
	}
}
