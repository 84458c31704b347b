package orders

import (
	"context"
	"fmt"
	"time"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// RevokeRequest names the assignment to revoke.
type RevokeRequest struct {
	ICCID      string
	BundleName string
	// AssignmentID picks one assignment; 0 picks by name: the oldest unused
	// one, else the most recent one still live (notes §0.3.5).
	AssignmentID    int64
	ValidateOnly    bool
	RefundToBalance bool
}

// Revoke ends an assignment. When refunds are enabled, the assignment never
// started and it is inside the refund window, the bundle goes back to
// inventory (or, with RefundToBalance, its price to the balance); otherwise
// it is revoked without refund. ValidateOnly reports what would happen.
// Returns eSIM Go's status sentence. Errors: Invalid, Forbidden.
func (s *Service) Revoke(ctx context.Context, orgID orgs.ID, r RevokeRequest) (string, error) {
	var status string
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		org, err := s.store.Organisation(ctx, orgID)
		if err != nil {
			return err
		}
		e, err := s.esims.Get(ctx, orgID, r.ICCID)
		if err != nil {
			return err
		}
		as, err := s.store.AssignmentsOfESIM(ctx, e.ID)
		if err != nil {
			return err
		}
		a, err := pickRevocable(as, r)
		if err != nil {
			return err
		}
		now := org.Now(s.now())
		unused := !a.Used && (a.State == esims.BundleQueued || a.State == esims.BundleProcessing)
		// The refund window runs from the purchase: a bundle bought into
		// inventory long ago does not get a new window by being applied.
		bought := a.AssignedAt
		var batch *Batch
		if a.BatchID != nil {
			b, err := s.store.Batch(ctx, *a.BatchID)
			if err != nil {
				return err
			}
			batch, bought = &b, b.PurchasedAt
		}
		inWindow := now.Sub(bought) <= time.Duration(org.RefundWindowDays)*24*time.Hour
		refund := org.RefundsEnabled && unused && inWindow
		why := ""
		switch {
		case !org.RefundsEnabled:
			why = "refunds are not enabled for this organisation"
		case !unused:
			why = "the bundle has started"
		case !inWindow:
			why = fmt.Sprintf("it was applied more than %d days ago", org.RefundWindowDays)
		}
		if r.ValidateOnly {
			switch {
			case refund && r.RefundToBalance:
				status = fmt.Sprintf("Bundle can be revoked and %s refunded to balance", a.Price)
			case refund:
				status = "Bundle can be revoked and refunded to inventory"
			default:
				status = "Bundle can be revoked without refund: " + why
			}
			return nil
		}
		hist := ""
		switch {
		case refund && r.RefundToBalance:
			hist = esims.HistBundleRefundBalance
			if a.Price > 0 {
				entry := orgs.LedgerEntry{OrgID: orgID, Kind: orgs.LedgerRefund, Amount: a.Price, Reference: a.Reference,
					Description: "Refund of revoked " + a.BundleName, CreatedAt: now}
				if err := s.store.AddLedgerEntry(ctx, &entry); err != nil {
					return err
				}
			}
			status = "Successfully Revoked Bundle, bundle has been refunded to balance"
		case refund:
			hist = esims.HistBundleRefundInv
			if err := s.returnToInventory(ctx, &org, a, batch, now); err != nil {
				return err
			}
			status = "Successfully Revoked Bundle, bundle has been refunded to inventory"
		default:
			status = "Successfully Revoked Bundle"
		}
		return s.esims.RevokeAssignment(ctx, &e, a, now, hist)
	})
	return status, err
}

// pickRevocable finds the assignment a revoke means.
func pickRevocable(as []esims.Assignment, r RevokeRequest) (*esims.Assignment, error) {
	if r.AssignmentID != 0 {
		for i := range as {
			if as[i].ID == r.AssignmentID {
				a := &as[i]
				if a.BundleName != r.BundleName {
					return nil, fault.Invalidf("assignment %d is a %s bundle, not %s", r.AssignmentID, a.BundleName, r.BundleName)
				}
				if a.State.Ended() {
					return nil, fault.Invalidf("assignment %d is already %s and cannot be revoked", r.AssignmentID, a.State)
				}
				return a, nil
			}
		}
		return nil, fault.Invalidf("eSIM %s has no assignment %d", r.ICCID, r.AssignmentID)
	}
	for i := range as { // oldest unused first
		if as[i].BundleName == r.BundleName && !as[i].Used && (as[i].State == esims.BundleQueued || as[i].State == esims.BundleProcessing) {
			return &as[i], nil
		}
	}
	for i := len(as) - 1; i >= 0; i-- {
		if as[i].BundleName == r.BundleName && !as[i].State.Ended() {
			return &as[i], nil
		}
	}
	return nil, fault.Invalidf("eSIM %s has no live %s bundle to revoke (GET /esims/%s/bundles lists them)", r.ICCID, r.BundleName, r.ICCID)
}

// returnToInventory puts a revoked unit back: into the batch it came from
// while that has room, else into a new one-unit batch with the original
// purchase and expiry dates (the unit was bought when it was assigned if it
// never sat in inventory).
func (s *Service) returnToInventory(ctx context.Context, org *orgs.Organisation, a *esims.Assignment, from *Batch, now time.Time) error {
	bought, expires := a.AssignedAt, InventoryExpiry(a.AssignedAt)
	if from != nil {
		if now.Before(from.ExpiresAt) && from.Remaining < from.Total {
			return s.store.AdjustBatch(ctx, from.ID, 1)
		}
		bought, expires = from.PurchasedAt, from.ExpiresAt
	}
	b := Batch{OrgID: org.ID, BundleName: a.BundleName, OrderID: a.OrderID, Total: 1, Remaining: 1, Price: a.Price,
		PurchasedAt: bought, ExpiresAt: expires}
	return s.store.InsertBatch(ctx, &b)
}
