package orders_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
)

func line(item string, n int) orders.LineRequest {
	return orders.LineRequest{Type: "bundle", Item: item, Quantity: n}
}

func TestValidateWritesNothingAndAgreesWithTransaction(t *testing.T) {
	cases := []struct {
		name string
		req  orders.Request
		want fault.Kind // when the order is refused
		okay bool       // the order goes through
	}{
		{"inventory", orders.Request{Lines: []orders.LineRequest{line(b1GB, 1), line(b2GB, 1)}}, 0, true},
		{"assigned", orders.Request{Assign: true, Lines: []orders.LineRequest{line(b1GB, 2)}}, 0, true},
		{"insufficient balance", orders.Request{Lines: []orders.LineRequest{line(b2GB, 2)}}, fault.Invalid, false},
		{"unknown bundle", orders.Request{Lines: []orders.LineRequest{line("esim_1gb_7d_gb_v2", 1)}}, fault.Invalid, false},
		{"zero quantity", orders.Request{Lines: []orders.LineRequest{line(b1GB, 0)}}, fault.Invalid, false},
		{"no lines", orders.Request{}, fault.Invalid, false},
		{"iccids without assign", orders.Request{Lines: []orders.LineRequest{{Type: "bundle", Item: b1GB, Quantity: 1, ICCIDs: []string{"8999901000000000018"}}}}, fault.Invalid, false},
		{"unknown iccid", orders.Request{Assign: true, Lines: []orders.LineRequest{{Type: "bundle", Item: b1GB, Quantity: 1, ICCIDs: []string{"8999901999999999990"}}}}, fault.Forbidden, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, envOptions{balance: "6"})
			before := e.snapshot()
			v := c.req
			v.Type = "validate"
			pv, verr := e.orders.Place(e.ctx, e.org.ID, v, "")
			if diff := cmp.Diff(before, e.snapshot()); diff != "" {
				t.Errorf("validate wrote (-before +after):\n%s", diff)
			}
			tr := c.req
			tr.Type = "transaction"
			pt, terr := e.orders.Place(e.ctx, e.org.ID, tr, "")
			if c.okay {
				if verr != nil || terr != nil {
					t.Fatalf("validate: %v; transaction: %v; want both to succeed", verr, terr)
				}
				if !pv.Valid || pv.Order.Total != pt.Order.Total || pt.Order.Total == 0 {
					t.Errorf("validate total %s (valid %v), transaction total %s", pv.Order.Total, pv.Valid, pt.Order.Total)
				}
				if e.snapshot().Orders != before.Orders+1 {
					t.Errorf("the transaction did not store its order")
				}
				return
			}
			wantKind(t, verr, c.want)
			wantKind(t, terr, c.want)
			if fault.MessageOf(verr) != fault.MessageOf(terr) {
				t.Errorf("validate says %q, transaction says %q", fault.MessageOf(verr), fault.MessageOf(terr))
			}
		})
	}
}

func TestTransactionDebitsTheTotal(t *testing.T) {
	for _, assign := range []bool{false, true} {
		t.Run(map[bool]string{false: "inventory", true: "assigned"}[assign], func(t *testing.T) {
			e := newEnv(t, envOptions{balance: "100"})
			before := e.snapshot()
			ledger := len(e.ledger())
			p := e.place(orders.Request{Type: "transaction", Assign: assign, Lines: []orders.LineRequest{line(b1GB, 2), line(b2GB, 3)}})
			want := money.MustParse("13.06") // 2 × 1.73 + 3 × 3.2
			if p.Order.Total != want {
				t.Errorf("total %s, want %s", p.Order.Total, want)
			}
			after := money.MustParse("86.94")
			if got := e.balance(); got != after {
				t.Errorf("balance %s, want %s", got, after)
			}
			if p.Order.RunningBalance != after {
				t.Errorf("runningBalance %s, want %s", p.Order.RunningBalance, after)
			}
			l := e.ledger()
			if len(l) != ledger+1 {
				t.Fatalf("%d ledger rows written, want 1", len(l)-ledger)
			}
			last := l[len(l)-1]
			if last.Kind != orgs.LedgerOrder || last.Amount != -want || last.BalanceAfter != after || last.Reference != p.Order.Reference {
				t.Errorf("ledger row %+v", last)
			}
			got, err := e.orders.Get(e.ctx, e.org.ID, p.Order.Reference)
			if err != nil {
				t.Fatal(err)
			}
			var subs []money.Amount
			for _, l := range got.Lines {
				subs = append(subs, l.SubTotal)
			}
			if diff := cmp.Diff([]money.Amount{money.MustParse("3.46"), money.MustParse("9.6")}, subs); diff != "" {
				t.Errorf("line sub-totals (-want +got):\n%s", diff)
			}
			if got.Status != orders.StatusCompleted || got.Total != want || got.Assigned != assign {
				t.Errorf("stored order %+v", got)
			}
			s := e.snapshot()
			if assign {
				if s.ESIMs-before.ESIMs != 5 || s.Assignments-before.Assignments != 5 || s.Batches != before.Batches {
					t.Errorf("assigned order: %+v, want 5 new eSIMs with one assignment each and no batch", s)
				}
				if got.StatusMessage != "Order completed: 5 eSIMs assigned" {
					t.Errorf("statusMessage %q", got.StatusMessage)
				}
			} else if s.Batches-before.Batches != 2 || s.ESIMs != before.ESIMs || s.Assignments != before.Assignments {
				t.Errorf("inventory order: %+v, want 2 batches and nothing assigned", s)
			}
		})
	}
}

