package orders_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
)

// TestConcurrentOrdersNeverOverspend is the money invariant: 32 orders
// placed at once for one organisation whose balance covers only some of
// them. Whatever the interleaving, the balance never goes below zero, it
// equals the starting credit less the successful orders, the ledger adds up
// to it, every refusal is an insufficient-balance Invalid that wrote
// nothing, and no ICCID is issued twice.
func TestConcurrentOrdersNeverOverspend(t *testing.T) {
	const n = 32
	start := money.MustParse("40")
	e := newEnv(t, envOptions{balance: start.String()})
	type result struct {
		req    orders.Request
		placed orders.Placed
		err    error
	}
	results := make([]result, n)
	for i := range results {
		// Orders of 1 to 3 bundles, mostly onto new eSIMs, some into inventory.
		q := 1 + i%3
		results[i].req = orders.Request{Type: "transaction", Assign: i%4 != 3, Lines: []orders.LineRequest{line(b1GB, q)}}
	}
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			results[i].placed, results[i].err = e.orders.Place(e.ctx, e.org.ID, results[i].req, "")
		}()
	}
	close(ready)
	wg.Wait()

	var spent money.Amount
	ok, refused, units, assigned, inventory := 0, 0, 0, 0, 0
	iccids := map[string]bool{}
	running := map[money.Amount]bool{}
	for i, r := range results {
		if r.err != nil {
			refused++
			if !fault.Is(r.err, fault.Invalid) || !strings.Contains(fault.MessageOf(r.err), "insufficient balance") {
				t.Errorf("order %d: %v, want an insufficient-balance Invalid", i, r.err)
			}
			continue
		}
		ok++
		q := r.req.Lines[0].Quantity
		want, _ := price[b1GB].Mul(int64(q))
		if r.placed.Order.Total != want || r.placed.Order.Status != orders.StatusCompleted {
			t.Errorf("order %d: %+v, want completed with total %s", i, r.placed.Order, want)
		}
		spent += r.placed.Order.Total
		if running[r.placed.Order.RunningBalance] {
			t.Errorf("two orders report the running balance %s", r.placed.Order.RunningBalance)
		}
		running[r.placed.Order.RunningBalance] = true
		units += q
		if !r.req.Assign {
			inventory++
			continue
		}
		assigned += q
		for _, es := range r.placed.ESIMs {
			for _, s := range es {
				if iccids[s.ICCID] {
					t.Errorf("ICCID %s issued twice", s.ICCID)
				}
				iccids[s.ICCID] = true
			}
		}
	}
	if ok == 0 || refused == 0 {
		t.Fatalf("%d orders succeeded and %d were refused; the test needs both", ok, refused)
	}
	t.Logf("%d orders succeeded (%s spent), %d refused", ok, spent, refused)

	balance := e.balance()
	if balance < 0 || balance != start-spent {
		t.Errorf("balance %s, want %s − %s = %s", balance, start, spent, start-spent)
	}
	// The balance only went down, so each refusal happened at a balance at
	// least the final one: every refused order must cost more than that.
	for i, r := range results {
		if total, _ := price[b1GB].Mul(int64(r.req.Lines[0].Quantity)); r.err != nil && total <= balance {
			t.Errorf("order %d of %s was refused, yet %s is left", i, total, balance)
		}
	}
	var sum money.Amount
	ledger := e.ledger()
	for _, l := range ledger {
		sum += l.Amount
	}
	if sum != balance || ledger[len(ledger)-1].BalanceAfter != balance || len(ledger) != 1+ok {
		t.Errorf("ledger: %d rows summing to %s ending at %s; want %d rows summing to the balance %s", len(ledger), sum, ledger[len(ledger)-1].BalanceAfter, 1+ok, balance)
	}
	s := e.snapshot()
	if s.Orders != ok || s.ESIMs != assigned || s.Assignments != assigned || s.Batches != inventory || s.Units != units-assigned {
		t.Errorf("stored %+v; want %d orders, %d eSIMs and assignments, %d batches with %d units", s, ok, assigned, inventory, units-assigned)
	}
	if n := e.count(`SELECT count(DISTINCT iccid) FROM esims`); n != s.ESIMs || len(iccids) != assigned {
		t.Errorf("%d distinct ICCIDs among %d eSIMs (%d returned)", n, s.ESIMs, len(iccids))
	}
	// One episode (no top-up between): at most 10 notifications, however
	// the refusals interleave.
	if n := len(e.events("InsufficientBalance")); n != min(refused, orders.InsufficientBalanceLimit) {
		t.Errorf("%d InsufficientBalance notifications for %d refusals, want %d", n, refused, min(refused, orders.InsufficientBalanceLimit))
	}
}
