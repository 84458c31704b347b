package orders

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

// ApplyEntry is one bundle name to apply, repeat times (POST /esims/apply).
type ApplyEntry struct {
	Name          string
	Repeat        int // new eSIMs to create; 0 means 1
	AllowReassign bool
	// StartTime is when a bundle that does not start automatically
	// (autostart false) starts, in the organisation's time: the deprecated
	// apply's startTime. Zero: on first use.
	StartTime time.Time
}

// ApplyRequest is POST /esims/apply in any of its forms: one bundle onto
// an existing eSIM (ICCID set), one bundle onto new eSIMs, or a list.
type ApplyRequest struct {
	ICCID   string
	Entries []ApplyEntry
}

// Applied is the outcome of an apply: its order and the eSIM of each unit
// (empty while processing).
type Applied struct {
	Order Order
	Units []AppliedUnit
}

// AppliedUnit is one bundle put on one eSIM.
type AppliedUnit struct {
	ICCID  string
	Bundle string
}

// Apply draws bundles from inventory (oldest batch first) and applies them,
// recording a bundleAssignment order with one line per bundle. More than
// AsyncThreshold bundles finish in the background. Errors: Invalid,
// Forbidden (no inventory left for a bundle; ICCID not the
// organisation's).
func (s *Service) Apply(ctx context.Context, orgID orgs.ID, req ApplyRequest) (Applied, error) {
	if len(req.Entries) == 0 {
		return Applied{}, fault.Invalidf("name (or bundles) is required: the bundle to apply from your inventory")
	}
	for i, e := range req.Entries {
		if e.Name == "" {
			return Applied{}, fault.Invalidf("bundle %d: name is required", i+1)
		}
		if e.Repeat < 0 || e.Repeat > 1000 {
			return Applied{}, fault.Invalidf("bundle %s: repeat must be 1 to 1000, got %d", e.Name, e.Repeat)
		}
		if req.ICCID != "" && e.Repeat > 1 {
			return Applied{}, fault.Invalidf("repeat is not allowed with iccid: one bundle is applied to that eSIM")
		}
	}
	var out Applied
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		out = Applied{} // a retried transaction starts again
		org, err := s.store.Organisation(ctx, orgID)
		if err != nil {
			return err
		}
		now := org.Now(s.now())
		if req.ICCID != "" {
			e, err := s.esims.Get(ctx, orgID, req.ICCID)
			if err != nil {
				return err
			}
			if e.State == esims.StateDeactivated {
				return fault.Invalidf("eSIM %s is deactivated; bundles cannot be applied to it", e.ICCID)
			}
		}
		o := Order{OrgID: orgID, Reference: newReference(), Kind: KindBundleAssignment, Status: StatusCompleted,
			Assigned: true, Currency: org.Currency, RunningBalance: org.Balance, CreatedAt: now}
		// Units are planned from the batches as read, and the batches are
		// drawn down last, like an order's debit: the batch rows are then
		// locked only for the draw and the commit. A batch another apply
		// emptied meanwhile fails the draw, and the store runs the whole
		// transaction again on fresh figures.
		// Entries of the same bundle share its batches: each entry draws
		// from what the entries before it left (oldest batch first), so
		// [X, X] or repeat: N never plans more of a batch than it holds.
		draws := map[int64]int{}          // batch ID → units to take
		needed := map[string]int{}        // bundle name → units the entries so far need
		batchesOf := map[string][]Batch{} // read once per bundle name
		for _, e := range req.Entries {
			n := max(e.Repeat, 1)
			batches, read := batchesOf[e.Name]
			if !read {
				if batches, err = s.store.Batches(ctx, orgID, e.Name, now); err != nil {
					return err
				}
				batchesOf[e.Name] = batches
			}
			have := 0
			for _, b := range batches {
				have += b.Remaining
			}
			if needed[e.Name] += n; have < needed[e.Name] {
				return fault.Forbiddenf("no available %s bundles left in inventory: %d needed, %d available; buy them with POST /orders (assign: false)", e.Name, needed[e.Name], have)
			}
			for _, b := range batches {
				take := min(n, b.Remaining-draws[b.ID])
				if take <= 0 {
					continue
				}
				draws[b.ID] += take
				for range take {
					u := applyUnit{Bundle: e.Name, BatchID: b.ID, Price: int64(b.Price), ICCID: req.ICCID, AllowReassign: e.AllowReassign}
					if !e.StartTime.IsZero() {
						t := e.StartTime.UTC()
						u.StartTime = &t
					}
					k := len(o.Lines)
					o.Lines = append(o.Lines, Line{No: k, Type: LineBundleAssignment, Item: fmt.Sprintf("%s-%d", o.Reference, k), Requested: []string{u.encode()}})
				}
				if n -= take; n == 0 {
					break
				}
			}
		}
		async := len(o.Lines) > AsyncThreshold
		if async {
			o.Status, o.StatusMessage = StatusProcessing, fmt.Sprintf("Bundle assignment processing: %d bundles", len(o.Lines))
		} else {
			o.StatusMessage = fmt.Sprintf("Bundle assignment completed: %d bundles applied", len(o.Lines))
			o.CompletedAt = &now
		}
		if err := s.store.InsertOrder(ctx, &o); err != nil {
			return err
		}
		out.Order = o
		if async {
			if err := s.store.ScheduleDue(ctx, esims.DueItem{OrgID: orgID, Kind: esims.DueApplyAssign, SubjectID: o.ID, DueAt: now}); err != nil {
				return err
			}
		} else if out.Units, err = s.assignApply(ctx, &org, &o); err != nil {
			return err
		}
		s.enterGate(ctx, orgID)
		// In batch ID order, so that two applies drawing on the same
		// batches lock them in the same order.
		for _, id := range slices.Sorted(maps.Keys(draws)) {
			if err := s.store.AdjustBatch(ctx, id, -draws[id]); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && out.Order.Status == StatusProcessing {
		s.store.AfterTx(ctx, s.kick) // once the apply is visible, as in Place
	}
	return out, err
}

// assignApply puts each unit of an apply on its eSIM: the given ICCID
// (unless incompatible and reassignment is allowed) or a new eSIM.
func (s *Service) assignApply(ctx context.Context, org *orgs.Organisation, o *Order) ([]AppliedUnit, error) {
	snap := s.cat.Current(ctx)
	out := make([]AppliedUnit, 0, len(o.Lines))
	for i, l := range o.Lines {
		u, err := decodeApplyUnit(l)
		if err != nil {
			return nil, err
		}
		b, ok := snap.Bundle(u.Bundle)
		if !ok {
			return nil, fault.Invalidf("bundle %q is no longer in the catalogue", u.Bundle)
		}
		var target *esims.ESIM
		if u.ICCID != "" {
			e, err := s.esims.Get(ctx, org.ID, u.ICCID)
			if err != nil {
				return nil, err
			}
			switch {
			case esims.Compatible(&e, &b):
				target = &e
			case !u.AllowReassign:
				return nil, fault.Invalidf("bundle %s (%s) is not compatible with eSIM %s (%s); set allowReassign to put it on a new eSIM", b.Name, b.Profile, e.ICCID, e.Profile)
			}
		}
		if target == nil {
			made, err := s.esims.Provision(ctx, org, b.Profile, 1, "")
			if err != nil {
				return nil, err
			}
			target = &made[0]
		}
		batch := u.BatchID
		var start time.Time
		if u.StartTime != nil {
			start = *u.StartTime
		}
		if _, err := s.esims.AssignStartingAt(ctx, org, target, &b, o.ID, fmt.Sprintf("%s-%d", o.Reference, i), money.Amount(u.Price), &batch, start); err != nil {
			return nil, err
		}
		out = append(out, AppliedUnit{ICCID: target.ICCID, Bundle: b.Name})
	}
	return out, nil
}
