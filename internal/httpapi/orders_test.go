package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
)

var (
	uuidRE     = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	iccidRE    = regexp.MustCompile(`8999901[0-9]{12}`)
	matchingRE = regexp.MustCompile(`[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}`)
)

// scrub replaces values that differ on every run (references, ICCIDs,
// matching IDs) with stable placeholders, numbered in order of appearance.
func scrub(body []byte) []byte {
	s := string(body)
	for _, r := range []struct {
		re   *regexp.Regexp
		name string
	}{{uuidRE, "REF"}, {iccidRE, "ICCID"}, {matchingRE, "MATCHING"}} {
		seen := map[string]string{}
		s = r.re.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := seen[m]; ok {
				return v
			}
			seen[m] = fmt.Sprintf("<%s-%d>", r.name, len(seen)+1)
			return seen[m]
		})
	}
	return []byte(s)
}

func (e *env) post(path, body string, headers ...string) response {
	e.t.Helper()
	return e.do(http.MethodPost, path, strings.NewReader(body), append([]string{"Content-Type", "application/json"}, headers...)...)
}

func (e *env) balance(t *testing.T) money.Amount {
	t.Helper()
	o, err := e.orgs.Get(context.Background(), e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	return o.Balance
}

type orderBody struct {
	Order []struct {
		ESIMs []struct {
			ICCID       string `json:"iccid"`
			MatchingID  string `json:"matchingId"`
			SMDPAddress string `json:"smdpAddress"`
		} `json:"esims"`
		Item     string   `json:"item"`
		ICCIDs   []string `json:"iccids"`
		Quantity int      `json:"quantity"`
	} `json:"order"`
	Total          float64 `json:"total"`
	Valid          bool    `json:"valid"`
	Status         string  `json:"status"`
	StatusMessage  string  `json:"statusMessage"`
	OrderReference string  `json:"orderReference"`
	RunningBalance string  `json:"runningBalance"`
}

func TestOrderValidateChargesNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.post("/v2.5/orders", `{"type":"validate","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":2}]}`)
	if res.status != 200 {
		t.Fatalf("validate: %d %s", res.status, res.body)
	}
	golden(t, "order_validate_v2_5", scrub(res.body))
	var b orderBody
	res.json(t, &b)
	if !b.Valid || b.Total != 3.46 {
		t.Errorf("validate = %+v; want valid with total 3.46", b)
	}
	if got := e.balance(t); got != money.MustParse("250.5") {
		t.Errorf("balance after validate %s, want 250.5", got)
	}
	var list struct{ Rows int }
	e.get("/v2.5/orders").json(t, &list)
	if list.Rows != 0 {
		t.Errorf("validate recorded %d orders", list.Rows)
	}
}

func TestOrderTransactionAssigns(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1},{"type":"bundle","item":"esim_1GB_7D_US_V2","quantity":2}]}`)
	if res.status != 200 {
		t.Fatalf("transaction: %d %s", res.status, res.body)
	}
	golden(t, "order_transaction_v2_5", scrub(res.body))
	var b orderBody
	res.json(t, &b)
	if b.Status != "completed" || b.StatusMessage != "Order completed: 3 eSIMs assigned" || b.RunningBalance != "244.21" {
		t.Errorf("order = %+v", b)
	}
	if len(b.Order) != 2 || len(b.Order[1].ESIMs) != 2 || len(b.Order[1].ICCIDs) != 2 || b.Order[1].ESIMs[0].SMDPAddress == "" {
		t.Fatalf("order lines = %+v", b.Order)
	}
	if got := e.balance(t); got != money.MustParse("244.21") {
		t.Errorf("balance %s, want 250.5 − 1.73 − 2×2.28 = 244.21", got)
	}
	// The order reads back the same, and the eSIMs exist.
	var again orderBody
	e.get("/v2.5/orders/"+b.OrderReference).json(t, &again)
	if diff := cmp.Diff(b.Order, again.Order); diff != "" {
		t.Errorf("GET /orders/{ref} lines differ (-post +get):\n%s", diff)
	}
	for _, iccid := range b.Order[1].ICCIDs {
		if res := e.get("/v2.5/esims/" + iccid + "/bundles"); res.status != 200 && res.status != 403 {
			t.Errorf("eSIM %s: %d", iccid, res.status)
		}
	}
	// v2.4 has no runningBalance; v2.2 and older still list iccids on assigned orders.
	res = e.post("/v2.4/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`)
	if strings.Contains(string(res.body), "runningBalance") {
		t.Errorf("v2.4 order carries runningBalance: %s", res.body)
	}
}

