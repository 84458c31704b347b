package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

// TestIPAllowList: with an allow-list, the organisation's key works only
// from the addresses on it (the test's requests come from 127.0.0.1);
// elsewhere every route answers 403 with a message (notes §1.2), on every
// version and on the extensions. Other organisations are not affected,
// and an empty list opens the key again.
func TestIPAllowList(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	_, otherKey, err := e.orgs.Create(ctx, orgs.NewOrganisation{Name: "Other", Sandbox: true, StartingBalance: 10 * money.Scale})
	if err != nil {
		t.Fatal(err)
	}
	setList := func(list ...string) {
		t.Helper()
		if _, err := e.orgs.Update(ctx, e.org.ID, orgs.Update{IPAllowList: &list}); err != nil {
			t.Fatal(err)
		}
	}
	paths := []string{"/v2.5/organisation", "/v2.2/esims", "/v2.5/catalogue", "/sandbox/v1/clock", "/esimd/v1/ledger"}
	for _, tc := range []struct {
		list    []string
		allowed bool
	}{
		{nil, true},
		{[]string{"203.0.113.0/24"}, false},
		{[]string{"::1"}, false}, // IPv6 loopback is another address
		{[]string{"203.0.113.0/24", "127.0.0.1"}, true},
		{[]string{"127.0.0.0/8"}, true},
		{[]string{"::ffff:127.0.0.1"}, true},
		{[]string{"10.0.0.0/8"}, false},
		{[]string{}, true},
	} {
		setList(tc.list...)
		for _, p := range paths {
			res := e.get(p)
			switch {
			case tc.allowed && res.status != 200:
				t.Errorf("list %q, %s: %d %s; want 200", tc.list, p, res.status, res.body)
			case !tc.allowed && (res.status != 403 || !strings.Contains(res.message(t), "127.0.0.1 are not on this organisation's IP allow-list")):
				t.Errorf("list %q, %s: %d %s; want 403 naming the address", tc.list, p, res.status, res.body)
			}
		}
		if res := e.get("/v2.5/organisation", "X-API-Key", otherKey); res.status != 200 {
			t.Errorf("list %q: another organisation's key answers %d", tc.list, res.status)
		}
	}
	// A write from outside the list changes nothing.
	before := e.balance(t)
	setList("203.0.113.0/24")
	if res := e.post("/v2.5/organisation/balance", `{"amount":5}`); res.status != 403 {
		t.Errorf("top-up from outside the list: %d %s", res.status, res.body)
	}
	setList()
	if after := e.balance(t); after != before {
		t.Errorf("balance %s after a refused top-up, want %s", after, before)
	}
}
