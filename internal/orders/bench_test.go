package orders_test

import (
	"testing"

	"github.com/esimd/esimd/internal/orders"
)

// BenchmarkPlaceOrder measures POST /orders' use case: a transaction of one
// bundle onto a new eSIM (balance debit, ledger row, order, provisioning,
// assignment, due work and history in one database transaction).
func BenchmarkPlaceOrder(b *testing.B) {
	e := newEnv(b, envOptions{balance: "100000000"})
	req := orders.Request{Type: "transaction", Assign: true, Lines: []orders.LineRequest{line(b1GB, 1)}}
	b.ResetTimer()
	for i := range b.N {
		p, err := e.orders.Place(e.ctx, e.org.ID, req, "")
		if err != nil || len(p.ESIMs) != 1 || len(p.ESIMs[0]) != 1 {
			b.Fatalf("order %d: %+v, %v", i, p, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}