func TestOrderIntoInventoryAndApply(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.post("/v2.5/orders", `{"type":"transaction","assign":false,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":3}]}`)
	var b orderBody
	res.json(t, &b)
	if res.status != 200 || b.StatusMessage != "Order completed" || len(b.Order[0].ESIMs) != 0 {
		t.Fatalf("inventory order: %d %s", res.status, res.body)
	}
	var inv struct {
		Bundles []struct {
			Name      string
			Available []struct {
				ID        int64
				Total     int
				Remaining int
				Expiry    string
			}
		}
	}
	res = e.get("/v2.5/inventory")
	golden(t, "inventory_v2_5", res.body)
	res.json(t, &inv)
	if len(inv.Bundles) != 1 || inv.Bundles[0].Available[0].Remaining != 3 || inv.Bundles[0].Available[0].Expiry != "2027-03-01" {
		t.Fatalf("inventory = %+v", inv)
	}
	// Apply one to a new eSIM, then top that eSIM up with another.
	var applied struct {
		ESIMs []struct {
			ICCID, Status, Bundle string
		}
		ApplyReference string
	}
	res = e.post("/v2.5/esims/apply", `{"name":"esim_1GB_7D_GB_V2"}`)
	res.json(t, &applied)
	if res.status != 200 || len(applied.ESIMs) != 1 || applied.ESIMs[0].Status != "ACTIVE" || applied.ApplyReference == "" {
		t.Fatalf("apply: %d %s", res.status, res.body)
	}
	iccid := applied.ESIMs[0].ICCID
	res = e.post("/v2.2/esims/apply", `{"iccid":"`+iccid+`","Bundle":"esim_1GB_7D_GB_V2"}`)
	if res.status != 200 || !strings.Contains(string(res.body), "Successfully Applied Bundle") || !strings.Contains(string(res.body), iccid) {
		t.Fatalf("legacy apply to an ICCID: %d %s", res.status, res.body)
	}
	as, err := e.esims.Assignments(context.Background(), e.org.ID, iccid, true, 0)
	if err != nil || len(as) != 2 {
		t.Fatalf("eSIM has %d assignments (%v), want 2", len(as), err)
	}
	// One left; asking for two fails with 403 and takes nothing.
	res = e.post("/v2.5/esims/apply", `{"bundles":[{"name":"esim_1GB_7D_GB_V2","repeat":2}]}`)
	if res.status != 403 || !strings.Contains(res.message(t), "1 available") {
		t.Fatalf("apply beyond inventory: %d %s", res.status, res.body)
	}
	e.get("/v2.5/inventory").json(t, &inv)
	if inv.Bundles[0].Available[0].Remaining != 1 {
		t.Errorf("a refused apply took inventory: %+v", inv)
	}
	// Applies are recorded as bundleAssignment orders.
	res = e.get("/v2.5/orders?limit=10")
	if !strings.Contains(string(res.body), `"type":"bundleAssignment"`) || !strings.Contains(string(res.body), applied.ApplyReference+"-0") {
		t.Errorf("orders list lacks the bundleAssignment order: %s", res.body)
	}
	for _, bad := range []struct{ body, mention string }{
		{`{}`, "name"},
		{`{"iccid":"` + iccid + `","name":"esim_1GB_7D_GB_V2","repeat":2}`, "repeat"},
		{`{"iccid":"123","name":"esim_1GB_7D_GB_V2"}`, "ICCID"},
		{`{"bundles":[]}`, "bundles"},
		{`{"bundles":[{"repeat":1}]}`, "name"},
		{`[1,2]`, "JSON object"},
		{``, "empty"},
	} {
		if res := e.post("/v2.5/esims/apply", bad.body); res.status != 400 || !strings.Contains(res.message(t), bad.mention) {
			t.Errorf("apply %s: %d %s; want 400 mentioning %q", bad.body, res.status, res.body, bad.mention)
		}
	}
}

func TestOrderRequestErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct{ body, mention string }{
		{``, "empty"},
		{`not json`, "JSON"},
		{`{"assign":true,"order":[]}`, "type"},
		{`{"type":"buy","order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`, "validate"},
		{`{"type":"transaction"}`, "order"},
		{`{"type":"transaction","order":[]}`, "at least one"},
		{`{"type":"transaction","order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":0}]}`, "quantity"},
		{`{"type":"transaction","order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":"many"}]}`, "quantity"},
		{`{"type":"transaction","order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2"}]}`, "quantity"},
		{`{"type":"transaction","order":[{"type":"data","item":"esim_1GB_7D_GB_V2","quantity":1}]}`, "bundle"},
		{`{"type":"transaction","order":[{"type":"bundle","item":"ESIM_1GB_7D_GB_V2","quantity":1}]}`, "case-sensitive"},
		{`{"type":"transaction","order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1,"iccids":["8999901000000000017"]}]}`, "assign"},
		{`{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":2,"iccids":["8999901000000000017"]}]}`, "quantity"},
		{`{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1,"iccids":["12AB"]}]}`, "ICCID"},
		{`{"type":"transaction","assign":"perhaps","order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`, "assign"},
		{`{"type":"transaction","profileID":"x","order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`, "profileID"},
		{`{"type":"transaction","order":[{"type":"bundle","item":"esim_20GB_60D_RGBL_V2","quantity":7}]}`, "insufficient balance"},
	} {
		res := e.post("/v2.5/orders", tc.body)
		if res.status != 400 {
			t.Errorf("%s: status %d, want 400 (%s)", tc.body, res.status, res.body)
			continue
		}
		if msg := res.message(t); !strings.Contains(msg, tc.mention) {
			t.Errorf("%s: message %q does not mention %q", tc.body, msg, tc.mention)
		}
	}
	if got := e.balance(t); got != money.MustParse("250.5") {
		t.Errorf("failed orders changed the balance to %s", got)
	}
	// The insufficient-balance refusal left an InsufficientBalance notification.
	events, _ := e.esims.Events(context.Background(), e.org.ID, 0, 10)
	if len(events) != 1 || events[0].Kind != "InsufficientBalance" {
		t.Errorf("events = %+v, want one InsufficientBalance", events)
	}
	// Another organisation's ICCID is 403, as an unknown one is.
	other, _, _ := e.orgs.Create(context.Background(), orgs.NewOrganisation{Name: "Other", Sandbox: true, StartingBalance: 100 * money.Scale})
	placed, err := e.orders.Place(context.Background(), other.ID, orderReq("esim_1GB_7D_GB_V2", 1), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	theirs := placed.ESIMs[0][0].ICCID
	for _, iccid := range []string{theirs, "8999901999999999994"} {
		res := e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1,"iccids":["`+iccid+`"]}]}`)
		if res.status != 403 || !strings.Contains(res.message(t), "not accessible") {
			t.Errorf("ICCID %s: %d %s; want 403 not accessible", iccid, res.status, res.body)
		}
	}
}

func TestOrderLegacySpellings(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, body := range []string{
		`{"type":"transaction","assign":"true","Order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":"1"}]}`,
		`{"type":"transaction","item":"esim_1GB_7D_GB_V2","quantity":1}`,
	} {
		res := e.post("/v2.2/orders", body)
		if res.status != 200 {
			t.Errorf("%s: %d %s", body, res.status, res.body)
		}
	}
}

func orderReq(item string, qty int) orders.Request {
	return orders.Request{Type: "transaction", Assign: true, Lines: []orders.LineRequest{{Type: "bundle", Item: item, Quantity: qty}}}
}

func TestAsyncOrderProcessing(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":6}]}`)
	var b orderBody
	res.json(t, &b)
	if res.status != 200 || b.Status != "processing" || len(b.Order[0].ESIMs) != 0 {
		t.Fatalf("large order: %d %s", res.status, res.body)
	}
	res = e.get("/v2.5/orders/" + b.OrderReference)
	if res.status != 503 || res.header.Get("Retry-After") == "" {
		t.Fatalf("GET processing order: %d, Retry-After %q", res.status, res.header.Get("Retry-After"))
	}
	if n, err := e.esims.RunDue(context.Background(), 0); err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v", n, err)
	}
	res = e.get("/v2.5/orders/" + b.OrderReference)
	res.json(t, &b)
	if res.status != 200 || b.Status != "completed" || len(b.Order[0].ICCIDs) != 6 || len(b.Order[0].ESIMs) != 6 {
		t.Fatalf("after processing: %d %s", res.status, res.body)
	}
	if n, _ := e.esims.RunDue(context.Background(), 0); n != 0 {
		t.Errorf("second RunDue ran %d items", n)
	}
}

