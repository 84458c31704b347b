package orders

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"strconv"
	"time"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

// Service is the order use cases.
type Service struct {
	store Store
	esims *esims.Service
	cat   *catalogue.Service
	now   func() time.Time
	// kick wakes the due-work worker after an asynchronous order is queued.
	kick func()
	// placed, when set, is told of every order committed (metrics).
	placed func(Order)
}

// OnPlaced sets fn to be told of every order placed (not validations),
// after its transaction committed. Call it before the service is used.
func (s *Service) OnPlaced(fn func(Order)) { s.placed = fn }

// NewService returns the order use cases and registers the handlers of
// asynchronous orders and applies with the eSIM engine.
func NewService(store Store, engine *esims.Service, cat *catalogue.Service, now func() time.Time, kick func()) *Service {
	if now == nil {
		now = time.Now
	}
	if kick == nil {
		kick = func() {}
	}
	s := &Service{store: store, esims: engine, cat: cat, now: now, kick: kick}
	engine.HandleDue(esims.DueOrderAssign, s.dueAssign)
	engine.HandleDue(esims.DueApplyAssign, s.dueAssign)
	return s
}

// newReference returns a random UUID (version 4), as eSIM Go's order and
// apply references are.
func newReference() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// LineRequest is one line of POST /orders.
type LineRequest struct {
	Type          string
	Quantity      int
	Item          string
	ICCIDs        []string
	AllowReassign bool
}

// Request is POST /orders.
type Request struct {
	Type      string // validate or transaction
	Assign    bool
	Lines     []LineRequest
	ProfileID string
}

// Placed is the outcome of an order: the order and, per line, the eSIMs
// it put the bundles on (empty while processing or for inventory).
type Placed struct {
	Order Order
	Valid bool // validate only
	ESIMs [][]esims.ESIM
}

// priced is a validated line.
type priced struct {
	req    LineRequest
	bundle catalogue.Bundle
	sub    money.Amount
}

// validate runs every check of an order and writes nothing.
func (s *Service) validate(ctx context.Context, org *orgs.Organisation, req Request) ([]priced, money.Amount, error) {
	switch req.Type {
	case "validate", "transaction":
	default:
		return nil, 0, fault.Invalidf("type must be \"validate\" or \"transaction\", got %q", req.Type)
	}
	if len(req.Lines) == 0 {
		return nil, 0, fault.Invalidf("order must list at least one bundle, e.g. {\"type\":\"bundle\",\"item\":\"esim_1GB_7D_GB_V2\",\"quantity\":1}")
	}
	if len(req.Lines) > 100 {
		return nil, 0, fault.Invalidf("an order may have at most 100 lines, got %d", len(req.Lines))
	}
	if req.ProfileID != "" && !req.Assign {
		return nil, 0, fault.Invalidf("profileID is allowed only with assign: true")
	}
	snap := s.cat.Current(ctx)
	if snap.Currency != "" && org.Currency != snap.Currency {
		return nil, 0, fault.Invalidf("the catalogue is priced in %s but this organisation's currency is %s; ask the operator to align them", snap.Currency, org.Currency)
	}
	var total money.Amount
	seen := map[string]bool{}
	out := make([]priced, 0, len(req.Lines))
	for i, l := range req.Lines {
		n := i + 1
		if l.Type != LineBundle {
			return nil, 0, fault.Invalidf("order line %d: type must be \"bundle\", got %q", n, l.Type)
		}
		if l.Quantity < 1 || l.Quantity > 1000 {
			return nil, 0, fault.Invalidf("order line %d: quantity must be 1 to 1000, got %d", n, l.Quantity)
		}
		b, ok := snap.Bundle(l.Item)
		if !ok || !b.VisibleTo(org.Groups) {
			return nil, 0, fault.Invalidf("order line %d: bundle %q is not in the catalogue; names are case-sensitive", n, l.Item)
		}
		if len(l.ICCIDs) > 0 {
			if !req.Assign {
				return nil, 0, fault.Invalidf("order line %d: iccids are allowed only with assign: true", n)
			}
			if len(l.ICCIDs) != l.Quantity {
				return nil, 0, fault.Invalidf("order line %d: quantity (%d) must equal the number of iccids (%d)", n, l.Quantity, len(l.ICCIDs))
			}
			for _, iccid := range l.ICCIDs {
				if seen[iccid] {
					return nil, 0, fault.Invalidf("order line %d: ICCID %s appears more than once in the order", n, iccid)
				}
				seen[iccid] = true
				e, err := s.esims.Get(ctx, org.ID, iccid)
				if err != nil {
					return nil, 0, err
				}
				if e.State == esims.StateDeactivated {
					return nil, 0, fault.Invalidf("order line %d: eSIM %s is deactivated", n, iccid)
				}
				if !esims.Compatible(&e, &b) && !l.AllowReassign {
					return nil, 0, fault.Invalidf("order line %d: bundle %s (%s) is not compatible with eSIM %s (%s); set allowReassign to put it on a new eSIM", n, b.Name, b.Profile, iccid, e.Profile)
				}
			}
		}
		sub, ok := b.Price.Mul(int64(l.Quantity))
		if !ok {
			return nil, 0, fault.Invalidf("order line %d: the amount is too large", n)
		}
		if total, ok = total.Add(sub); !ok {
			return nil, 0, fault.Invalidf("the order total is too large")
		}
		out = append(out, priced{req: l, bundle: b, sub: sub})
	}
	if total > org.Balance {
		return out, total, errInsufficient(total, org.Balance, org.Currency)
	}
	return out, total, nil
}

