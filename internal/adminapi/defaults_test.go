package adminapi_test

import (
	"net/http"
	"testing"
)

// TestCreateOrganisationDefaults: what is left out takes the defaults every
// way of making an organisation shares (orgs.DefaultSandbox): a sandbox,
// with refunds on; a live one has refunds off unless asked.
func TestCreateOrganisationDefaults(t *testing.T) {
	e := newEnv(t, token)
	cases := []struct {
		body             string
		sandbox, refunds bool
	}{
		{`{"name":"a"}`, true, true},
		{`{"name":"b","sandbox":false}`, false, false},
		{`{"name":"c","sandbox":false,"refundsEnabled":true}`, false, true},
		{`{"name":"d","refundsEnabled":false}`, true, false},
	}
	for _, c := range cases {
		var o struct{ Sandbox, RefundsEnabled bool }
		e.do("POST", "/admin/v1/organisations", c.body, http.StatusCreated, &o)
		if o.Sandbox != c.sandbox || o.RefundsEnabled != c.refunds {
			t.Errorf("%s: sandbox %v, refunds %v; want %v, %v", c.body, o.Sandbox, o.RefundsEnabled, c.sandbox, c.refunds)
		}
	}
}
