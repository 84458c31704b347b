package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/catalogue"
)

// wireAssignment is what these tests read of an assignment on v2.5.
type wireAssignment struct {
	Bundle    string
	State     string `json:"bundleState"`
	Reference string `json:"assignmentReference"`
	StartTime string `json:"startTime"`
	EndTime   string `json:"endTime"`
}

// wireAssignments lists an eSIM's assignments (all of them), newest first.
func (e *env) wireAssignments(t *testing.T, iccid string) []wireAssignment {
	t.Helper()
	var b struct {
		Bundles []struct {
			Name        string
			Assignments []wireAssignment
		}
	}
	res := e.get("/v2.5/esims/" + iccid + "/bundles?includeUsed=true&limit=200")
	if res.status != 200 {
		t.Fatalf("bundles of %s: %d %s", iccid, res.status, res.body)
	}
	res.json(t, &b)
	var out []wireAssignment
	for _, x := range b.Bundles {
		for _, a := range x.Assignments {
			a.Bundle = x.Name
			out = append(out, a)
		}
	}
	return out
}

// statesByBundle maps each bundle name to the states of its assignments.
func statesByBundle(as []wireAssignment) map[string][]string {
	out := map[string][]string{}
	for _, a := range as {
		out[a.Bundle] = append(out[a.Bundle], a.State)
	}
	return out
}

func (e *env) mustPost(t *testing.T, path, body string) response {
	t.Helper()
	res := e.post(path, body)
	if res.status != 200 && res.status != 201 {
		t.Fatalf("POST %s %s: %d %s", path, body, res.status, res.body)
	}
	return res
}

func (e *env) put(path, body string) response {
	e.t.Helper()
	return e.do(http.MethodPut, path, strings.NewReader(body), "Content-Type", "application/json")
}