func TestOrdersList(t *testing.T) {
	e := newEnv(t, envOptions{})
	for range 3 {
		e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`)
		e.advance(time.Hour)
	}
	type list struct {
		Orders    []orderBody `json:"orders"`
		Rows      int         `json:"rows"`
		PageCount int         `json:"pageCount"`
		PageSize  int         `json:"pageSize"`
	}
	var l list
	e.get("/v2.5/orders?limit=2&page=2").json(t, &l)
	if l.Rows != 3 || l.PageCount != 2 || l.PageSize != 2 || len(l.Orders) != 1 {
		t.Errorf("page 2 = rows %d pages %d size %d orders %d", l.Rows, l.PageCount, l.PageSize, len(l.Orders))
	}
	if len(l.Orders[0].Order[0].ICCIDs) != 0 {
		t.Errorf("iccids listed without includeIccids")
	}
	e.get("/v2.5/orders?includeIccids=true&createdAt=gte:2026-03-01T12:30:00Z&createdAt=lt:2026-03-01T14:00:00.000Z").json(t, &l)
	if l.Rows != 1 || len(l.Orders[0].Order[0].ICCIDs) != 1 {
		t.Errorf("createdAt window = %+v", l)
	}
	for _, q := range []string{"limit=0", "limit=x", "page=0", "createdAt=yesterday", "createdAt=gte:2026-03-01", "includeIccids=maybe"} {
		if res := e.get("/v2.5/orders?" + q); res.status != 400 {
			t.Errorf("orders?%s: %d, want 400", q, res.status)
		}
	}
	for _, ref := range []string{"not-a-uuid", "0"} {
		if res := e.get("/v2.5/orders/" + ref); res.status != 400 {
			t.Errorf("orders/%s: %d, want 400", ref, res.status)
		}
	}
	if res := e.get("/v2.5/orders/123e4567-e89b-42d3-a456-426614174000"); res.status != 403 {
		t.Errorf("unknown order: %d, want 403", res.status)
	}
}

func TestInventoryRefund(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.post("/v2.5/orders", `{"type":"transaction","order":[{"type":"bundle","item":"esim_3GB_30D_GB_V2","quantity":4}]}`)
	var inv struct {
		Bundles []struct{ Available []struct{ ID int64 } }
	}
	e.get("/v2.5/inventory").json(t, &inv)
	id := inv.Bundles[0].Available[0].ID
	body := fmt.Sprintf(`{"usageId":%d,"quantity":2}`, id)
	if res := e.post("/v2.5/inventory/refund", body); res.status != 403 || !strings.Contains(res.message(t), "not enabled") {
		t.Fatalf("refund with refunds off: %d %s", res.status, res.body)
	}
	on := true
	if _, err := e.orgs.Update(context.Background(), e.org.ID, orgs.Update{RefundsEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	before := e.balance(t)
	res := e.post("/v2.5/inventory/refund", body)
	if res.status != 200 || !strings.Contains(string(res.body), "Successfully refunded bundles to balance") {
		t.Fatalf("refund: %d %s", res.status, res.body)
	}
	if got := e.balance(t); got != before+money.MustParse("9") {
		t.Errorf("balance %s after refunding 2 × 4.5 from %s", got, before)
	}
	for _, tc := range []struct {
		body   string
		status int
	}{
		{fmt.Sprintf(`{"usageId":%d,"quantity":3}`, id), 400},
		{fmt.Sprintf(`{"usageId":%d,"quantity":0}`, id), 400},
		{fmt.Sprintf(`{"usageId":%d}`, id), 400},
		{`{"quantity":1}`, 400},
		{`{"usageId":999,"quantity":1}`, 403},
	} {
		if res := e.post("/v2.5/inventory/refund", tc.body); res.status != tc.status {
			t.Errorf("%s: %d, want %d (%s)", tc.body, res.status, tc.status, res.body)
		}
	}
	e.advance(61 * 24 * time.Hour)
	if res := e.post("/v2.5/inventory/refund", fmt.Sprintf(`{"usageId":%d,"quantity":1}`, id)); res.status != 400 || !strings.Contains(res.message(t), "refund window") {
		t.Errorf("refund after 61 days: %d %s", res.status, res.body)
	}
}

func TestTopUp(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.post("/v2.5/organisation/balance?amount=1000", "")
	var b struct {
		Amount  float64
		Balance float64
		Ref     int64
	}
	res.json(t, &b)
	if res.status != 200 || b.Amount != 1000 || b.Balance != 1250.5 || b.Ref == 0 {
		t.Fatalf("top-up: %d %s", res.status, res.body)
	}
	for _, tc := range []struct{ q, mention string }{
		{"", "amount"}, {"?amount=999.99", "at least 1000"}, {"?amount=abc", "decimal"}, {"?amount=4500", "5000"},
	} {
		if res := e.post("/v2.5/organisation/balance"+tc.q, ""); res.status != 400 || !strings.Contains(res.message(t), tc.mention) {
			t.Errorf("top-up %s: %d %s", tc.q, res.status, res.body)
		}
	}
	e.advance(24 * time.Hour)
	if res := e.post("/v2.5/organisation/balance?amount=4500", ""); res.status != 200 {
		t.Errorf("next day's top-up: %d %s", res.status, res.body)
	}
	live := false
	if _, err := e.orgs.Update(context.Background(), e.org.ID, orgs.Update{Sandbox: &live}); err != nil {
		t.Fatal(err)
	}
	if res := e.post("/v2.5/organisation/balance?amount=1000", ""); res.status != 403 {
		t.Errorf("live organisation top-up: %d, want 403", res.status)
	}
	var ledger struct {
		Entries []struct {
			Kind   string
			Amount float64
		}
		Balance float64
	}
	e.get("/esimd/v1/ledger").json(t, &ledger)
	if len(ledger.Entries) != 3 || ledger.Entries[1].Kind != "topup" || ledger.Balance != 5750.5 {
		t.Errorf("ledger = %+v", ledger)
	}
	events, _ := e.esims.Events(context.Background(), e.org.ID, 0, 10)
	if len(events) != 2 || events[0].Kind != "Topup" {
		t.Errorf("events = %+v, want two Topup", events)
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t, envOptions{})
	on := true
	if _, err := e.orgs.Update(context.Background(), e.org.ID, orgs.Update{RefundsEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	placed, err := e.orders.Place(ctx, e.org.ID, orderReq("esim_1GB_7D_GB_V2", 1), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	iccid := placed.ESIMs[0][0].ICCID
	// Installed, so that revoking its only bundle does not send it into the
	// returns process (TestReturnsProcess).
	if _, err := e.esims.SetProfileStatus(ctx, e.org.ID, iccid, esims.ProfileInstalled, ""); err != nil {
		t.Fatal(err)
	}
	base := "/v2.5/esims/" + iccid + "/bundles/esim_1GB_7D_GB_V2"
	res := e.do("DELETE", base+"?type=validate", nil)
	if res.status != 200 || !strings.Contains(string(res.body), "refunded to inventory") {
		t.Fatalf("validate revoke: %d %s", res.status, res.body)
	}
	before := e.balance(t)
	res = e.do("DELETE", base+"?refundToBalance=true", nil)
	if res.status != 200 || !strings.Contains(string(res.body), "refunded to balance") || e.balance(t) != before+money.MustParse("1.73") {
		t.Fatalf("revoke to balance: %d %s, balance %s", res.status, res.body, e.balance(t))
	}
	if res := e.do("DELETE", base, nil); res.status != 400 {
		t.Errorf("second revoke: %d, want 400", res.status)
	}
	// Top up the same eSIM twice, revoke one by assignment id into inventory.
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1,"iccids":["`+iccid+`"]}]}`)
	as, _ := e.esims.Assignments(ctx, e.org.ID, iccid, false, 0)
	res = e.do("DELETE", fmt.Sprintf("%s/assignments/%d", base, as[0].ID), nil)
	if res.status != 200 || !strings.Contains(string(res.body), "refunded to inventory") {
		t.Fatalf("revoke by id: %d %s", res.status, res.body)
	}
	if res := e.get("/v2.5/inventory"); !strings.Contains(string(res.body), `"remaining":1`) {
		t.Errorf("inventory after revoke: %s", res.body)
	}
	// A started bundle is revoked without refund.
	e.post("/v2.5/esims/apply", `{"iccid":"`+iccid+`","name":"esim_1GB_7D_GB_V2"}`)
	if _, err := e.esims.ApplyUsage(ctx, esims.UsageRecord{Org: e.org.ID, ICCID: iccid, Bytes: 1000, Network: esims.Registration{Country: "GB"}}); err != nil {
		t.Fatal(err)
	}
	as, _ = e.esims.Assignments(ctx, e.org.ID, iccid, false, 0)
	res = e.do("DELETE", fmt.Sprintf("%s/applications/%d", base, as[0].ID), nil)
	if res.status != 200 || string(res.body) != `{"status":"Successfully Revoked Bundle"}` {
		t.Errorf("revoke started bundle: %d %s", res.status, res.body)
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{base + "?type=maybe", 400},
		{base + "/assignments/abc", 400},
		{base + "?offerId=-1", 400},
		{"/v2.5/esims/12/bundles/esim_1GB_7D_GB_V2", 400},
		{"/v2.5/esims/8999901999999999994/bundles/esim_1GB_7D_GB_V2", 403},
	} {
		if res := e.do("DELETE", tc.path, nil); res.status != tc.status {
			t.Errorf("DELETE %s: %d, want %d (%s)", tc.path, res.status, tc.status, res.body)
		}
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t, envOptions{})
	body := `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`
	first := e.post("/v2.5/orders", body, "Idempotency-Key", "order-42")
	second := e.post("/v2.5/orders", body, "Idempotency-Key", "order-42")
	if first.status != 200 || second.status != 200 || string(first.body) != string(second.body) {
		t.Fatalf("replay differs:\n%s\n%s", first.body, second.body)
	}
	if second.header.Get("Idempotent-Replayed") != "true" || first.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("Idempotent-Replayed: first %q, second %q", first.header.Get("Idempotent-Replayed"), second.header.Get("Idempotent-Replayed"))
	}
	if got := e.balance(t); got != money.MustParse("248.77") {
		t.Errorf("balance %s: the retry was charged again", got)
	}
	res := e.post("/v2.5/orders", strings.Replace(body, `"quantity":1`, `"quantity":2`, 1), "Idempotency-Key", "order-42")
	if res.status != 409 || !strings.Contains(res.message(t), "different request") {
		t.Errorf("same key, other body: %d %s", res.status, res.body)
	}
	// Failed requests are remembered too: a retry gets the same 400.
	bad := `{"type":"transaction","order":[]}`
	a, b := e.post("/v2.5/orders", bad, "Idempotency-Key", "bad-1"), e.post("/v2.5/orders", bad, "Idempotency-Key", "bad-1")
	if a.status != 400 || b.status != 400 || string(a.body) != string(b.body) {
		t.Errorf("failed request replay: %d %s / %d %s", a.status, a.body, b.status, b.body)
	}
	if res := e.post("/v2.5/orders", body, "Idempotency-Key", "has space"); res.status != 400 {
		t.Errorf("bad key: %d", res.status)
	}
	// Keys are per organisation and expire after 24 hours.
	e.advance(25 * time.Hour)
	if res := e.post("/v2.5/orders", strings.Replace(body, `"quantity":1`, `"quantity":2`, 1), "Idempotency-Key", "order-42"); res.status != 200 || res.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("expired key: %d %s", res.status, res.body)
	}
}

