package esims

import (
	"context"
	"time"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

// MaxProvisioningDelay bounds the sandbox SM-DP+'s provisioning delay: eSIM
// Go says an assignment is usually instant and may take up to 10 minutes
// (notes §2.2 POST /orders, §3.1).
const MaxProvisioningDelay = 10 * time.Minute

// provisioningDelay is how long provisioning an assignment takes: what the
// sandbox organisation set for the built-in SM-DP+, nothing for live
// organisations (their profiles were downloaded into the pool ahead of
// time, see SMDP).
func (s *Service) provisioningDelay(ctx context.Context, org *orgs.Organisation) (time.Duration, error) {
	if !org.Sandbox {
		return 0, nil
	}
	return s.store.ProvisioningDelay(ctx, org.ID)
}

// AssignStartingAt is Assign with the deprecated apply's startTime: a
// bundle that does not start automatically (autostart false) starts at that
// instant of the organisation's clock instead of on first use. A zero start,
// or a bundle that starts automatically, starts on first use in a country
// it covers. The assignment is processing until the SM-DP+ has provisioned
// it (at once unless a sandbox organisation set a delay), then queued.
func (s *Service) AssignStartingAt(ctx context.Context, org *orgs.Organisation, e *ESIM, b *catalogue.Bundle, orderID int64, reference string, price money.Amount, batchID *int64, start time.Time) (Assignment, error) {
	if err := s.store.RequireTx(ctx, "esims.Assign"); err != nil {
		return Assignment{}, err
	}
	if e.State == StateDeactivated {
		return Assignment{}, fault.Invalidf("eSIM %s is deactivated; bundles cannot be applied to it", e.ICCID)
	}
	if !Compatible(e, b) {
		return Assignment{}, fault.Invalidf("bundle %s (%s) is not compatible with eSIM %s (%s); order it with allowReassign to get a new eSIM", b.Name, b.Profile, e.ICCID, e.Profile)
	}
	delay, err := s.provisioningDelay(ctx, org)
	if err != nil {
		return Assignment{}, err
	}
	now := s.OrgNow(org)
	a := Assignment{OrgID: org.ID, ESIMID: e.ID, ICCID: e.ICCID, OrderID: orderID, Reference: reference, BundleName: b.Name,
		Description: b.Description, Profile: b.Profile, State: BundleProcessing, Unlimited: b.Unlimited,
		InitialBytes: b.DataBytes, RemainingBytes: b.DataBytes, DurationDays: b.DurationDays, Autostart: b.Autostart,
		Price: price, BatchID: batchID, AssignedAt: now, LapsesAt: LapsesAt(now)}
	if !b.Autostart && !start.IsZero() {
		t := start.UTC()
		a.StartAt = &t
	}
	if delay == 0 {
		// Provisioned within this transaction: nothing can see it processing.
		// The history names no provisioning event (notes §3.4), so none is
		// written.
		a.State = BundleQueued
	}
	for _, al := range b.Allowances {
		switch al.Type {
		case catalogue.AllowanceVoice:
			a.InitialMinutes, a.RemainingMinutes = al.Amount, al.Amount
		case catalogue.AllowanceSMS:
			a.InitialSMS, a.RemainingSMS = al.Amount, al.Amount
		}
	}
	if err := s.store.InsertAssignment(ctx, &a); err != nil {
		return a, err
	}
	if err := s.store.ScheduleDue(ctx, DueItem{OrgID: org.ID, Kind: DueBundleLapse, SubjectID: a.ID, DueAt: a.LapsesAt}); err != nil {
		return a, err
	}
	if delay > 0 {
		if err := s.store.ScheduleDue(ctx, DueItem{OrgID: org.ID, Kind: DueBundleProvision, SubjectID: a.ID, DueAt: now.Add(delay)}); err != nil {
			return a, err
		}
	} else if err := s.scheduleStart(ctx, e, &a, now); err != nil {
		return a, err
	}
	e.LastAction, e.LastActionAt, e.LastActivityAt = HistBundleApplied, now, now
	if e.DeletionDueAt != nil {
		// Applying a bundle within the grace period cancels the deletion.
		e.DeletionDueAt = nil
		if err := s.store.CancelDue(ctx, DueDeletion, e.ID); err != nil {
			return a, err
		}
	}
	if err := s.scheduleInactivity(ctx, e); err != nil {
		return a, err
	}
	// A voice or SMS bundle gives the eSIM its number as it is added.
	if err := s.syncMSISDN(ctx, e, now, ""); err != nil {
		return a, err
	}
	if err := s.store.UpdateESIM(ctx, e); err != nil {
		return a, err
	}
	return a, s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistBundleApplied, BundleName: b.Name, At: now})
}