func TestInsufficientBalance(t *testing.T) {
	e := newEnv(t, envOptions{balance: "5"})
	before := e.snapshot()
	req := orders.Request{Type: "transaction", Assign: true, Lines: []orders.LineRequest{line(b1GB, 3)}} // 5.19
	_, err := e.orders.Place(e.ctx, e.org.ID, req, "")
	wantKind(t, err, fault.Invalid)
	msg := fault.MessageOf(err)
	for _, s := range []string{"insufficient balance", "5.19", "5 USD"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message %q does not say %q", msg, s)
		}
	}
	after := e.snapshot()
	after.Events = before.Events // checked below
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a refused order wrote (-before +after):\n%s", diff)
	}
	evs := e.events("InsufficientBalance")
	if len(evs) != 1 {
		t.Fatalf("%d InsufficientBalance notifications, want 1", len(evs))
	}
	if p, ok := evs[0].Payload.(events.Balance); !ok || p.AlertType != "InsufficientBalance" || p.BalanceInfo.Threshold == 0 {
		t.Errorf("InsufficientBalance payload %v", evs[0].Payload)
	}
	// Validating the same order says the same and notifies nobody.
	req.Type = "validate"
	_, err = e.orders.Place(e.ctx, e.org.ID, req, "")
	wantKind(t, err, fault.Invalid)
	if n := len(e.events("InsufficientBalance")); n != 1 {
		t.Errorf("validate sent an InsufficientBalance notification")
	}
	// An order the balance covers exactly goes through and leaves zero.
	exact := newEnv(t, envOptions{balance: "5.19"})
	exact.place(orders.Request{Type: "transaction", Assign: true, Lines: []orders.LineRequest{line(b1GB, 3)}})
	if got := exact.balance(); got != 0 {
		t.Errorf("balance after spending it all: %s", got)
	}
}