func errInsufficient(need, have money.Amount, currency string) error {
	return fault.Invalidf("insufficient balance: the order costs %s %s and the balance is %s %s; top up and retry", need, currency, have, currency)
}

// Place validates or executes an order. A transaction debits the balance
// and either stocks the inventory or puts the bundles on eSIMs (new ones,
// or the given ICCIDs), in one database transaction; more than
// AsyncThreshold bundles to assign are finished in the background.
// Errors: Invalid (with an InsufficientBalance notification when the
// balance is short), Forbidden (an ICCID of another organisation).
func (s *Service) Place(ctx context.Context, orgID orgs.ID, req Request, sourceIP string) (Placed, error) {
	var out Placed
	var insufficient bool
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		org, err := s.store.Organisation(ctx, orgID)
		if err != nil {
			return err
		}
		now := org.Now(s.now())
		lines, total, err := s.validate(ctx, &org, req)
		if err != nil {
			if req.Type == "transaction" && lines != nil {
				insufficient = true
			}
			return err
		}
		o := Order{OrgID: org.ID, Reference: newReference(), Kind: KindOrder, Status: StatusCompleted, Assigned: req.Assign,
			Total: total, Currency: org.Currency, SourceIP: sourceIP, RunningBalance: org.Balance, ProfileID: req.ProfileID, CreatedAt: now}
		units := 0
		for i, l := range lines {
			o.Lines = append(o.Lines, Line{No: i, Type: LineBundle, Item: l.bundle.Name, Quantity: l.req.Quantity,
				PricePerUnit: l.bundle.Price, SubTotal: l.sub, AllowReassign: l.req.AllowReassign, Requested: l.req.ICCIDs})
			units += l.req.Quantity
		}
		if req.Type == "validate" {
			out = Placed{Order: o, Valid: true}
			return nil
		}
		// Provisional: the debit below, made last, settles it.
		o.RunningBalance = org.Balance - total
		async := req.Assign && units > AsyncThreshold
		if async {
			o.Status, o.StatusMessage = StatusProcessing, fmt.Sprintf("Order processing: %d eSIMs being assigned", units)
		} else {
			o.StatusMessage = "Order completed"
			if req.Assign {
				o.StatusMessage = fmt.Sprintf("Order completed: %d eSIMs assigned", units)
			}
			t := now
			o.CompletedAt = &t
		}
		if err := s.store.InsertOrder(ctx, &o); err != nil {
			return err
		}
		var made [][]esims.ESIM
		switch {
		case !req.Assign:
			for _, l := range o.Lines {
				b := Batch{OrgID: org.ID, BundleName: l.Item, OrderID: o.ID, Total: l.Quantity, Remaining: l.Quantity,
					Price: l.PricePerUnit, PurchasedAt: now, ExpiresAt: InventoryExpiry(now)}
				if err := s.store.InsertBatch(ctx, &b); err != nil {
					return err
				}
			}
		case async:
			if err := s.store.ScheduleDue(ctx, esims.DueItem{OrgID: org.ID, Kind: esims.DueOrderAssign, SubjectID: o.ID, DueAt: now}); err != nil {
				return err
			}
		default:
			if made, err = s.assignOrder(ctx, &org, &o); err != nil {
				return err
			}
		}
		// The debit comes last. It locks the organisation's balance until
		// the transaction ends (on PostgreSQL, a row lock that every other
		// order of the organisation on every node waits for), so the lock
		// is held for the debit and the commit only, not for the eSIM work
		// above. validate already refused what the balance could not pay;
		// the debit's own check settles a race with another order.
		if total > 0 {
			threshold, err := s.balanceThreshold(ctx, org.ID) // read before the lock is taken
			if err != nil {
				return err
			}
			s.enterGate(ctx, org.ID)
			e := orgs.LedgerEntry{OrgID: org.ID, Kind: orgs.LedgerOrder, Amount: -total, Reference: o.Reference,
				Description: fmt.Sprintf("Order of %d bundle(s)", units), CreatedAt: now}
			if err := s.store.AddLedgerEntry(ctx, &e); err != nil {
				if fault.Is(err, fault.Invalid) {
					// Another order spent the balance after validate read it.
					insufficient = true
					have := org.Balance
					if now, err := s.store.Organisation(ctx, org.ID); err == nil {
						have = now.Balance
					}
					return errInsufficient(total, have, org.Currency)
				}
				return err
			}
			if e.BalanceAfter != o.RunningBalance {
				o.RunningBalance = e.BalanceAfter // another order was debited meanwhile
				if err := s.store.UpdateOrder(ctx, &o); err != nil {
					return err
				}
			}
			if err := s.lowBalance(ctx, org.ID, e.BalanceAfter+total, e.BalanceAfter, threshold, now); err != nil {
				return err
			}
		}
		out = Placed{Order: o, ESIMs: made}
		return nil
	})
	if err != nil && insufficient {
		s.insufficientBalance(ctx, orgID)
	}
	if err == nil && out.Order.Status == StatusProcessing {
		// Once the order is visible: it may be part of a larger
		// transaction (an idempotent request's) that commits later.
		s.store.AfterTx(ctx, s.kick)
	}
	if err == nil && !out.Valid && s.placed != nil {
		s.placed(out.Order)
	}
	return out, err
}

