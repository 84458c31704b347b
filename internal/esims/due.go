package esims

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/esimd/esimd/internal/background"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// RunDue does the work that is due, in due-time order, each item in its
// own transaction: for one organisation when org is non-zero (a sandbox
// clock advance), else for every organisation by its own clock. It returns
// how many items ran. An item whose handler fails is postponed by an hour
// (and logged by the caller through the returned error) so that it cannot
// block the items behind it.
func (s *Service) RunDue(ctx context.Context, org orgs.ID) (int, error) {
	n := 0
	var failures []error
	failed := map[int64]bool{}
	for {
		items, err := s.store.DueItems(ctx, s.now(), org, 100)
		if err != nil {
			return n, errors.Join(append(failures, err)...)
		}
		progressed := false
		for _, d := range items {
			if failed[d.ID] {
				continue
			}
			progressed = true
			if err := s.runOne(ctx, d); err != nil {
				if ctx.Err() != nil {
					return n, ctx.Err()
				}
				failed[d.ID] = true
				failures = append(failures, fmt.Errorf("due work %s %d: %w", d.Kind, d.SubjectID, err))
				d.DueAt = d.DueAt.Add(time.Hour)
				if err := s.store.ScheduleDue(ctx, d); err != nil {
					return n, errors.Join(append(failures, err)...)
				}
				continue
			}
			n++
		}
		if !progressed {
			return n, errors.Join(failures...)
		}
	}
}

func (s *Service) runOne(ctx context.Context, d DueItem) error {
	s.dueMu.RLock()
	h := s.handler[d.Kind]
	s.dueMu.RUnlock()
	return s.store.InTx(ctx, func(ctx context.Context) error {
		// Delete first: a handler may schedule the same kind and subject again.
		if err := s.store.DeleteDue(ctx, d.ID); err != nil {
			if fault.Is(err, fault.NotFound) {
				return nil // another node did it
			}
			return err
		}
		if h == nil {
			return nil // a kind this build no longer has: drop it
		}
		return h(ctx, d)
	})
}

func (s *Service) dueExpire(ctx context.Context, d DueItem) error {
	a, err := s.store.Assignment(ctx, d.SubjectID)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil || a.State != BundleActive {
		return err
	}
	if err := s.expire(ctx, &a, d.DueAt); err != nil {
		return err
	}
	e, err := s.store.ESIMByID(ctx, a.ESIMID)
	if err != nil {
		return err
	}
	if e.MSISDN == "" {
		return nil
	}
	if err := s.syncMSISDN(ctx, &e, d.DueAt, "Bundle expired"); err != nil {
		return err
	}
	return s.store.UpdateESIM(ctx, &e)
}

// expire ends an active assignment at the end of its validity.
func (s *Service) expire(ctx context.Context, a *Assignment, at time.Time) error {
	if err := s.endAssignment(ctx, a, BundleExpired, at); err != nil {
		return err
	}
	return s.store.AddHistory(ctx, a.ESIMID, HistoryEntry{Name: HistBundleExpired, BundleName: a.BundleName, At: at})
}

// lapse ends a bundle never started within 12 months.
func (s *Service) lapse(ctx context.Context, a *Assignment, at time.Time) error {
	if err := s.endAssignment(ctx, a, BundleLapsed, at); err != nil {
		return err
	}
	return s.store.AddHistory(ctx, a.ESIMID, HistoryEntry{Name: HistBundleLapsed, BundleName: a.BundleName, At: at})
}

func (s *Service) dueLapse(ctx context.Context, d DueItem) error {
	a, err := s.store.Assignment(ctx, d.SubjectID)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil || (a.State != BundleQueued && a.State != BundleProcessing) {
		return err
	}
	if err := s.lapse(ctx, &a, d.DueAt); err != nil {
		return err
	}
	// A queued voice or SMS bundle holds the eSIM's number: a lapse may
	// take it (eSIM Go's reasons know no lapse; it is an expiry unused).
	e, err := s.store.ESIMByID(ctx, a.ESIMID)
	if err != nil || e.MSISDN == "" {
		return err
	}
	if err := s.syncMSISDN(ctx, &e, d.DueAt, "Bundle expired"); err != nil {
		return err
	}
	return s.store.UpdateESIM(ctx, &e)
}