func TestInventoryBatches(t *testing.T) {
	e := newEnv(t, envOptions{})
	p := e.place(orders.Request{Type: "transaction", Lines: []orders.LineRequest{line(b1GB, 2), line(b2GB, 3)}})
	if len(p.ESIMs) != 0 {
		t.Errorf("an inventory order returned eSIMs: %v", p.ESIMs)
	}
	inv, err := e.orders.Inventory(e.ctx, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	type batch struct {
		Bundle           string
		Total, Remaining int
		Price            money.Amount
		Purchased, Ends  time.Time
	}
	var got []batch
	for _, it := range inv {
		if !it.Known {
			t.Errorf("bundle %s unknown to the catalogue", it.Bundle.Name)
		}
		for _, b := range it.Batches {
			if b.BundleName != it.Bundle.Name || b.OrderID != p.Order.ID {
				t.Errorf("batch %+v under %s", b, it.Bundle.Name)
			}
			got = append(got, batch{b.BundleName, b.Total, b.Remaining, b.Price, b.PurchasedAt, b.ExpiresAt})
		}
	}
	want := []batch{
		{b1GB, 2, 2, price[b1GB], t0, t0.AddDate(0, 12, 0)},
		{b2GB, 3, 3, price[b2GB], t0, t0.AddDate(0, 12, 0)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inventory (-want +got):\n%s", diff)
	}
	// After 12 months the inventory is gone and cannot be applied.
	e.clock.Advance(365*day - time.Second)
	if n := len(e.batches("")); n != 2 {
		t.Errorf("%d batches a second before expiry, want 2", n)
	}
	e.clock.Advance(time.Second)
	inv, err = e.orders.Inventory(e.ctx, e.org.ID)
	if err != nil || len(inv) != 0 {
		t.Errorf("inventory after 12 months: %v, %v; want empty", inv, err)
	}
	_, err = e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{Entries: []orders.ApplyEntry{{Name: b1GB}}})
	wantKind(t, err, fault.Forbidden)
}

// TestInventoryExpiresAfterTwelveCalendarMonths: inventory expires 12
// calendar months after purchase, as documented, which is 366 days when
// the year ahead holds a 29 February and 365 days otherwise.
func TestInventoryExpiresAfterTwelveCalendarMonths(t *testing.T) {
	for _, c := range []struct {
		bought, want time.Time
	}{
		{time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC), time.Date(2028, 3, 1, 12, 0, 0, 0, time.UTC)}, // 366 days
		{time.Date(2027, 2, 28, 9, 0, 0, 0, time.UTC), time.Date(2028, 2, 28, 9, 0, 0, 0, time.UTC)},
		{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)}, // 365 days
	} {
		t.Run(c.bought.Format(time.DateOnly), func(t *testing.T) {
			e := newEnv(t, envOptions{})
			e.clock.Advance(c.bought.Sub(e.clock.Now()))
			e.place(orders.Request{Type: "transaction", Lines: []orders.LineRequest{line(b1GB, 1)}})
			b := e.batches("")
			if len(b) != 1 || !b[0].ExpiresAt.Equal(c.want) {
				t.Fatalf("batches %+v; want one expiring %v", b, c.want)
			}
			e.clock.Advance(c.want.Sub(c.bought) - time.Second)
			if n := len(e.batches("")); n != 1 {
				t.Errorf("%d batches a second before %v, want 1", n, c.want)
			}
			e.clock.Advance(time.Second)
			if n := len(e.batches("")); n != 0 {
				t.Errorf("%d batches at %v, want none", n, c.want)
			}
		})
	}
}