// enterGate takes the organisation's debit gate (Store.Gate) for the rest
// of the transaction in ctx: an order before its debit, an apply before
// drawing its batches. The hot rows of an organisation (its balance, its
// inventory batches) stay locked from the statement that changes them to
// the commit; the gate keeps a node's other use cases of that organisation
// from queueing on those rows meanwhile.
func (s *Service) enterGate(ctx context.Context, org orgs.ID) {
	s.store.Gate(ctx, "debit:"+strconv.FormatInt(int64(org), 10))
}

// InsufficientBalanceLimit is how many InsufficientBalance notifications
// one episode sends (notes §4.2: "sent up to 10 times"). An episode runs
// from the first refused order until the balance is topped up; refusals
// beyond the limit are refused as before, silently.
const InsufficientBalanceLimit = 10

// insufficientBalance records the InsufficientBalance notification in its
// own transaction, since the order's was rolled back: the balance, the
// organisation's alert threshold and the balance as a percentage of it,
// like LowBalance. A top-up (or a credit) since the episode began starts a
// new one.
func (s *Service) insufficientBalance(ctx context.Context, orgID orgs.ID) {
	_ = s.store.InTx(context.WithoutCancel(ctx), func(ctx context.Context) error {
		org, err := s.store.Organisation(ctx, orgID)
		if err != nil {
			return err
		}
		topup, err := s.store.LatestLedgerID(ctx, orgID, orgs.LedgerTopup, orgs.LedgerCredit)
		if err != nil {
			return err
		}
		n, err := s.store.CountInsufficientBalance(ctx, orgID, topup)
		if err != nil || n > InsufficientBalanceLimit {
			return err
		}
		threshold, err := s.balanceThreshold(ctx, orgID)
		if err != nil {
			return err
		}
		var pct int64
		if threshold > 0 {
			pct = int64(org.Balance) * 100 / int64(threshold)
		}
		return s.esims.EmitOrgEvent(ctx, orgID, events.Balance{AlertType: events.KindInsufficientBalance,
			BalanceInfo: events.BalanceInfo{Balance: org.Balance, Threshold: threshold, ThresholdPercentRemaining: pct}}, org.Now(s.now()))
	})
}