// scheduleStart arranges a queued assignment's scheduled start: at its
// StartAt, or now when that has passed. Without StartAt it waits for use.
func (s *Service) scheduleStart(ctx context.Context, e *ESIM, a *Assignment, now time.Time) error {
	if a.StartAt == nil {
		return nil
	}
	if a.StartAt.After(now) {
		return s.store.ScheduleDue(ctx, DueItem{OrgID: a.OrgID, Kind: DueBundleStart, SubjectID: a.ID, DueAt: *a.StartAt})
	}
	return s.startScheduled(ctx, e, a, now)
}

// startScheduled starts a queued assignment at its start time, unless
// another bundle of the eSIM is running then: one active bundle per eSIM,
// so this one waits in the queue and starts on first use after that one
// ends, like any queued bundle whose start time has passed.
func (s *Service) startScheduled(ctx context.Context, e *ESIM, a *Assignment, at time.Time) error {
	as, err := s.store.AssignmentsOfESIM(ctx, a.ESIMID)
	if err != nil {
		return err
	}
	for _, x := range as {
		if x.State == BundleActive && x.ID != a.ID {
			return nil
		}
	}
	end := at.Add(time.Duration(a.DurationDays) * 24 * time.Hour)
	a.State, a.StartedAt, a.EndsAt = BundleActive, &at, &end
	if err := s.store.UpdateAssignment(ctx, a); err != nil {
		return err
	}
	if err := s.store.CancelDue(ctx, DueBundleLapse, a.ID); err != nil {
		return err
	}
	if err := s.store.ScheduleDue(ctx, DueItem{OrgID: a.OrgID, Kind: DueBundleExpiry, SubjectID: a.ID, DueAt: end}); err != nil {
		return err
	}
	// Not "eSIM First Use" nor FirstUse: nothing was used yet.
	if !hasVoice(a) && !hasSMS(a) {
		return nil
	}
	return s.syncMSISDN(ctx, e, at, "") // gives the number; no reason to take one

}

// dueProvision ends an assignment's processing: the SM-DP+ is done, the
// bundle queues (and starts when its start time has come).
func (s *Service) dueProvision(ctx context.Context, d DueItem) error {
	a, err := s.store.Assignment(ctx, d.SubjectID)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil || a.State != BundleProcessing {
		return err
	}
	a.State = BundleQueued
	if err := s.store.UpdateAssignment(ctx, &a); err != nil {
		return err
	}
	if a.StartAt == nil {
		return nil
	}
	e, err := s.store.ESIMByID(ctx, a.ESIMID)
	if err != nil {
		return err
	}
	if err := s.scheduleStart(ctx, &e, &a, d.DueAt); err != nil {
		return err
	}
	return s.store.UpdateESIM(ctx, &e)
}

// dueStart starts a bundle at its scheduled start time.
func (s *Service) dueStart(ctx context.Context, d DueItem) error {
	a, err := s.store.Assignment(ctx, d.SubjectID)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	// A processing one starts when provisioning ends (dueProvision).
	if err != nil || a.State != BundleQueued {
		return err
	}
	e, err := s.store.ESIMByID(ctx, a.ESIMID)
	if err != nil || e.State == StateDeactivated {
		return err
	}
	if err := s.startScheduled(ctx, &e, &a, d.DueAt); err != nil {
		return err
	}
	return s.store.UpdateESIM(ctx, &e)
}

// waitsForStart reports whether a queued assignment has a start time still
// to come: until then use does not start it.
func (a *Assignment) waitsForStart(at time.Time) bool {
	return a.StartAt != nil && a.StartAt.After(at)
}

// deplete ends an active assignment's use when nothing of it is left. It
// stays depleted until its validity is over, when the expiry it keeps makes
// it expired (notes §3.1: depleted is "no data left but still inside
// validity").
func (s *Service) deplete(ctx context.Context, e *ESIM, a *Assignment, at time.Time) error {
	a.State, a.EndedAt = BundleDepleted, &at
	if err := s.store.UpdateAssignment(ctx, a); err != nil {
		return err
	}
	return s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistBundleDepleted, BundleName: a.BundleName, At: at})
}