// newESIM orders one bundle onto a new eSIM and returns its ICCID.
func (e *env) newESIM(t *testing.T, bundle string) string {
	t.Helper()
	var o orderBody
	e.mustPost(t, "/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"`+bundle+`","quantity":1}]}`).json(t, &o)
	return o.Order[0].ICCIDs[0]
}

// TestDepletedBundleExpiresOverHTTP: a bundle used up is depleted while
// inside its validity and expired at its end (notes §3.1), with the history
// entry; its phone number went at depletion and is not taken twice; the
// bundle queued behind it stays queued.
func TestDepletedBundleExpiresOverHTTP(t *testing.T) {
	d := fixture()
	voice := d.Bundles[0]
	voice.Name, voice.Description = "esim_1GB_7D_GB_VOICE", "eSIM, 1GB, 100 mins, 50 SMS, 7 Days, United Kingdom"
	voice.Allowances = append(slices.Clone(voice.Allowances),
		catalogue.Allowance{Type: catalogue.AllowanceVoice, Service: catalogue.ServiceStandard, Description: "100 mins", Amount: 100},
		catalogue.Allowance{Type: catalogue.AllowanceSMS, Service: catalogue.ServiceStandard, Description: "50 SMS", Amount: 50})
	d.Bundles = append(d.Bundles, voice)
	e := newEnv(t, envOptions{data: &d})
	iccid := e.newESIM(t, voice.Name)
	e.mustPost(t, "/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_3GB_30D_GB_V2","quantity":1,"iccids":["`+iccid+`"]}]}`)
	e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/install", "")
	e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/attach", `{"country":"GB"}`)
	e.mustPost(t, "/sandbox/v1/clock/advance", `{"duration":"1h"}`)
	// Exactly what the bundle holds: it depletes, nothing spills over.
	e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/usage", `{"megabytes":1}`)
	res := e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/usage", `{"bytes":999000000,"minutes":100,"sms":50}`)
	if !strings.Contains(string(res.body), `"bytesCharged":999000000`) || !strings.Contains(string(res.body), `"bytesUnbilled":0`) {
		t.Fatalf("depleting usage: %s", res.body)
	}
	want := map[string][]string{voice.Name: {"depleted"}, "esim_3GB_30D_GB_V2": {"queued"}}
	if diff := cmp.Diff(want, statesByBundle(e.wireAssignments(t, iccid))); diff != "" {
		t.Fatalf("after depletion (-want +got):\n%s", diff)
	}
	var first wireAssignment
	for _, a := range e.wireAssignments(t, iccid) {
		if a.Bundle == voice.Name {
			first = a
		}
	}
	if first.StartTime != "2026-03-01T13:00:00Z" || first.EndTime != "2026-03-08T13:00:00Z" {
		t.Fatalf("depleted bundle runs %s to %s", first.StartTime, first.EndTime)
	}
	e.mustPost(t, "/sandbox/v1/clock/advance", `{"to":"2026-03-08T12:59:59Z"}`)
	if got := statesByBundle(e.wireAssignments(t, iccid))[voice.Name]; !slices.Equal(got, []string{"depleted"}) {
		t.Fatalf("a second before its end: %v, want depleted", got)
	}
	e.mustPost(t, "/sandbox/v1/clock/advance", `{"duration":"1s"}`)
	want = map[string][]string{voice.Name: {"expired"}, "esim_3GB_30D_GB_V2": {"queued"}}
	if diff := cmp.Diff(want, statesByBundle(e.wireAssignments(t, iccid))); diff != "" {
		t.Errorf("at its end (-want +got):\n%s", diff)
	}
	var hist []struct {
		Name       string `json:"name"`
		BundleName string `json:"bundleName"`
		Date       string `json:"date"`
	}
	e.get("/v2.5/esims/"+iccid+"/history").json(t, &hist)
	var ends []string
	for _, h := range hist {
		if h.Name == "Bundle Depleted" || h.Name == "Bundle Expired" {
			ends = append(ends, h.Name+" "+h.BundleName+" "+h.Date)
		}
	}
	wantEnds := []string{"Bundle Depleted " + voice.Name + " 2026-03-01T13:00:00Z", "Bundle Expired " + voice.Name + " 2026-03-08T13:00:00Z"}
	if diff := cmp.Diff(wantEnds, ends); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	var l callbackList
	e.get("/sandbox/v1/callbacks?limit=1000").json(t, &l)
	var msisdn []string
	for _, c := range l.Callbacks {
		if c.Kind == "MSISDNDisabled" {
			r, _ := c.Payload["reason"].(string)
			msisdn = append(msisdn, c.Kind+" "+r)
		}
	}
	if diff := cmp.Diff([]string{"MSISDNDisabled Bundle depleted"}, msisdn); diff != "" {
		t.Errorf("MSISDNDisabled callbacks (-want +got):\n%s", diff)
	}
	if res := e.get("/v2.5/esims/" + iccid); strings.Contains(string(res.body), `"msisdn"`) {
		t.Errorf("the number outlived its bundle: %s", res.body)
	}
	// The successor starts on the next use, after the first ended.
	e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/usage", `{"megabytes":1}`)
	for _, a := range e.wireAssignments(t, iccid) {
		if a.Bundle == "esim_3GB_30D_GB_V2" && (a.State != "active" || a.StartTime != "2026-03-08T13:00:00Z") {
			t.Errorf("successor: %+v, want active from 2026-03-08T13:00:00Z", a)
		}
	}
}

// TestSandboxProvisioningDelay: a sandbox organisation sets how long the
// built-in SM-DP+ takes; new assignments are processing until then (the
// eSIM installs and attaches meanwhile) and queued after; advancing the
// clock runs the transition. The default is 0: queued at once.
func TestSandboxProvisioningDelay(t *testing.T) {
	e := newEnv(t, envOptions{})
	if res := e.get("/sandbox/v1/settings"); res.status != 200 || string(res.body) != `{"provisioningDelay":"0s","provisioningDelaySeconds":0}` {
		t.Fatalf("default settings: %d %s", res.status, res.body)
	}
	// With the default, nothing is processing.
	plain := e.newESIM(t, "esim_1GB_7D_GB_V2")
	if diff := cmp.Diff(map[string][]string{"esim_1GB_7D_GB_V2": {"queued"}}, statesByBundle(e.wireAssignments(t, plain))); diff != "" {
		t.Errorf("default delay (-want +got):\n%s", diff)
	}
	for _, c := range []struct{ body, msg string }{
		{`{"provisioningDelay":"11m"}`, "0 to 10m"},
		{`{"provisioningDelay":"-1s"}`, "provisioningDelay"},
		{`{"provisioningDelay":"soon"}`, "provisioningDelay must look like"},
		{`{"provisioningDelay":90}`, "duration string"},
		{`{"provisioningDelaySeconds":601}`, "0 to 600"},
		{`{"delay":"1m"}`, `unknown setting "delay"`},
		{`[1]`, "JSON object"},
	} {
		res := e.put("/sandbox/v1/settings", c.body)
		if res.status != 400 || !strings.Contains(res.message(t), c.msg) {
			t.Errorf("PUT settings %s: %d %s, want 400 saying %q", c.body, res.status, res.body, c.msg)
		}
	}
	res := e.put("/sandbox/v1/settings", `{"provisioningDelay":"2m"}`)
	if res.status != 200 || string(res.body) != `{"provisioningDelay":"2m0s","provisioningDelaySeconds":120}` {
		t.Fatalf("PUT settings: %d %s", res.status, res.body)
	}
	if res := e.get("/sandbox/v1/settings"); !strings.Contains(string(res.body), `"provisioningDelaySeconds":120`) {
		t.Fatalf("settings after PUT: %s", res.body)
	}

	iccid := e.newESIM(t, "esim_1GB_7D_GB_V2")
	if diff := cmp.Diff(map[string][]string{"esim_1GB_7D_GB_V2": {"processing"}}, statesByBundle(e.wireAssignments(t, iccid))); diff != "" {
		t.Fatalf("new assignment with a 2-minute delay (-want +got):\n%s", diff)
	}
	// Install data is there and the device installs and attaches meanwhile.
	if res := e.get("/v2.5/esims/" + iccid); res.status != 200 || !strings.Contains(string(res.body), `"matchingId"`) {
		t.Errorf("eSIM details while processing: %d %s", res.status, res.body)
	}
	e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/install", "")
	e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/attach", `{"country":"GB"}`)
	res = e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/usage", `{"megabytes":1}`)
	if !strings.Contains(string(res.body), `"bytesCharged":0`) {
		t.Errorf("usage while processing was charged: %s", res.body)
	}
	e.mustPost(t, "/sandbox/v1/clock/advance", `{"duration":"119s"}`)
	if got := statesByBundle(e.wireAssignments(t, iccid)); !slices.Equal(got["esim_1GB_7D_GB_V2"], []string{"processing"}) {
		t.Fatalf("a second before the delay: %v", got)
	}
	e.mustPost(t, "/sandbox/v1/clock/advance", `{"duration":"1s"}`)
	if got := statesByBundle(e.wireAssignments(t, iccid)); !slices.Equal(got["esim_1GB_7D_GB_V2"], []string{"queued"}) {
		t.Fatalf("after the delay: %v, want queued", got)
	}
	res = e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/usage", `{"megabytes":1}`)
	if !strings.Contains(string(res.body), `"bytesCharged":1000000`) {
		t.Errorf("usage once provisioned: %s", res.body)
	}

	// A large order runs in the background; once it is done its eSIMs'
	// assignments are processing until the SM-DP+ is.
	var o orderBody
	e.mustPost(t, "/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":6}]}`).json(t, &o)
	if o.Status != "processing" {
		t.Fatalf("large order: %+v", o)
	}
	e.mustPost(t, "/sandbox/v1/clock/advance", `{"duration":"0s"}`)
	e.get("/v2.5/orders/"+o.OrderReference).json(t, &o)
	if o.Status != "completed" || len(o.Order[0].ICCIDs) != 6 {
		t.Fatalf("large order after its background work: %+v", o)
	}
	for _, id := range o.Order[0].ICCIDs {
		if got := statesByBundle(e.wireAssignments(t, id)); !slices.Equal(got["esim_1GB_7D_GB_V2"], []string{"processing"}) {
			t.Errorf("eSIM %s of the large order: %v, want processing", id, got)
		}
	}
	if res := e.get("/v2.5/esims/assignments?reference="+o.OrderReference, "Accept", "application/json"); res.status != 200 {
		t.Errorf("install data of the large order while its assignments are processing: %d %s", res.status, res.body)
	}
	e.mustPost(t, "/sandbox/v1/clock/advance", `{"duration":"2m"}`)
	for _, id := range o.Order[0].ICCIDs {
		if got := statesByBundle(e.wireAssignments(t, id)); !slices.Equal(got["esim_1GB_7D_GB_V2"], []string{"queued"}) {
			t.Errorf("eSIM %s of the large order after the delay: %v, want queued", id, got)
		}
	}

	// A processing bundle can be revoked (notes §3.1); provisioning does not
	// bring it back.
	e.mustPost(t, "/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_3GB_30D_GB_V2","quantity":1,"iccids":["`+iccid+`"]}]}`)
	if got := statesByBundle(e.wireAssignments(t, iccid)); !slices.Equal(got["esim_3GB_30D_GB_V2"], []string{"processing"}) {
		t.Fatalf("top-up with the delay: %v, want processing", got)
	}
	if res := e.do(http.MethodDelete, "/v2.5/esims/"+iccid+"/bundles/esim_3GB_30D_GB_V2", nil); res.status != 200 {
		t.Fatalf("revoke a processing bundle: %d %s", res.status, res.body)
	}
	e.mustPost(t, "/sandbox/v1/clock/advance", `{"duration":"10m"}`)
	if got := statesByBundle(e.wireAssignments(t, iccid)); !slices.Equal(got["esim_3GB_30D_GB_V2"], []string{"revoked"}) {
		t.Errorf("revoked while processing, after the delay: %v, want revoked", got)
	}

	// A reset goes back to the default.
	e.mustPost(t, "/sandbox/v1/reset", "")
	if res := e.get("/sandbox/v1/settings"); !strings.Contains(string(res.body), `"provisioningDelaySeconds":0`) {
		t.Errorf("settings after reset: %s", res.body)
	}
}

// TestDeprecatedApplyStartTime: POST /esims/{iccid}/bundles with startTime
// starts a bundle with autostart false at that instant (the organisation's
// clock), not at first use; without it such a bundle waits for first use
// in a covered country; autostart bundles start on first use regardless.
func TestDeprecatedApplyStartTime(t *testing.T) {
	d := fixture()
	manual := d.Bundles[0]
	manual.Name, manual.Description, manual.Autostart = "esim_1GB_7D_GB_MANUAL", "eSIM, 1GB, 7 Days, United Kingdom, scheduled start", false
	d.Bundles = append(d.Bundles, manual)
	cases := []struct {
		name, bundle, startTime string
		// the assignment after each step: right after applying, after a use
		// in France (not covered), after a use in GB at 13:00, after the
		// clock reaches 2026-03-03T12:00Z
		want []wireAssignment
	}{
		{"start time ahead", manual.Name, "2026-03-03T09:30:00Z", []wireAssignment{
			{State: "queued"}, {State: "queued"}, {State: "queued"},
			{State: "active", StartTime: "2026-03-03T09:30:00Z", EndTime: "2026-03-10T09:30:00Z"}}},
		{"start time ahead, with an offset", manual.Name, "2026-03-03T10:30:00+01:00", []wireAssignment{
			{State: "queued"}, {State: "queued"}, {State: "queued"},
			{State: "active", StartTime: "2026-03-03T09:30:00Z", EndTime: "2026-03-10T09:30:00Z"}}},
		{"start time passed", manual.Name, "2026-02-01T00:00:00Z", []wireAssignment{
			{State: "active", StartTime: "2026-03-01T12:00:00Z", EndTime: "2026-03-08T12:00:00Z"},
			{State: "active", StartTime: "2026-03-01T12:00:00Z", EndTime: "2026-03-08T12:00:00Z"},
			{State: "active", StartTime: "2026-03-01T12:00:00Z", EndTime: "2026-03-08T12:00:00Z"},
			{State: "active", StartTime: "2026-03-01T12:00:00Z", EndTime: "2026-03-08T12:00:00Z"}}},
		{"no start time: first use in a covered country", manual.Name, "", []wireAssignment{
			{State: "queued"}, {State: "queued"},
			{State: "active", StartTime: "2026-03-01T13:00:00Z", EndTime: "2026-03-08T13:00:00Z"},
			{State: "active", StartTime: "2026-03-01T13:00:00Z", EndTime: "2026-03-08T13:00:00Z"}}},
		{"an autostart bundle starts on first use", "esim_1GB_7D_GB_V2", "2026-03-03T09:30:00Z", []wireAssignment{
			{State: "queued"}, {State: "queued"},
			{State: "active", StartTime: "2026-03-01T13:00:00Z", EndTime: "2026-03-08T13:00:00Z"},
			{State: "active", StartTime: "2026-03-01T13:00:00Z", EndTime: "2026-03-08T13:00:00Z"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, envOptions{data: &d})
			// An eSIM whose own bundle is used up, and the bundle bought into
			// inventory to apply.
			iccid := e.newESIM(t, "esim_1GB_7D_GB_V2")
			e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/install", "")
			e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/usage", `{"bytes":1000000000,"country":"GB"}`)
			e.mustPost(t, "/v2.5/orders", `{"type":"transaction","assign":false,"order":[{"type":"bundle","item":"`+c.bundle+`","quantity":1}]}`)
			body := `{"name":"` + c.bundle + `"}`
			if c.startTime != "" {
				body = `{"name":"` + c.bundle + `","startTime":"` + c.startTime + `"}`
			}
			res := e.mustPost(t, "/v2.5/esims/"+iccid+"/bundles", body)
			if !strings.Contains(string(res.body), `"status":"Successfully Applied Bundle"`) {
				t.Fatalf("apply: %s", res.body)
			}
			var got []wireAssignment
			read := func() {
				for _, a := range e.wireAssignments(t, iccid) {
					if a.Bundle == c.bundle && a.State != "depleted" {
						got = append(got, wireAssignment{State: a.State, StartTime: a.StartTime, EndTime: a.EndTime})
					}
				}
			}
			read()
			e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/usage", `{"megabytes":1,"country":"FR"}`)
			read()
			e.mustPost(t, "/sandbox/v1/clock/advance", `{"duration":"1h"}`)
			e.mustPost(t, "/sandbox/v1/esims/"+iccid+"/usage", `{"megabytes":1,"country":"GB"}`)
			read()
			e.mustPost(t, "/sandbox/v1/clock/advance", `{"to":"2026-03-03T12:00:00Z"}`)
			read()
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("assignment after each step (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a malformed startTime", func(t *testing.T) {
		e := newEnv(t, envOptions{data: &d})
		iccid := e.newESIM(t, "esim_1GB_7D_GB_V2")
		e.mustPost(t, "/v2.5/orders", `{"type":"transaction","assign":false,"order":[{"type":"bundle","item":"`+manual.Name+`","quantity":1}]}`)
		res := e.post("/v2.5/esims/"+iccid+"/bundles", `{"name":"`+manual.Name+`","startTime":"tomorrow"}`)
		if res.status != 400 || !strings.Contains(res.message(t), "startTime must be an RFC 3339 time") {
			t.Errorf("startTime tomorrow: %d %s", res.status, res.body)
		}
		var inv struct {
			Bundles []struct {
				Name      string `json:"name"`
				Available []struct {
					Remaining int `json:"remaining"`
				} `json:"available"`
			} `json:"bundles"`
		}
		e.get("/v2.5/inventory").json(t, &inv)
		if len(inv.Bundles) != 1 || len(inv.Bundles[0].Available) != 1 || inv.Bundles[0].Available[0].Remaining != 1 {
			t.Errorf("a rejected apply drew from inventory: %+v", inv)
		}
	})
}