// assignOrder puts an order's bundles on eSIMs: the requested ICCIDs where
// compatible, new eSIMs otherwise (allowReassign, or no ICCIDs given).
// References are <order reference>-<n>, n counting from 0 across the order.
func (s *Service) assignOrder(ctx context.Context, org *orgs.Organisation, o *Order) ([][]esims.ESIM, error) {
	snap := s.cat.Current(ctx)
	out := make([][]esims.ESIM, len(o.Lines))
	n := 0
	for i, l := range o.Lines {
		b, ok := snap.Bundle(l.Item)
		if !ok {
			return nil, fault.Invalidf("bundle %q left the catalogue before the order was assigned", l.Item)
		}
		targets := make([]*esims.ESIM, l.Quantity)
		fresh := 0
		for j := range l.Quantity {
			if j < len(l.Requested) {
				e, err := s.esims.Get(ctx, org.ID, l.Requested[j])
				if err != nil {
					return nil, err
				}
				if esims.Compatible(&e, &b) {
					targets[j] = &e
					continue
				}
				if !l.AllowReassign {
					return nil, fault.Invalidf("bundle %s is not compatible with eSIM %s", b.Name, e.ICCID)
				}
			}
			fresh++
		}
		var made []esims.ESIM
		if fresh > 0 {
			var err error
			if made, err = s.esims.Provision(ctx, org, b.Profile, fresh, o.ProfileID); err != nil {
				return nil, err
			}
		}
		for j := range targets {
			if targets[j] == nil {
				targets[j], made = &made[0], made[1:]
			}
			if _, err := s.esims.Assign(ctx, org, targets[j], &b, o.ID, fmt.Sprintf("%s-%d", o.Reference, n), l.PricePerUnit, nil); err != nil {
				return nil, err
			}
			n++
			out[i] = append(out[i], *targets[j])
		}
	}
	return out, nil
}