// dueInactivity schedules deletion of an eSIM with no live bundle and no
// activity for 180 days.
func (s *Service) dueInactivity(ctx context.Context, d DueItem) error {
	e, err := s.store.ESIMByID(ctx, d.SubjectID)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil || e.State == StateDeactivated {
		return err
	}
	as, err := s.store.AssignmentsOfESIM(ctx, e.ID)
	if err != nil {
		return err
	}
	// An eSIM holding a bundle that can still be used is not inactive: look
	// again when the last such bundle ends (expires or lapses).
	next := d.DueAt
	for _, a := range as {
		switch {
		case a.State == BundleActive && a.EndsAt != nil && a.EndsAt.After(next):
			next = *a.EndsAt
		case (a.State == BundleQueued || a.State == BundleProcessing) && a.LapsesAt.After(next):
			next = a.LapsesAt
		}
	}
	// Usage moves this check only once a day per eSIM (applyUsageTo), so it
	// can fall due up to a day before the last activity says it should.
	if since := e.LastActivityAt.Add(InactivityDeletion); since.After(next) {
		next = since
	}
	if next.After(d.DueAt) {
		return s.store.ScheduleDue(ctx, DueItem{OrgID: e.OrgID, Kind: DueInactivity, SubjectID: e.ID, DueAt: next})
	}
	at := d.DueAt
	due := at.Add(DeletionGrace)
	e.DeletionDueAt = &due
	if err := s.store.ScheduleDue(ctx, DueItem{OrgID: e.OrgID, Kind: DueDeletion, SubjectID: e.ID, DueAt: due}); err != nil {
		return err
	}
	if err := s.store.UpdateESIM(ctx, &e); err != nil {
		return err
	}
	if err := s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistDeletionScheduled, At: at}); err != nil {
		return err
	}
	return s.emit(ctx, &e, "esim.deletion_scheduled", map[string]any{"event": "esim.deletion_scheduled", "iccid": e.ICCID, "date": due}, at)
}

func (s *Service) dueDeletion(ctx context.Context, d DueItem) error {
	e, err := s.store.ESIMByID(ctx, d.SubjectID)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil || e.State == StateDeactivated || e.DeletionDueAt == nil {
		return err
	}
	o, err := s.orgs.Organisation(ctx, e.OrgID)
	if err != nil {
		return err
	}
	if err := s.deactivate(ctx, &o, &e, d.DueAt, true); err != nil {
		return err
	}
	return s.store.UpdateESIM(ctx, &e)
}

// Worker drains due work in the background as real time passes. It has an
// owner: Start it once, Stop it before closing the database.
type Worker struct {
	svc      *Service
	interval time.Duration
	log      *slog.Logger
	kick     chan struct{}
	run      background.Runner
}

// NewWorker returns a worker that looks for due work every interval and
// whenever Kick is called.
func NewWorker(svc *Service, interval time.Duration, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{svc: svc, interval: interval, log: log, kick: make(chan struct{}, 1)}
}

// Start runs the worker until Stop or ctx ends.
func (w *Worker) Start(ctx context.Context) { w.run.Start(ctx, w.loop) }

// Kick asks the worker to look for due work now (after an asynchronous
// order was queued).
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Stop ends the worker and waits for the item in progress to finish.
func (w *Worker) Stop() { w.run.Stop() }

func (w *Worker) loop(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		if n, err := w.svc.RunDue(ctx, 0); err != nil && ctx.Err() == nil {
			w.log.Error("due work failed; retrying on the next tick", "error", err)
		} else if n > 0 {
			w.log.Debug("due work done", "items", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.kick:
		}
	}
}

// dueReturn ends the returns process: an eSIM installed meanwhile is given
// back to the organisation, any other is retired.
func (s *Service) dueReturn(ctx context.Context, d DueItem) error {
	e, err := s.store.ESIMByID(ctx, d.SubjectID)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil || e.ReturnedAt == nil {
		return err
	}
	if e.FirstInstalledAt != nil {
		e.ReturnedAt = nil
		e.LastAction, e.LastActionAt = HistESIMGivenBack, d.DueAt
		if err := s.store.UpdateESIM(ctx, &e); err != nil {
			return err
		}
		return s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistESIMGivenBack, At: d.DueAt})
	}
	e.State, e.ProfileStatus = StateDeactivated, ProfileDeactivated
	for _, k := range []string{DueInactivity, DueDeletion} {
		if err := s.store.CancelDue(ctx, k, e.ID); err != nil {
			return err
		}
	}
	return s.store.UpdateESIM(ctx, &e)
}