// TestConcurrentOrdersNeverOverspend: 32 clients over real HTTP try to spend
// more than the balance holds.
func TestConcurrentOrdersNeverOverspend(t *testing.T) {
	e := newEnv(t, envOptions{})
	// 250.5 buys 54 bundles at 4.5 (243) and leaves 7.5; 32 × 3 = 96 attempts.
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded, refused := 0, 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				res := e.post("/v2.5/orders", `{"type":"transaction","assign":false,"order":[{"type":"bundle","item":"esim_3GB_30D_GB_V2","quantity":1}]}`)
				mu.Lock()
				switch {
				case res.status == 200:
					succeeded++
				case res.status == 400 && strings.Contains(string(res.body), "insufficient balance"):
					refused++
				default:
					t.Errorf("unexpected answer %d %s", res.status, res.body)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if succeeded != 55 || refused != 96-55 {
		t.Errorf("%d orders succeeded and %d were refused; want 55 and 41", succeeded, refused)
	}
	bal := e.balance(t)
	if bal != money.MustParse("3") {
		t.Errorf("balance %s, want 250.5 − 55 × 4.5 = 3", bal)
	}
	entries, err := e.orgs.Ledger(context.Background(), e.org.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var sum money.Amount
	for _, en := range entries {
		sum += en.Amount
	}
	if sum != bal || len(entries) != 1+succeeded {
		t.Errorf("ledger: %d entries summing to %s; want %d summing to the balance %s", len(entries), sum, 1+succeeded, bal)
	}
	var l struct{ Rows int }
	e.get("/v2.5/orders").json(t, &l)
	if l.Rows != succeeded {
		t.Errorf("%d orders recorded, want %d", l.Rows, succeeded)
	}
}

// TestLiveOrganisationDrawsFromThePool: live organisations get the
// operator's imported profiles, never generated test ones.
func TestLiveOrganisationDrawsFromThePool(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	live := false
	if _, err := e.orgs.Update(ctx, e.org.ID, orgs.Update{Sandbox: &live}); err != nil {
		t.Fatal(err)
	}
	body := `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`
	res := e.post("/v2.5/orders", body)
	if res.status != 503 || res.header.Get("Retry-After") == "" || !strings.Contains(res.message(t), "pool") {
		t.Fatalf("order with an empty pool: %d %s", res.status, res.body)
	}
	if got := e.balance(t); got != money.MustParse("250.5") {
		t.Fatalf("a refused order charged %s", money.MustParse("250.5")-got)
	}
	n, err := e.esims.ImportPool(ctx, []esims.PoolProfile{
		{ICCID: "8944000000000000019", MatchingID: "LIVE-0002", SMDPAddress: "rsp.example.net", Profile: "Profile 1"},
		{ICCID: "8944000000000000001", MatchingID: "LIVE-0001", SMDPAddress: "rsp.example.net", Profile: "Profile 1"},
		{ICCID: "8944000000000000027", MatchingID: "LIVE-0003", SMDPAddress: "rsp.example.net", Profile: "Profile 2"},
	})
	if err != nil || n != 3 {
		t.Fatalf("ImportPool = %d, %v", n, err)
	}
	var o orderBody
	res = e.post("/v2.5/orders", body)
	res.json(t, &o)
	if res.status != 200 || o.Order[0].ESIMs[0].ICCID != "8944000000000000001" || o.Order[0].ESIMs[0].SMDPAddress != "rsp.example.net" || o.Order[0].ESIMs[0].MatchingID != "LIVE-0001" {
		t.Fatalf("live order: %d %s", res.status, res.body)
	}
	if _, err := e.esims.ImportPool(ctx, []esims.PoolProfile{{ICCID: "8944000000000000001", MatchingID: "X", SMDPAddress: "rsp.example.net", Profile: "Profile 1"}}); err != nil {
		t.Fatal(err)
	}
	var o2 orderBody
	e.post("/v2.5/orders", body).json(t, &o2)
	if o2.Order[0].ESIMs[0].ICCID != "8944000000000000019" {
		t.Errorf("second live order got %s; an issued ICCID must never be pooled again", o2.Order[0].ESIMs[0].ICCID)
	}
}

// TestReturnsProcess: an eSIM revoked down to no bundle before it was ever
// installed leaves the account; four days on it comes back if the end user
// installed it meanwhile, and is retired otherwise (notes §5.4).
func TestReturnsProcess(t *testing.T) {
	e := newEnv(t, envOptions{})
	var o orderBody
	e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":2}]}`).json(t, &o)
	kept, retired := o.Order[0].ICCIDs[0], o.Order[0].ICCIDs[1]
	for _, iccid := range []string{kept, retired} {
		if res := e.do("DELETE", "/v2.5/esims/"+iccid+"/bundles/esim_1GB_7D_GB_V2", nil); res.status != 200 {
			t.Fatalf("revoke: %d %s", res.status, res.body)
		}
		if res := e.get("/v2.5/esims/" + iccid); res.status != 403 {
			t.Errorf("returned eSIM %s: %d, want 403 (out of the account)", iccid, res.status)
		}
	}
	var list struct{ Rows int }
	e.get("/v2.5/esims").json(t, &list)
	if list.Rows != 0 {
		t.Errorf("%d eSIMs listed during the returns process, want 0", list.Rows)
	}
	// The end user installs one of them in the meantime.
	if res := e.post("/sandbox/v1/esims/"+kept+"/install", ""); res.status != 200 {
		t.Fatalf("install a returned eSIM: %d %s", res.status, res.body)
	}
	e.post("/sandbox/v1/clock/advance", `{"duration":"4d"}`)
	if res := e.get("/v2.5/esims/" + kept); res.status != 200 {
		t.Errorf("installed eSIM after 4 days: %d, want 200 (given back)", res.status)
	}
	if res := e.get("/v2.5/esims/" + retired); res.status != 403 {
		t.Errorf("retired eSIM: %d, want 403", res.status)
	}
	var h []struct{ Name string }
	e.get("/v2.5/esims/"+kept+"/history").json(t, &h)
	names := []string{}
	for _, x := range h {
		names = append(names, x.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "eSIM Returned") || !strings.Contains(strings.Join(names, ","), "eSIM Given Back") {
		t.Errorf("history = %v", names)
	}
}

// TestIdempotentRequestKeepsItsUseCasesWhole: under an Idempotency-Key a
// request runs in one transaction with its stored answer, yet each use
// case inside it stays all or nothing: a refused order leaves no order
// and no debit but keeps its InsufficientBalance notification, and its
// 400 is replayed; a sandbox control (which holds its key by a lease) is
// replayed too, without running again.
func TestIdempotentRequestKeepsItsUseCasesWhole(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	costly := `{"type":"transaction","order":[{"type":"bundle","item":"esim_20GB_60D_RGBL_V2","quantity":7}]}`
	first := e.post("/v2.5/orders", costly, "Idempotency-Key", "too-dear")
	again := e.post("/v2.5/orders", costly, "Idempotency-Key", "too-dear")
	if first.status != 400 || !strings.Contains(first.message(t), "insufficient balance") || again.status != 400 ||
		string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("refused order: %d %s, retry %d %s (replayed %q)", first.status, first.body, again.status, again.body, again.header.Get("Idempotent-Replayed"))
	}
	if _, total, err := e.orders.List(ctx, e.org.ID, orders.Query{Page: 1, Limit: 10}); err != nil || total != 0 {
		t.Errorf("the refused order left %d orders (%v)", total, err)
	}
	if got := e.balance(t); got != money.MustParse("250.5") {
		t.Errorf("the refused order changed the balance to %s", got)
	}
	events, _ := e.esims.Events(ctx, e.org.ID, 0, 10)
	if len(events) != 1 || events[0].Kind != "InsufficientBalance" {
		t.Errorf("events = %+v, want the one InsufficientBalance of the first attempt", events)
	}

	advance := func() response {
		return e.post("/sandbox/v1/clock/advance", `{"duration":"1h"}`, "Idempotency-Key", "advance-1")
	}
	a, b := advance(), advance()
	if a.status != 200 || b.status != 200 || string(a.body) != string(b.body) || b.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("advance: %d %s, retry %d %s", a.status, a.body, b.status, b.body)
	}
	var clock struct{ OffsetSeconds int64 }
	e.get("/sandbox/v1/clock").json(t, &clock)
	if clock.OffsetSeconds != 3600 {
		t.Errorf("clock offset %ds after an advance and its retry, want 3600", clock.OffsetSeconds)
	}
}