// dueAssign finishes an asynchronous order or apply.
func (s *Service) dueAssign(ctx context.Context, d esims.DueItem) error {
	o, err := s.store.OrderByID(ctx, d.SubjectID)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil || o.Status != StatusProcessing {
		return err
	}
	org, err := s.store.Organisation(ctx, o.OrgID)
	if err != nil {
		return err
	}
	// A savepoint, so that a failure undoes the eSIMs and assignments made
	// before it and the refund below is the order's only effect.
	err = s.store.Savepoint(ctx, func(ctx context.Context) error {
		var err error
		if o.Kind == KindBundleAssignment {
			_, err = s.assignApply(ctx, &org, &o)
		} else {
			_, err = s.assignOrder(ctx, &org, &o)
		}
		return err
	})
	if err != nil {
		if fault.KindOf(err) == fault.Internal {
			return err // retried on the next tick
		}
		return s.fail(ctx, &org, &o, err)
	}
	now := org.Now(s.now())
	units := 0
	for _, l := range o.Lines {
		units += max(l.Quantity, 1)
	}
	o.Status, o.CompletedAt = StatusCompleted, &now
	o.StatusMessage = fmt.Sprintf("Order completed: %d eSIMs assigned", units)
	if o.Kind == KindBundleAssignment {
		o.StatusMessage = fmt.Sprintf("Bundle assignment completed: %d bundles applied", len(o.Lines))
	}
	return s.store.UpdateOrder(ctx, &o)
}

// fail ends an asynchronous order that cannot complete (a bundle left the
// catalogue, the live pool ran dry) and gives the money back.
func (s *Service) fail(ctx context.Context, org *orgs.Organisation, o *Order, cause error) error {
	now := org.Now(s.now())
	o.Status, o.CompletedAt = StatusFailed, &now
	o.StatusMessage = "Order failed and was refunded: " + fault.MessageOf(cause)
	if o.Kind == KindBundleAssignment {
		// An apply paid with inventory: give the units back.
		for _, l := range o.Lines {
			u, err := decodeApplyUnit(l)
			if err != nil {
				return err
			}
			if err := s.store.AdjustBatch(ctx, u.BatchID, 1); err != nil {
				return err
			}
		}
	}
	if o.Total > 0 {
		e := orgs.LedgerEntry{OrgID: org.ID, Kind: orgs.LedgerRefund, Amount: o.Total, Reference: o.Reference,
			Description: "Refund of failed order", CreatedAt: now}
		if err := s.store.AddLedgerEntry(ctx, &e); err != nil {
			return err
		}
	}
	return s.store.UpdateOrder(ctx, o)
}

// Get returns one of the organisation's orders, whatever its status.
// Errors: Invalid for a malformed reference, Forbidden when it is unknown or
// another organisation's.
func (s *Service) Get(ctx context.Context, orgID orgs.ID, ref string) (Order, error) {
	if !validReference(ref) {
		return Order{}, fault.Invalidf("order reference %q is not a UUID", truncate(ref, 60))
	}
	o, err := s.store.OrderByReference(ctx, orgID, ref)
	if fault.Is(err, fault.NotFound) {
		return o, fault.Forbiddenf("order %s is not accessible by this organisation", ref)
	}
	return o, err
}

