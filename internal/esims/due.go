package esims

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/esimd/esimd/internal/events"
	"go.opentelemetry.io/otel/trace"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/jobs"
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
		items, err := s.store.DueItems(ctx, s.now(), org, duePage)
		if err != nil {
			return n, errors.Join(append(failures, err)...)
		}
		ran, progressed, errs, err := s.runItems(ctx, items, failed)
		n += ran
		failures = append(failures, errs...)
		if err != nil {
			return n, errors.Join(append(failures, err)...)
		}
		if !progressed {
			return n, errors.Join(failures...)
		}
	}
}

// duePage is how many due items one read fetches.
const duePage = 100

// runItems runs due items in order, skipping those in failed and adding to
// it those that fail (postponed by an hour). err is what stops the run: a
// cancelled context or a store that cannot postpone.
func (s *Service) runItems(ctx context.Context, items []DueItem, failed map[int64]bool) (ran int, progressed bool, failures []error, err error) {
	for _, d := range items {
		if failed[d.ID] {
			continue
		}
		progressed = true
		if err := s.runOne(ctx, d); err != nil {
			if ctx.Err() != nil {
				return ran, progressed, failures, ctx.Err()
			}
			failed[d.ID] = true
			failures = append(failures, fmt.Errorf("due work %s %d: %w", d.Kind, d.SubjectID, err))
			d.DueAt = d.DueAt.Add(time.Hour)
			if err := s.store.ScheduleDue(ctx, d); err != nil {
				return ran, progressed, failures, err
			}
			continue
		}
		ran++
	}
	return ran, progressed, failures, nil
}

func (s *Service) runOne(ctx context.Context, d DueItem) error {
	s.due.mu.RLock()
	h := s.due.byKind[d.Kind]
	s.due.mu.RUnlock()
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
	if err != nil || (a.State != BundleActive && a.State != BundleDepleted) {
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

// expire ends an active or depleted assignment at the end of its validity.
func (s *Service) expire(ctx context.Context, a *Assignment, at time.Time) error {
	if a.State == BundleDepleted {
		// Out of use since it depleted (EndedAt stays); now out of validity.
		a.State = BundleExpired
		if err := s.store.UpdateAssignment(ctx, a); err != nil {
			return err
		}
		if err := s.store.CancelDue(ctx, DueBundleExpiry, a.ID); err != nil {
			return err
		}
	} else if err := s.endAssignment(ctx, a, BundleExpired, at); err != nil {
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
	return s.emit(ctx, &e, events.Deletion{Event: events.KindDeletionScheduled, ICCID: e.ICCID, Date: due}, at)
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

// Worker drains due work in the background as real time passes: due work
// is a kind on the job runner, one page of due items a job, worked in
// due-time order (one job at a time per node; each item commits on its
// own). It has an owner: Start it once, Stop it before closing the
// database.
type Worker struct {
	runner *jobs.Runner[*duePageJob]
}

// NewWorker returns a worker that looks for due work every interval and
// whenever Kick is called.
func NewWorker(svc *Service, interval time.Duration, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{runner: jobs.New[*duePageJob](&dueKind{s: svc, log: log, failed: map[int64]time.Time{}}, jobs.Config{Name: "due", Concurrency: 1, Interval: interval, Logger: log})}
}

// Start runs the worker until Stop or ctx ends.
func (w *Worker) Start(ctx context.Context) { w.runner.Start(ctx) }

// SetTracer records a span per page of due work; call it before Start.
func (w *Worker) SetTracer(t trace.Tracer) { w.runner.SetTracer(t) }

// Kick asks the worker to look for due work now (after an asynchronous
// order was queued).
func (w *Worker) Kick() { w.runner.Kick() }

// Stop ends the worker and waits for the item in progress to finish.
func (w *Worker) Stop() { w.runner.Stop() }

// duePageJob is one page of due items of every organisation.
type duePageJob struct {
	items []DueItem
}

// dueKind is due work as a job kind. Its items need no lease: each runs in
// a transaction that first deletes it, so on several nodes exactly one
// runs it and the others find it gone.
type dueKind struct {
	s   *Service
	log *slog.Logger
	// failed holds the items that failed recently, with when (wall clock)
	// they may be tried again. A failed item is postponed by an hour of its
	// own time, which for one long overdue is still due: without this, the
	// runner would run it again at once, page after page.
	mu     sync.Mutex
	failed map[int64]time.Time
}

// dueRetryPause is how long a failed item waits on this node before it is
// tried again, whatever its due time says.
const dueRetryPause = time.Minute

func (k *dueKind) Cycle(ctx context.Context, _ []*duePageJob, limit int) ([]*duePageJob, bool, error) {
	if limit <= 0 {
		return nil, false, nil // each item committed as it ran: nothing to record
	}
	items, err := k.s.store.DueItems(ctx, k.s.now(), 0, duePage)
	if err != nil || len(items) == 0 {
		return nil, false, err
	}
	full := len(items) == duePage
	wall := time.Now()
	k.mu.Lock()
	for id, until := range k.failed {
		if !wall.Before(until) {
			delete(k.failed, id)
		}
	}
	items = slices.DeleteFunc(items, func(d DueItem) bool { _, skip := k.failed[d.ID]; return skip })
	k.mu.Unlock()
	if len(items) == 0 {
		return nil, false, nil // only items that failed a moment ago: wait for the next tick
	}
	return []*duePageJob{{items: items}}, full, nil
}

func (k *dueKind) Work(ctx context.Context, j *duePageJob, _ <-chan struct{}) {
	failed := map[int64]bool{}
	ran, _, failures, err := k.s.runItems(ctx, j.items, failed)
	if len(failed) > 0 {
		until := time.Now().Add(dueRetryPause)
		k.mu.Lock()
		for id := range failed {
			k.failed[id] = until
		}
		k.mu.Unlock()
	}
	if err := errors.Join(append(failures, err)...); err != nil && ctx.Err() == nil {
		k.log.Error("due work failed; failed items are postponed by an hour and retried here after a minute", "error", err)
	}
	if ran > 0 {
		k.log.Debug("due work done", "items", ran)
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
