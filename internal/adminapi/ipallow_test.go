package adminapi_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUpdateOrganisationIPAllowList: the operator sets an organisation's
// IP allow-list with PATCH /admin/v1/organisations/{org}; it is stored
// canonical, listed, refused with a message when an entry is wrong, and
// cleared with [].
func TestUpdateOrganisationIPAllowList(t *testing.T) {
	e := newEnv(t, token)
	type org struct {
		ID          int64    `json:"id"`
		Name        string   `json:"name"`
		IPAllowList []string `json:"ipAllowList"`
	}
	var got org
	e.do("PATCH", "/admin/v1/organisations/"+itoa(int64(e.org.ID)), `{"ipAllowList":["203.0.113.0/24"," 198.51.100.7 ","2001:db8::/32","::ffff:192.0.2.1"]}`, 200, &got)
	want := []string{"203.0.113.0/24", "198.51.100.7/32", "2001:db8::/32", "192.0.2.1/32"}
	if diff := cmp.Diff(want, got.IPAllowList); diff != "" || got.Name != "Acme" {
		t.Errorf("PATCH answer %+v (-want +got):\n%s", got, diff)
	}
	o, err := e.orgs.Get(context.Background(), e.org.ID)
	if err != nil || !o.AllowsIP(netip.MustParseAddr("203.0.113.9")) || o.AllowsIP(netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("stored allow-list %v, %v", o.IPAllowList, err)
	}
	var list struct{ Organisations []org }
	e.do("GET", "/admin/v1/organisations", "", 200, &list)
	if diff := cmp.Diff(want, list.Organisations[0].IPAllowList); diff != "" {
		t.Errorf("listed allow-list (-want +got):\n%s", diff)
	}
	// A name change leaves the list alone.
	e.do("PATCH", "/admin/v1/organisations/"+itoa(int64(e.org.ID)), `{"name":"Acme Travel"}`, 200, &got)
	if got.Name != "Acme Travel" || len(got.IPAllowList) != 4 {
		t.Errorf("after renaming: %+v", got)
	}
	for _, tc := range []struct {
		path, body string
		status     int
		mention    string
	}{
		{"/admin/v1/organisations/1", `{"ipAllowList":["203.0.113.9/24"]}`, 400, "did you mean 203.0.113.0/24?"},
		{"/admin/v1/organisations/1", `{"ipAllowList":["office"]}`, 400, `"office" is neither an IP address`},
		{"/admin/v1/organisations/1", `{"ipAllowList":"203.0.113.0/24"}`, 400, "ipAllowList"},
		{"/admin/v1/organisations/1", `{"colour":"red"}`, 400, "colour"},
		{"/admin/v1/organisations/1", ``, 400, "empty"},
		{"/admin/v1/organisations/99", `{"ipAllowList":[]}`, 404, "organisation 99"},
		{"/admin/v1/organisations/x", `{"ipAllowList":[]}`, 400, "organisation ID"},
	} {
		var m message
		e.do("PATCH", tc.path, tc.body, tc.status, &m)
		if !strings.Contains(m.Message, tc.mention) {
			t.Errorf("PATCH %s %s: %q, want it to mention %q", tc.path, tc.body, m.Message, tc.mention)
		}
	}
	e.do("PATCH", "/admin/v1/organisations/1", `{"ipAllowList":[]}`, 200, &got)
	if len(got.IPAllowList) != 0 || got.IPAllowList == nil {
		t.Errorf("after clearing: %+v, want an empty list", got)
	}
	e.doAuth("PATCH", "/admin/v1/organisations/1", `{"ipAllowList":[]}`, "", 401, nil)
}
