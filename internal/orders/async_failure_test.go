package orders_test

import (
	"fmt"
	"testing"

	"github.com/esimd/esimd/esimid"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/orders"
)

// importPool puts n Profile 1 profiles in the live pool.
func (e *env) importPool(n int) {
	e.t.Helper()
	var ps []esims.PoolProfile
	for i := range n {
		id, err := esimid.NewICCID(fmt.Sprintf("894400000000%06d", i+1))
		if err != nil {
			e.t.Fatal(err)
		}
		ps = append(ps, esims.PoolProfile{ICCID: id.String(), MatchingID: fmt.Sprintf("ABCD-EFGH-JKLM-%04d", i), SMDPAddress: "rsp.example.net", Profile: "Profile 1"})
	}
	if got, err := e.engine.ImportPool(e.ctx, ps); err != nil || got != n {
		e.t.Fatalf("ImportPool = %d, %v", got, err)
	}
}

// An asynchronous order that cannot finish (here the live pool runs dry
// on its second line) is failed and refunded; whatever it had done before
// failing must be undone with it, or the organisation keeps the first
// line's eSIMs for free and the pool loses the profiles claimed.
func TestAsyncOrderFailureUndoesItsPartialWork(t *testing.T) {
	e := newEnv(t, envOptions{live: true, balance: "100"})
	e.importPool(4)
	before := e.snapshot()
	p := e.place(orders.Request{Type: "transaction", Assign: true, Lines: []orders.LineRequest{line(b1GB, 4), line(b2GB, 2)}})
	if p.Order.Status != orders.StatusProcessing {
		t.Fatalf("order of 6: %s, want processing", p.Order.Status)
	}
	if _, err := e.engine.RunDue(e.ctx, e.org.ID); err != nil {
		t.Fatal(err)
	}
	got, err := e.orders.Get(e.ctx, e.org.ID, p.Order.Reference)
	if err != nil || got.Status != orders.StatusFailed {
		t.Fatalf("order after RunDue: %+v, %v; want failed", got, err)
	}
	if b := e.balance(); b != before.Balance {
		t.Errorf("balance %s after the refund, want %s", b, before.Balance)
	}
	s := e.snapshot()
	if s.ESIMs != 0 || s.Assignments != 0 {
		t.Errorf("a failed and refunded order left %d eSIMs and %d assignments", s.ESIMs, s.Assignments)
	}
	if n := e.count(`SELECT count(*) FROM profile_pool`); n != 4 {
		t.Errorf("pool has %d profiles after the failed order, want its 4 back", n)
	}
}

// A failed asynchronous apply must give back the inventory units it drew
// (an apply costs no money, so the refund of the order total returns
// nothing).
func TestAsyncApplyFailureReturnsTheInventory(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	e.importPool(3)
	batch := e.buy(b1GB, 7)
	a, err := e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{Entries: []orders.ApplyEntry{{Name: b1GB, Repeat: 7}}})
	if err != nil || a.Order.Status != orders.StatusProcessing {
		t.Fatalf("apply of 7: %+v, %v; want processing", a.Order, err)
	}
	if _, err := e.engine.RunDue(e.ctx, e.org.ID); err != nil {
		t.Fatal(err)
	}
	got, err := e.orders.Get(e.ctx, e.org.ID, a.Order.Reference)
	if err != nil || got.Status != orders.StatusFailed {
		t.Fatalf("apply after RunDue: %+v, %v; want failed", got, err)
	}
	if r := e.batch(batch.ID).Remaining; r != 7 {
		t.Errorf("the batch has %d of 7 units after the failed apply, want all 7 back", r)
	}
	if s := e.snapshot(); s.ESIMs != 0 || s.Assignments != 0 {
		t.Errorf("a failed apply left %d eSIMs and %d assignments", s.ESIMs, s.Assignments)
	}
}
