package adminapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// TestAdminTextRefusesNULAndInvalidUTF8: organisation names and usage
// record IDs with U+0000, bytes that are not UTF-8 or an unpaired
// surrogate are a 400 that says so, the same on both engines, and nothing
// is stored.
func TestAdminTextRefusesNULAndInvalidUTF8(t *testing.T) {
	e := newEnv(t, token)
	for _, tc := range []struct{ path, body, mention string }{
		{"/admin/v1/organisations", `{"name":"Acme\u0000"}`, "name contains U+0000"},
		{"/admin/v1/organisations", `{"name":"Caf` + "\xe9" + `"}`, "name is not valid UTF-8"},
		{"/admin/v1/organisations", `{"name":"\ud800x"}`, `name contains \uD800`},
		{"/admin/v1/usage", `{"records":[{"recordId":"cdr\u0000","iccid":"8999901000000000013","bytes":1,"country":"GB","timestamp":"2026-03-01T10:00:00Z"}]}`, "recordId contains U+0000"},
		{"/admin/v1/usage", `{"records":[{"recordId":"cdr-` + "\xff" + `","iccid":"8999901000000000013","bytes":1,"country":"GB","timestamp":"2026-03-01T10:00:00Z"}]}`, "recordId is not valid UTF-8"},
	} {
		var m message
		e.do("POST", tc.path, tc.body, 400, &m)
		if !strings.Contains(m.Message, tc.mention) {
			t.Errorf("%s %q: message %q, want it to mention %q", tc.path, tc.body, m.Message, tc.mention)
		}
	}
	var m message
	e.do("GET", "/admin/v1/organisations/1/callbacks/deliveries?after=%00", "", 400, &m)
	if !strings.Contains(m.Message, "U+0000") {
		t.Errorf("NUL in a query parameter: %q", m.Message)
	}
	list, err := e.orgs.List(context.Background())
	if err != nil || len(list) != 1 {
		t.Errorf("organisations after the refused creates: %d, %v; want only the first", len(list), err)
	}
	// The CLI reaches the service without an HTTP edge: it refuses too.
	_, _, err = e.orgs.Create(context.Background(), orgs.NewOrganisation{Name: "Acme\x00 Travel"})
	if !fault.Is(err, fault.Invalid) || !strings.Contains(fault.MessageOf(err), "organisation name contains U+0000") {
		t.Errorf("Create with a NUL in the name: %v", err)
	}
}