func TestApplyDrawsOldestBatchFirst(t *testing.T) {
	e := newEnv(t, envOptions{})
	first := e.buy(b1GB, 2)
	e.clock.Advance(time.Hour)
	second := e.buy(b1GB, 3)
	before := e.snapshot()

	a, err := e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{Entries: []orders.ApplyEntry{{Name: b1GB, Repeat: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Order.Kind != orders.KindBundleAssignment || a.Order.Status != orders.StatusCompleted || len(a.Units) != 3 {
		t.Fatalf("apply: %+v", a)
	}
	var from []int64
	seen := map[string]bool{}
	for _, u := range a.Units {
		if seen[u.ICCID] {
			t.Errorf("ICCID %s got two units of one apply", u.ICCID)
		}
		seen[u.ICCID] = true
		as := e.assignments(u.ICCID)
		if len(as) != 1 || as[0].BundleName != b1GB || as[0].BatchID == nil || as[0].Price != price[b1GB] {
			t.Fatalf("eSIM %s assignments %+v", u.ICCID, as)
		}
		from = append(from, *as[0].BatchID)
	}
	if diff := cmp.Diff([]int64{first.ID, first.ID, second.ID}, from); diff != "" {
		t.Errorf("batches drawn (-want +got):\n%s", diff)
	}
	if r1, r2 := e.batch(first.ID).Remaining, e.batch(second.ID).Remaining; r1 != 0 || r2 != 2 {
		t.Errorf("remaining %d and %d, want 0 and 2", r1, r2)
	}
	after := e.snapshot()
	if after.Balance != before.Balance || after.Ledger != before.Ledger || after.ESIMs != before.ESIMs+3 {
		t.Errorf("apply changed money or made the wrong number of eSIMs: %+v → %+v", before, after)
	}
	// Three more is one too many: nothing is drawn.
	before = e.snapshot()
	_, err = e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{Entries: []orders.ApplyEntry{{Name: b1GB, Repeat: 3}}})
	wantKind(t, err, fault.Forbidden)
	if diff := cmp.Diff(before, e.snapshot()); diff != "" {
		t.Errorf("a refused apply wrote (-before +after):\n%s", diff)
	}
	if _, err := e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{Entries: []orders.ApplyEntry{{Name: b1GB, Repeat: 2}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{Entries: []orders.ApplyEntry{{Name: b1GB}}})
	wantKind(t, err, fault.Forbidden)
	_, err = e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{Entries: []orders.ApplyEntry{{Name: b2GB}}})
	wantKind(t, err, fault.Forbidden)
}

func TestApplyToAnESIM(t *testing.T) {
	e := newEnv(t, envOptions{})
	s := e.newESIM(b1GB)
	batch := e.buy(b2GB, 2)
	e.buy(bUS, 1)
	before := e.snapshot()
	a, err := e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{ICCID: s.ICCID, Entries: []orders.ApplyEntry{{Name: b2GB}}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]orders.AppliedUnit{{ICCID: s.ICCID, Bundle: b2GB}}, a.Units); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
	var names []string
	for _, x := range e.assignments(s.ICCID) {
		names = append(names, x.BundleName+"/"+string(x.State))
	}
	if diff := cmp.Diff([]string{b1GB + "/queued", b2GB + "/queued"}, names); diff != "" {
		t.Errorf("the eSIM's bundles (-want +got):\n%s", diff)
	}
	if got := e.snapshot(); got.ESIMs != before.ESIMs || e.batch(batch.ID).Remaining != 1 {
		t.Errorf("top-up made an eSIM or drew wrongly: %+v", got)
	}

	cases := []struct {
		name string
		req  orders.ApplyRequest
		want fault.Kind
	}{
		{"repeat with iccid", orders.ApplyRequest{ICCID: s.ICCID, Entries: []orders.ApplyEntry{{Name: b2GB, Repeat: 2}}}, fault.Invalid},
		{"incompatible bundle", orders.ApplyRequest{ICCID: s.ICCID, Entries: []orders.ApplyEntry{{Name: bUS}}}, fault.Invalid},
		{"unknown eSIM", orders.ApplyRequest{ICCID: "8999901999999999990", Entries: []orders.ApplyEntry{{Name: b2GB}}}, fault.Forbidden},
		{"malformed ICCID", orders.ApplyRequest{ICCID: "123", Entries: []orders.ApplyEntry{{Name: b2GB}}}, fault.Invalid},
		{"no name", orders.ApplyRequest{ICCID: s.ICCID, Entries: []orders.ApplyEntry{{}}}, fault.Invalid},
		{"nothing", orders.ApplyRequest{ICCID: s.ICCID}, fault.Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot()
			_, err := e.orders.Apply(e.ctx, e.org.ID, c.req)
			wantKind(t, err, c.want)
			if diff := cmp.Diff(before, e.snapshot()); diff != "" {
				t.Errorf("a refused apply wrote (-before +after):\n%s", diff)
			}
		})
	}
	// Another organisation's eSIM is not reachable.
	other := e.newOrg(envOptions{})
	_, err = e.orders.Apply(e.ctx, other.ID, orders.ApplyRequest{ICCID: s.ICCID, Entries: []orders.ApplyEntry{{Name: b2GB}}})
	wantKind(t, err, fault.Forbidden)
}

