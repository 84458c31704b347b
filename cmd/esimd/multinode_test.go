package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/storetest"
)

// TestSeveralNodesOneDatabase runs three esimd servers on one database
// (PostgreSQL under .ci/run's second pass, one SQLite file in the first)
// and sends one organisation's orders, applies and usage to all of them at
// once, then checks that the database tells one consistent story: the
// ledger adds up to the balance and nothing was overspent, every inventory
// unit went to exactly one eSIM, no ICCID or assignment was handed out
// twice, every callback reached the receiver exactly once, and every due
// transition ran once although every node's worker raced for it.
func TestSeveralNodesOneDatabase(t *testing.T) {
	const (
		bundle      = "esim_1GB_7D_GB_V2"
		nodes       = 3
		inventory   = 12 // units bought up front; twice as many applies race for them
		usageESIMs  = 4  // eSIMs that take concurrent usage
		usageEach   = 8  // usage calls per eSIM, spread over the nodes
		usageBytes  = 25_000_000
		orderBudget = 20 // orders the balance pays for after the setup
		orderTries  = 36
	)
	dsn := storetest.DSN(t)
	var (
		mu        sync.Mutex
		delivered = map[string]int{} // X-Esimd-Event-Id → deliveries
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		delivered[r.Header.Get("X-Esimd-Event-Id")]++
		mu.Unlock()
	}))
	defer receiver.Close()

	out, err := runCmd(t, "org", "create", "--db", dsn, "--name", "Multi", "--sandbox", "--balance", "0", "--json",
		"--callback-url", receiver.URL)
	if err != nil {
		t.Fatalf("org create: %v\n%s", err, out)
	}
	var org struct {
		ID     int64  `json:"id"`
		APIKey string `json:"apiKey"`
	}
	if err := json.Unmarshal([]byte(out), &org); err != nil {
		t.Fatal(err)
	}
	key := org.APIKey
	env := map[string]string{"ESIMD_RATE_LIMIT": "0"}
	var bases []string
	for range nodes {
		base, _, stop := startServer(t, dsn, env) // the first imports the catalogue
		defer stop()
		bases = append(bases, base)
	}
	node := func(i int) string { return bases[i%nodes] }

	// The price, exactly, to fund the organisation for a known number of orders.
	status, body := httpGet(t, bases[0]+"/v2.5/catalogue/bundle/"+bundle, key)
	var b struct {
		Price json.Number `json:"price"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&b); status != 200 || err != nil {
		t.Fatalf("bundle: %d %s (%v)", status, body, err)
	}
	price, err := money.Parse(b.Price.String())
	if err != nil || price <= 0 {
		t.Fatalf("price %q: %v", b.Price, err)
	}
	funding := price * money.Amount(inventory+usageESIMs+orderBudget)
	if out, err := runCmd(t, "org", "credit", "--db", dsn, fmt.Sprint(org.ID), "--amount", funding.String()); err != nil {
		t.Fatalf("org credit: %v\n%s", err, out)
	}

	// Setup: inventory, and eSIMs on a network to take usage.
	order := func(base string, assign bool, qty int) (int, []string, []byte) {
		status, body := httpPost(t, base+"/v2.5/orders", key, fmt.Sprintf(
			`{"type":"transaction","assign":%t,"order":[{"type":"bundle","item":"%s","quantity":%d}]}`, assign, bundle, qty))
		var res struct {
			Order []struct {
				ICCIDs []string `json:"iccids"`
			} `json:"order"`
		}
		json.Unmarshal(body, &res)
		var iccids []string
		for _, l := range res.Order {
			iccids = append(iccids, l.ICCIDs...)
		}
		return status, iccids, body
	}
	if status, _, body := order(bases[0], false, inventory); status != 200 {
		t.Fatalf("inventory order: %d %s", status, body)
	}
	status, users, body := order(bases[1], true, usageESIMs)
	if status != 200 || len(users) != usageESIMs {
		t.Fatalf("order for usage eSIMs: %d %s", status, body)
	}
	for i, iccid := range users {
		for _, step := range []struct{ path, body string }{{"install", ""}, {"attach", `{"country":"GB"}`}} {
			if status, body := httpPost(t, node(i)+"/sandbox/v1/esims/"+iccid+"/"+step.path, key, step.body); status != 200 {
				t.Fatalf("%s %s: %d %s", step.path, iccid, status, body)
			}
		}
	}

	// The race: every kind of write, on every node, at once.
	type result struct {
		kind    string
		status  int
		body    []byte
		iccid   string
		charged int64
	}
	results := make(chan result, 2*inventory+orderTries+usageESIMs*usageEach)
	var wg sync.WaitGroup
	for i := range 2 * inventory {
		wg.Go(func() {
			status, body := httpPost(t, node(i)+"/v2.5/esims/apply", key, `{"name":"`+bundle+`"}`)
			results <- result{kind: "apply", status: status, body: body}
		})
	}
	for i := range orderTries {
		wg.Go(func() {
			status, _, body := order(node(i+1), true, 1)
			results <- result{kind: "order", status: status, body: body}
		})
	}
	for i := range usageESIMs * usageEach {
		iccid := users[i%usageESIMs]
		wg.Go(func() {
			status, body := httpPost(t, node(i+2)+"/sandbox/v1/esims/"+iccid+"/usage", key, fmt.Sprintf(`{"bytes":%d}`, usageBytes))
			var u struct {
				BytesCharged int64 `json:"bytesCharged"`
			}
			json.Unmarshal(body, &u)
			results <- result{kind: "usage", status: status, body: body, iccid: iccid, charged: u.BytesCharged}
		})
	}
	wg.Wait()
	close(results)
	ok := map[string]int{}
	charged := map[string]int64{}
	for r := range results {
		switch {
		case r.status == 200:
			ok[r.kind]++
			charged[r.iccid] += r.charged
		case r.kind == "apply" && r.status == 403, r.kind == "order" && r.status == 400 && strings.Contains(string(r.body), "insufficient balance"):
			// no inventory left / not enough balance: the expected refusals
		default:
			t.Errorf("%s: %d %s", r.kind, r.status, r.body)
		}
	}
	if ok["apply"] != inventory {
		t.Errorf("%d applies succeeded, want exactly the %d units bought", ok["apply"], inventory)
	}
	if ok["order"] != orderBudget {
		t.Errorf("%d orders succeeded, want exactly the %d the balance paid for", ok["order"], orderBudget)
	}
	if ok["usage"] != usageESIMs*usageEach {
		t.Errorf("%d usage calls succeeded, want %d", ok["usage"], usageESIMs*usageEach)
	}

	db := storetest.OpenRaw(t, dsn)
	checkMoney := func() {
		t.Helper()
		balance := db.Int(t, `SELECT balance FROM organisations WHERE id = ?`, org.ID)
		if sum := db.Int(t, `SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE org_id = ?`, org.ID); sum != balance {
			t.Errorf("ledger sums to %d, balance is %d", sum, balance)
		}
		if balance != 0 {
			t.Errorf("balance %d left; the funding paid for exactly the orders that succeeded", balance)
		}
	}
	checkMoney()
	wantESIMs := int64(usageESIMs + inventory + orderBudget)
	for _, c := range []struct {
		what  string
		query string
		want  int64
	}{
		{"eSIMs", `SELECT count(*) FROM esims WHERE org_id = ?`, wantESIMs},
		{"distinct ICCIDs", `SELECT count(DISTINCT iccid) FROM esims WHERE org_id = ?`, wantESIMs},
		{"assignments", `SELECT count(*) FROM assignments WHERE org_id = ?`, wantESIMs},
		{"distinct assignment references", `SELECT count(DISTINCT reference) FROM assignments WHERE org_id = ?`, wantESIMs},
		{"inventory left", `SELECT coalesce(sum(remaining), 0) FROM inventory_batches WHERE org_id = ?`, 0},
		{"assignments drawn from inventory", `SELECT count(*) FROM assignments WHERE org_id = ? AND batch_id IS NOT NULL`, inventory},
		{"orders whose running balance is not their debit's", `SELECT count(*) FROM orders o JOIN ledger_entries l
			ON l.reference = o.reference AND l.kind = 'order' WHERE o.org_id = ? AND o.running_balance <> l.balance_after`, 0},
		{"eSIMs with two active bundles", `SELECT count(*) FROM (SELECT esim_id FROM assignments WHERE org_id = ? AND state = 'active'
			GROUP BY esim_id HAVING count(*) > 1) AS doubled`, 0},
	} {
		if got := db.Int(t, c.query, org.ID); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	for _, iccid := range users {
		used := db.Int(t, `SELECT sum(a.initial_bytes - a.remaining_bytes) FROM assignments a JOIN esims e ON e.id = a.esim_id WHERE e.iccid = ?`, iccid)
		if used != charged[iccid] || used != usageEach*usageBytes {
			t.Errorf("eSIM %s: bundles show %d bytes used, the usage calls were charged %d, want %d", iccid, used, charged[iccid], usageEach*usageBytes)
		}
	}

	// Time: every bundle ends (expires or lapses) while three workers race
	// the advancing node for the due work.
	if status, body := httpPost(t, bases[0]+"/sandbox/v1/clock/advance", key, `{"duration":"400d"}`); status != 200 {
		t.Fatalf("clock advance: %d %s", status, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for db.Int(t, `SELECT count(*) FROM due_work WHERE org_id = ? AND due_at <= ?`, org.ID, time.Now().Add(399*24*time.Hour).UnixNano()) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("due work still waiting after 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	ended := db.Int(t, `SELECT count(*) FROM assignments WHERE org_id = ? AND state IN ('expired', 'lapsed', 'depleted')`, org.ID)
	if ended != wantESIMs {
		t.Errorf("%d of %d bundles ended after 400 days", ended, wantESIMs)
	}
	for _, c := range []struct{ state, history string }{{"expired", "Bundle Expired"}, {"lapsed", "Bundle Lapsed"}} {
		n := db.Int(t, `SELECT count(*) FROM assignments WHERE org_id = ? AND state = ?`, org.ID, c.state)
		h := db.Int(t, `SELECT count(*) FROM esim_history h JOIN esims e ON e.id = h.esim_id WHERE e.org_id = ? AND h.name = ?`, org.ID, c.history)
		if n != h {
			t.Errorf("%d bundles %s but %d %q history rows: a due transition ran more or less than once", n, c.state, h, c.history)
		}
	}
	checkMoney()

	// Callbacks: every event reaches the receiver, each exactly once,
	// whichever node's delivery worker claimed it.
	events := db.Int(t, `SELECT count(*) FROM events WHERE org_id = ?`, org.ID)
	if events < wantESIMs {
		t.Fatalf("only %d events", events)
	}
	deadline = time.Now().Add(30 * time.Second)
	for db.Int(t, `SELECT count(*) FROM event_deliveries WHERE org_id = ? AND status <> 'delivered'`, org.ID) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("callbacks not all delivered after 30s: %d left", db.Int(t, `SELECT count(*) FROM event_deliveries WHERE org_id = ? AND status <> 'delivered'`, org.ID))
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if int64(len(delivered)) != events {
		t.Errorf("the receiver saw %d distinct events, the database holds %d", len(delivered), events)
	}
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	t.Logf("%d nodes: %d applies, %d orders, %d usage calls, %d callbacks, %d bundles ended", nodes, ok["apply"], ok["order"], ok["usage"], len(delivered), ended)
}