// ESIMsOfOrder returns, per line, the eSIMs an order put bundles on,
// including those since returned (esims.Service.Sold).
func (s *Service) ESIMsOfOrder(ctx context.Context, o *Order) ([][]esims.ESIM, error) {
	as, err := s.esims.AssignmentsOfOrder(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	out := make([][]esims.ESIM, len(o.Lines))
	k := 0
	for i, l := range o.Lines {
		units := l.Quantity
		if o.Kind == KindBundleAssignment {
			units = 1
		}
		for j := 0; j < units && k < len(as); j++ {
			// An eSIM the returns process took back is still what the
			// order sold: the order's history keeps it.
			e, err := s.esims.Sold(ctx, o.OrgID, as[k].ICCID)
			if err != nil {
				return nil, err
			}
			out[i] = append(out[i], e)
			k++
		}
	}
	return out, nil
}

// List returns a page of orders and the number that match.
func (s *Service) List(ctx context.Context, orgID orgs.ID, q Query) ([]Order, int, error) {
	if q.Page < 1 {
		q.Page = 1
	}
	if q.Limit < 1 || q.Limit > 1000 {
		return nil, 0, fault.Invalidf("limit must be 1 to 1000, got %d", q.Limit)
	}
	return s.store.ListOrders(ctx, orgID, q)
}

func validReference(ref string) bool {
	if len(ref) != 36 {
		return false
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// TopUp credits a sandbox organisation's balance (POST /organisation/balance).
// eSIM Go charges a saved card; esimd has no card, so live organisations are
// topped up by their operator (esimd org credit). Limits: at least 1000 per
// top-up and 5000 a day. Errors: Invalid, Forbidden.
func (s *Service) TopUp(ctx context.Context, orgID orgs.ID, amount money.Amount) (Order, orgs.LedgerEntry, error) {
	const minTopup, maxDaily = 1000 * money.Scale, 5000 * money.Scale
	var o Order
	var entry orgs.LedgerEntry
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		org, err := s.store.Organisation(ctx, orgID)
		if err != nil {
			return err
		}
		if !org.Sandbox {
			return fault.Forbiddenf("top-ups of live organisations are made by the operator (esimd org credit); no card is charged through the API")
		}
		if amount < minTopup {
			return fault.Invalidf("amount must be at least 1000 %s, got %s", org.Currency, amount)
		}
		now := org.Now(s.now())
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		done, err := s.store.TopupsSince(ctx, orgID, day)
		if err != nil {
			return err
		}
		if left := maxDaily - done; amount > left {
			return fault.Invalidf("top-ups are limited to 5000 %s a day; %s %s is left today", org.Currency, max(left, 0), org.Currency)
		}
		o = Order{OrgID: orgID, Reference: newReference(), Kind: KindTopup, Status: StatusCompleted, StatusMessage: "Top-up completed",
			Total: amount, Currency: org.Currency, CreatedAt: now, CompletedAt: &now,
			Lines: []Line{{Type: LineAPITopup, Item: "Balance top-up", Quantity: 1, PricePerUnit: amount, SubTotal: amount}}}
		entry = orgs.LedgerEntry{OrgID: orgID, Kind: orgs.LedgerTopup, Amount: amount, Reference: o.Reference, Description: "API top-up", CreatedAt: now}
		if err := s.store.AddLedgerEntry(ctx, &entry); err != nil {
			return err
		}
		o.RunningBalance = entry.BalanceAfter
		if err := s.store.InsertOrder(ctx, &o); err != nil {
			return err
		}
		return s.esims.EmitOrgEvent(ctx, orgID, events.Topup{AlertType: events.KindTopup,
			Bundle: events.Amounts{OldAmount: org.Balance, NewAmount: entry.BalanceAfter}}, now)
	})
	return o, entry, err
}

// InventoryItem is one bundle of the inventory with its batches.
type InventoryItem struct {
	Bundle  catalogue.Bundle
	Known   bool // false when the bundle has left the catalogue
	Batches []Batch
}

// Inventory lists the organisation's unexpired batches with units left,
// grouped by bundle, oldest batch first.
func (s *Service) Inventory(ctx context.Context, orgID orgs.ID) ([]InventoryItem, error) {
	org, err := s.store.Organisation(ctx, orgID)
	if err != nil {
		return nil, err
	}
	batches, err := s.store.Batches(ctx, orgID, "", org.Now(s.now()))
	if err != nil {
		return nil, err
	}
	snap := s.cat.Current(ctx)
	var out []InventoryItem
	idx := map[string]int{}
	for _, b := range batches {
		i, ok := idx[b.BundleName]
		if !ok {
			cb, known := snap.Bundle(b.BundleName)
			if !known {
				cb = catalogue.Bundle{Name: b.BundleName}
			}
			i = len(out)
			idx[b.BundleName] = i
			out = append(out, InventoryItem{Bundle: cb, Known: known})
		}
		out[i].Batches = append(out[i].Batches, b)
	}
	return out, nil
}

// RefundInventory returns unused inventory to the balance at the price
// paid. Errors: Forbidden (refunds off, batch not the organisation's),
// Invalid (quantity, refund window).
func (s *Service) RefundInventory(ctx context.Context, orgID orgs.ID, usageID int64, quantity int) (orgs.LedgerEntry, error) {
	var entry orgs.LedgerEntry
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		org, err := s.store.Organisation(ctx, orgID)
		if err != nil {
			return err
		}
		if !org.RefundsEnabled {
			return fault.Forbiddenf("refunds are not enabled for this organisation; ask the operator to enable them")
		}
		b, err := s.store.Batch(ctx, usageID)
		if fault.Is(err, fault.NotFound) || (err == nil && b.OrgID != orgID) {
			return fault.Forbiddenf("usageId %d is not accessible by this organisation; GET /inventory lists yours", usageID)
		}
		if err != nil {
			return err
		}
		now := org.Now(s.now())
		switch {
		case quantity < 1:
			return fault.Invalidf("quantity must be at least 1, got %d", quantity)
		case !now.Before(b.ExpiresAt):
			return fault.Invalidf("usageId %d expired on %s and cannot be refunded", usageID, b.ExpiresAt.Format(time.DateOnly))
		case quantity > b.Remaining:
			return fault.Invalidf("quantity %d is more than the %d unit(s) left in usageId %d", quantity, b.Remaining, usageID)
		case now.Sub(b.PurchasedAt) > time.Duration(org.RefundWindowDays)*24*time.Hour:
			return fault.Invalidf("usageId %d was bought on %s, outside the %d-day refund window", usageID, b.PurchasedAt.Format(time.DateOnly), org.RefundWindowDays)
		}
		if err := s.store.AdjustBatch(ctx, b.ID, -quantity); err != nil {
			return err
		}
		amount, _ := b.Price.Mul(int64(quantity))
		if amount == 0 {
			return nil
		}
		entry = orgs.LedgerEntry{OrgID: orgID, Kind: orgs.LedgerRefund, Amount: amount, Reference: fmt.Sprintf("usage-%d", b.ID),
			Description: fmt.Sprintf("Refund of %d × %s from inventory", quantity, b.BundleName), CreatedAt: now}
		return s.store.AddLedgerEntry(ctx, &entry)
	})
	return entry, err
}

