package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
)

// side is one organisation's objects.
type side struct {
	key       string
	iccid     string
	order     string
	usageID   int64
	assignID  int64
	bundleRef string
}

func makeSide(t *testing.T, e *env, org orgs.ID, key string) side {
	t.Helper()
	ctx := context.Background()
	on := true
	if _, err := e.orgs.Update(ctx, org, orgs.Update{RefundsEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	placed, err := e.orders.Place(ctx, org, orderReq("esim_1GB_7D_GB_V2", 1), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.orders.Place(ctx, org, orders.Request{Type: "transaction", Lines: []orders.LineRequest{{Type: "bundle", Item: "esim_1GB_7D_GB_V2", Quantity: 2}}}, ""); err != nil {
		t.Fatal(err)
	}
	inv, err := e.orders.Inventory(ctx, org)
	if err != nil || len(inv) != 1 {
		t.Fatalf("inventory: %v %v", inv, err)
	}
	s := side{key: key, iccid: placed.ESIMs[0][0].ICCID, order: placed.Order.Reference, usageID: inv[0].Batches[0].ID}
	as, err := e.esims.Assignments(ctx, org, s.iccid, true, 0)
	if err != nil || len(as) != 1 {
		t.Fatalf("assignments: %v %v", as, err)
	}
	s.assignID, s.bundleRef = as[0].ID, as[0].Reference
	return s
}

// TestOrganisationsNeverSeeEachOther tries every route that takes an
// ICCID, an order or apply reference, an assignment or a usage ID with the
// other organisation's identifiers, on every version, from both sides. The
// answer must be eSIM Go's 403 and must be the same as for an identifier
// that does not exist, so that nothing leaks.
func TestOrganisationsNeverSeeEachOther(t *testing.T) {
	e := newEnv(t, envOptions{})
	other, otherKey, err := e.orgs.Create(context.Background(), orgs.NewOrganisation{Name: "Other Travel", Sandbox: true, StartingBalance: 100 * money.Scale})
	if err != nil {
		t.Fatal(err)
	}
	a, b := makeSide(t, e, e.org.ID, e.key), makeSide(t, e, other.ID, otherKey)
	ghost := side{iccid: "8999901999999999994", order: "123e4567-e89b-42d3-a456-426614174000", usageID: 987654, assignID: 987654}

	type call struct {
		method, path, body string
		min                int // lowest version serving the route
	}
	calls := func(mine, theirs side) []call {
		i, r := theirs.iccid, theirs.order
		return []call{
			{"GET", "/esims/" + i, "", 20},
			{"DELETE", "/esims/" + i, "", 25},
			{"GET", "/esims/" + i + "/history", "", 20},
			{"GET", "/esims/" + i + "/refresh", "", 20},
			{"GET", "/esims/" + i + "/compatible/esim_1GB_7D_GB_V2", "", 20},
			{"POST", "/esims/" + i + "/sms", `{"message":"hello"}`, 20},
			{"GET", "/esims/" + i + "/location", "", 20},
			{"POST", "/esims/" + i + "/suspend", `{"suspend":true}`, 25},
			{"GET", "/esims/" + i + "/suspend", "", 25},
			{"GET", "/esims/" + i + "/bundles", "", 20},
			{"GET", "/esims/" + i + "/bundles/esim_1GB_7D_GB_V2", "", 20},
			{"POST", "/esims/" + i + "/bundles", `{"name":"esim_1GB_7D_GB_V2"}`, 20},
			{"DELETE", "/esims/" + i + "/bundles/esim_1GB_7D_GB_V2", "", 20},
			{"DELETE", fmt.Sprintf("/esims/%s/bundles/esim_1GB_7D_GB_V2/assignments/%d", i, theirs.assignID), "", 20},
			{"DELETE", fmt.Sprintf("/esims/%s/bundles/esim_1GB_7D_GB_V2/applications/%d", i, theirs.assignID), "", 20},
			{"PUT", "/esims?iccid=" + i + "&customerRef=x", "", 20},
			{"POST", "/esims/apply", `{"iccid":"` + i + `","name":"esim_1GB_7D_GB_V2"}`, 20},
			{"POST", "/orders", `{"type":"validate","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1,"iccids":["` + i + `"]}]}`, 20},
			{"GET", "/orders/" + r, "", 20},
			{"GET", "/esims/assignments?reference=" + r, "", 22},
			{"GET", "/esims/assignments/" + r, "", 22},
			{"GET", "/esims/qr/" + r, "", 22},
			{"GET", "/esims/csv/" + r, "", 22},
			{"POST", "/inventory/refund", fmt.Sprintf(`{"usageId":%d,"quantity":1}`, theirs.usageID), 20},
			// Another organisation's assignment ID on my own eSIM is unknown too.
			{"DELETE", fmt.Sprintf("/esims/%s/bundles/esim_1GB_7D_GB_V2/assignments/%d", mine.iccid, theirs.assignID), "", 20},
		}
	}
	neutral := func(body string, ids ...string) string {
		for _, id := range ids {
			body = strings.ReplaceAll(body, id, "<ID>")
		}
		return body
	}
	for _, dir := range []struct {
		name         string
		mine, theirs side
	}{{"A→B", a, b}, {"B→A", b, a}} {
		probe := calls(dir.mine, dir.theirs)
		control := calls(dir.mine, ghost)
		for _, v := range allVersions {
			ver := map[string]int{"/v2": 20, "/v2.1": 21, "/v2.2": 22, "/v2.3": 23, "/v2.4": 24, "/v2.5": 25}[v]
			for n, c := range probe {
				if ver < c.min {
					continue
				}
				got := e.do(c.method, v+c.path, strings.NewReader(c.body), "X-API-Key", dir.mine.key, "Content-Type", "application/json")
				want := e.do(control[n].method, v+control[n].path, strings.NewReader(control[n].body), "X-API-Key", dir.mine.key, "Content-Type", "application/json")
				mineStatus := http.StatusForbidden
				if strings.Contains(c.path, dir.mine.iccid) {
					mineStatus = http.StatusBadRequest // an unknown assignment of my own eSIM
				}
				if got.status != mineStatus {
					t.Errorf("%s %s %s: status %d, want %d: %s", dir.name, c.method, v+c.path, got.status, mineStatus, got.body)
				}
				ids := []string{dir.theirs.iccid, ghost.iccid, dir.theirs.order, ghost.order, fmt.Sprint(dir.theirs.usageID), fmt.Sprint(ghost.usageID), fmt.Sprint(dir.theirs.assignID), fmt.Sprint(ghost.assignID)}
				if got.status != want.status || neutral(string(got.body), ids...) != neutral(string(want.body), ids...) {
					t.Errorf("%s %s %s leaks: another organisation's object answers %d %s, a missing one %d %s",
						dir.name, c.method, v+c.path, got.status, got.body, want.status, want.body)
				}
				for _, secret := range []string{dir.theirs.bundleRef, "Other Travel", "Acme Travel"} {
					if strings.Contains(string(got.body), secret) {
						t.Errorf("%s %s %s reveals %q: %s", dir.name, c.method, v+c.path, secret, got.body)
					}
				}
			}
		}
	}
	// Nothing of either side changed.
	for _, s := range []struct {
		org orgs.ID
		sd  side
	}{{e.org.ID, a}, {other.ID, b}} {
		es, err := e.esims.Get(context.Background(), s.org, s.sd.iccid)
		if err != nil || es.State != "active" || es.CustomerRef != "" {
			t.Errorf("eSIM %s changed: %+v %v", s.sd.iccid, es, err)
		}
		as, _ := e.esims.Assignments(context.Background(), s.org, s.sd.iccid, true, 0)
		if len(as) != 1 || as[0].State != "queued" {
			t.Errorf("assignments of %s changed: %+v", s.sd.iccid, as)
		}
	}
}