func TestAsyncOrder(t *testing.T) {
	e := newEnv(t, envOptions{})
	before := e.snapshot()
	p := e.place(orders.Request{Type: "transaction", Assign: true, Lines: []orders.LineRequest{line(b1GB, 4), line(b2GB, 2)}})
	if p.Order.Status != orders.StatusProcessing {
		t.Fatalf("an order of 6 eSIMs is %s, want processing", p.Order.Status)
	}
	want := money.MustParse("13.32") // 4 × 1.73 + 2 × 3.2
	if got := e.balance(); got != before.Balance-want {
		t.Errorf("balance %s, want %s debited at once", got, want)
	}
	got, err := e.orders.Get(e.ctx, e.org.ID, p.Order.Reference)
	if err != nil || got.Status != orders.StatusProcessing {
		t.Fatalf("stored order: %+v, %v", got, err)
	}
	if s := e.snapshot(); s.ESIMs != 0 || s.Assignments != 0 {
		t.Errorf("before the due work: %d eSIMs, %d assignments", s.ESIMs, s.Assignments)
	}
	for i := range 2 {
		if _, err := e.engine.RunDue(e.ctx, e.org.ID); err != nil {
			t.Fatal(err)
		}
		got, err = e.orders.Get(e.ctx, e.org.ID, p.Order.Reference)
		if err != nil || got.Status != orders.StatusCompleted || got.StatusMessage != "Order completed: 6 eSIMs assigned" || got.CompletedAt == nil {
			t.Fatalf("after RunDue #%d: %+v, %v", i+1, got, err)
		}
		as, err := e.engine.AssignmentsOfOrder(e.ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		iccids := map[string]bool{}
		var bundles []string
		for _, a := range as {
			iccids[a.ICCID] = true
			bundles = append(bundles, a.BundleName)
		}
		if diff := cmp.Diff([]string{b1GB, b1GB, b1GB, b1GB, b2GB, b2GB}, bundles); diff != "" || len(iccids) != 6 {
			t.Errorf("after RunDue #%d: %d eSIMs, bundles (-want +got):\n%s", i+1, len(iccids), diff)
		}
		if s := e.snapshot(); s.ESIMs != 6 || s.Assignments != 6 || s.Ledger != before.Ledger+1 {
			t.Errorf("after RunDue #%d: %+v", i+1, s)
		}
		es, err := e.orders.ESIMsOfOrder(e.ctx, &got)
		if err != nil || len(es) != 2 || len(es[0]) != 4 || len(es[1]) != 2 {
			t.Errorf("ESIMsOfOrder: %v, %v", es, err)
		}
	}
}

func TestAsyncApply(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.buy(b1GB, 7)
	a, err := e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{Entries: []orders.ApplyEntry{{Name: b1GB, Repeat: 7}}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Order.Status != orders.StatusProcessing || len(a.Units) != 0 {
		t.Fatalf("an apply of 7 bundles: %+v, want processing", a)
	}
	if n := e.snapshot().Assignments; n != 0 {
		t.Errorf("%d assignments before the due work", n)
	}
	for range 2 {
		if _, err := e.engine.RunDue(e.ctx, e.org.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.orders.Get(e.ctx, e.org.ID, a.Order.Reference)
	if err != nil || got.Status != orders.StatusCompleted {
		t.Fatalf("apply after RunDue: %+v, %v", got, err)
	}
	if s := e.snapshot(); s.ESIMs != 7 || s.Assignments != 7 || s.Units != 0 {
		t.Errorf("after RunDue twice: %+v, want 7 eSIMs with one bundle each and no units left", s)
	}
}

func TestRefundInventory(t *testing.T) {
	t.Run("off by default", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		b := e.buy(b1GB, 3)
		before := e.snapshot()
		_, err := e.orders.RefundInventory(e.ctx, e.org.ID, b.ID, 1)
		wantKind(t, err, fault.Forbidden)
		if diff := cmp.Diff(before, e.snapshot()); diff != "" {
			t.Errorf("refused refund wrote (-before +after):\n%s", diff)
		}
	})
	e := newEnv(t, envOptions{refunds: true})
	b := e.buy(b2GB, 3)
	other := e.newOrg(envOptions{refunds: true})
	cases := []struct {
		name     string
		org      orgs.ID
		usage    int64
		quantity int
		want     fault.Kind
	}{
		{"more than remains", e.org.ID, b.ID, 4, fault.Invalid},
		{"zero", e.org.ID, b.ID, 0, fault.Invalid},
		{"another organisation's batch", other.ID, b.ID, 1, fault.Forbidden},
		{"no such batch", e.org.ID, b.ID + 100, 1, fault.Forbidden},
	}
	for _, c := range cases {
		before := e.snapshot()
		_, err := e.orders.RefundInventory(e.ctx, c.org, c.usage, c.quantity)
		if fault.KindOf(err) != c.want || err == nil {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if diff := cmp.Diff(before, e.snapshot()); diff != "" {
			t.Errorf("%s: refused refund wrote (-before +after):\n%s", c.name, diff)
		}
	}
	balance := e.balance()
	entry, err := e.orders.RefundInventory(e.ctx, e.org.ID, b.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := money.MustParse("6.4")
	if entry.Kind != orgs.LedgerRefund || entry.Amount != want || entry.BalanceAfter != balance+want {
		t.Errorf("refund entry %+v, want %s", entry, want)
	}
	if got := e.balance(); got != balance+want {
		t.Errorf("balance %s, want %s", got, balance+want)
	}
	if l := e.ledger(); l[len(l)-1].ID != entry.ID {
		t.Errorf("the refund is not the last ledger row")
	}
	if r := e.batch(b.ID).Remaining; r != 1 {
		t.Errorf("remaining %d, want 1", r)
	}
	// The 60-day window counts from the purchase.
	e.clock.Advance(60*day + time.Second)
	before := e.snapshot()
	_, err = e.orders.RefundInventory(e.ctx, e.org.ID, b.ID, 1)
	wantKind(t, err, fault.Invalid)
	if diff := cmp.Diff(before, e.snapshot()); diff != "" {
		t.Errorf("late refund wrote (-before +after):\n%s", diff)
	}
}

func TestTopUp(t *testing.T) {
	live := newEnv(t, envOptions{live: true})
	_, _, err := live.orders.TopUp(live.ctx, live.org.ID, money.FromUnits(1000))
	wantKind(t, err, fault.Forbidden)

	e := newEnv(t, envOptions{balance: "10"})
	steps := []struct {
		advance time.Duration
		amount  string
		want    fault.Kind
		ok      bool
	}{
		{0, "999.99", fault.Invalid, false}, // under the minimum
		{0, "1000", 0, true},
		{0, "4000.01", fault.Invalid, false}, // over the day's 5000
		{0, "4000", 0, true},
		{0, "1000", fault.Invalid, false},
		{time.Hour, "1000", fault.Invalid, false},
		{12 * time.Hour, "1000", 0, true}, // the next day (UTC)
		{0, "4000", 0, true},
	}
	balance := e.balance()
	for i, st := range steps {
		e.clock.Advance(st.advance)
		before := e.snapshot()
		o, entry, err := e.orders.TopUp(e.ctx, e.org.ID, money.MustParse(st.amount))
		if !st.ok {
			if fault.KindOf(err) != st.want || err == nil {
				t.Errorf("step %d: top-up of %s: %v, want %v", i, st.amount, err, st.want)
			}
			if diff := cmp.Diff(before, e.snapshot()); diff != "" {
				t.Errorf("step %d: refused top-up wrote (-before +after):\n%s", i, diff)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d: top-up of %s: %v", i, st.amount, err)
		}
		balance += money.MustParse(st.amount)
		if entry.Kind != orgs.LedgerTopup || entry.BalanceAfter != balance || o.Kind != orders.KindTopup || o.RunningBalance != balance || e.balance() != balance {
			t.Errorf("step %d: order %+v, entry %+v, want balance %s", i, o, entry, balance)
		}
	}
	if n := len(e.events("Topup")); n != 4 {
		t.Errorf("%d Topup notifications, want 4", n)
	}
}

func TestRevoke(t *testing.T) {
	type outcome struct {
		Status       string
		State        esims.BundleState
		BalanceDelta money.Amount
		UnitsDelta   int
		History      []string
	}
	revoked := []string{"Bundle Revoked"}
	cases := []struct {
		name    string
		refunds bool
		started bool
		req     orders.RevokeRequest
		want    outcome
	}{
		{"refunds off", false, false, orders.RevokeRequest{},
			outcome{"Successfully Revoked Bundle", esims.BundleRevoked, 0, 0, revoked}},
		{"unused, to inventory", true, false, orders.RevokeRequest{},
			outcome{"Successfully Revoked Bundle, bundle has been refunded to inventory", esims.BundleRevoked, 0, 1,
				[]string{"Bundle Revoked", "Bundle Refunded to Inventory"}}},
		{"unused, to balance", true, false, orders.RevokeRequest{RefundToBalance: true},
			outcome{"Successfully Revoked Bundle, bundle has been refunded to balance", esims.BundleRevoked, price[b2GB], 0,
				[]string{"Bundle Revoked", "Bundle Refunded To Balance"}}},
		{"started", true, true, orders.RevokeRequest{RefundToBalance: true},
			outcome{"Successfully Revoked Bundle", esims.BundleRevoked, 0, 0, revoked}},
		{"validate only, refundable", true, false, orders.RevokeRequest{ValidateOnly: true},
			outcome{"Bundle can be revoked and refunded to inventory", esims.BundleQueued, 0, 0, nil}},
		{"validate only, started", true, true, orders.RevokeRequest{ValidateOnly: true},
			outcome{"Bundle can be revoked without refund: the bundle has started", esims.BundleActive, 0, 0, nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, envOptions{refunds: c.refunds})
			s := e.newESIM(b1GB)
			batch := e.buy(b2GB, 2)
			if _, err := e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{ICCID: s.ICCID, Entries: []orders.ApplyEntry{{Name: b2GB}}}); err != nil {
				t.Fatal(err)
			}
			target := e.assignments(s.ICCID)[1]
			if c.started {
				// Use up the first bundle so the second one starts.
				if _, err := e.engine.SetProfileStatus(e.ctx, e.org.ID, s.ICCID, esims.ProfileInstalled, ""); err != nil {
					t.Fatal(err)
				}
				if _, err := e.engine.ApplyUsage(e.ctx, esims.UsageRecord{Org: e.org.ID, ICCID: s.ICCID, Bytes: GB + MB, Network: esims.Registration{Country: "GB"}}); err != nil {
					t.Fatal(err)
				}
			}
			balance, units := e.balance(), e.batch(batch.ID).Remaining
			history := len(e.history(s.ICCID))
			before := e.snapshot()
			req := c.req
			req.ICCID, req.BundleName = s.ICCID, b2GB
			status, err := e.orders.Revoke(e.ctx, e.org.ID, req)
			if err != nil {
				t.Fatal(err)
			}
			got := outcome{Status: status, State: e.assignments(s.ICCID)[1].State, BalanceDelta: e.balance() - balance,
				UnitsDelta: e.batch(batch.ID).Remaining - units, History: e.history(s.ICCID)[history:]}
			if len(got.History) == 0 {
				got.History = nil
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("revoke (-want +got):\n%s", diff)
			}
			if req.ValidateOnly {
				if diff := cmp.Diff(before, e.snapshot()); diff != "" {
					t.Errorf("validate-only revoke wrote (-before +after):\n%s", diff)
				}
				return
			}
			if n := e.count(`SELECT count(*) FROM inventory_batches`); n != before.Batches {
				t.Errorf("revoke made %d new batches; the unit goes back to its own", n-before.Batches)
			}
			// A revoked bundle cannot be revoked again.
			req.AssignmentID = target.ID
			_, err = e.orders.Revoke(e.ctx, e.org.ID, req)
			wantKind(t, err, fault.Invalid)
			if e.balance() != balance+c.want.BalanceDelta {
				t.Errorf("a second revoke moved money")
			}
		})
	}
}

// The refund window counts from the purchase (notes §5.3: "typically 60
// days from purchase"), as RefundInventory does. A unit bought into
// inventory and applied later must not become refundable again by being
// applied: otherwise revoke-with-refund turns inventory that is too old
// to refund into balance.
func TestRevokeRefundWindowCountsFromPurchase(t *testing.T) {
	e := newEnv(t, envOptions{refunds: true})
	s := e.newESIM(b1GB)
	batch := e.buy(b2GB, 1)
	e.clock.Advance(100 * day)
	_, err := e.orders.RefundInventory(e.ctx, e.org.ID, batch.ID, 1)
	wantKind(t, err, fault.Invalid) // too old to refund from inventory
	if _, err := e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{ICCID: s.ICCID, Entries: []orders.ApplyEntry{{Name: b2GB}}}); err != nil {
		t.Fatal(err)
	}
	balance := e.balance()
	status, err := e.orders.Revoke(e.ctx, e.org.ID, orders.RevokeRequest{ICCID: s.ICCID, BundleName: b2GB, RefundToBalance: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.balance(); got != balance || status != "Successfully Revoked Bundle" {
		t.Errorf("revoke of a unit bought 100 days ago: %q, balance %s → %s; want no refund", status, balance, got)
	}
}