// decodeApplyUnit reads what an asynchronous apply line needs.
func decodeApplyUnit(l Line) (applyUnit, error) {
	var u applyUnit
	if len(l.Requested) != 1 {
		return u, errors.New("apply line without its unit")
	}
	err := json.Unmarshal([]byte(l.Requested[0]), &u)
	return u, err
}

// applyUnit is one bundle of an apply, drawn from one batch.
type applyUnit struct {
	Bundle        string `json:"bundle"`
	BatchID       int64  `json:"batch"`
	Price         int64  `json:"price"`
	ICCID         string `json:"iccid,omitempty"`
	AllowReassign bool   `json:"allowReassign,omitempty"`
	// StartTime is the deprecated apply's startTime (ApplyEntry.StartTime).
	StartTime *time.Time `json:"startTime,omitempty"`
}

func (u applyUnit) encode() string {
	b, _ := json.Marshal(u)
	return string(b)
}

// balanceThreshold is the organisation's LowBalance alert threshold.
func (s *Service) balanceThreshold(ctx context.Context, orgID orgs.ID) (money.Amount, error) {
	st, err := s.store.CallbackSettings(ctx, orgID)
	return st.BalanceThreshold, err
}

// lowBalance emits LowBalance when a debit takes the balance across a level
// of the organisation's alert threshold (100 %, 75 %, 50 %, 10 %).
func (s *Service) lowBalance(ctx context.Context, orgID orgs.ID, before, after, threshold money.Amount, now time.Time) error {
	a, ok := notify.BalanceAlertFor(before, after, threshold)
	if !ok {
		return nil
	}
	return s.esims.EmitOrgEvent(ctx, orgID, a.Payload(), now)
}
