package esims

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// usageBatch is the Store an ingest batch's records run against, inside
// the batch's transaction. Every record goes through the same code as a
// single usage record (applyUsageTo); what differs is where its reads and
// its most frequent writes go. The batch's eSIMs, their assignments and
// which record IDs were applied before are read up front in a few
// set-based statements; a record's changes to an eSIM, its assignments,
// its due work and the applied record IDs stay in memory, and flush writes
// each changed row once for the batch. A common record (charge the running
// bundle, no alert) so costs no statement of its own.
//
// Other writes (history, events, counters) go to the database at once,
// inside a savepoint opened at a record's first such write. A record that
// fails has its savepoint rolled back and its in-memory changes undone
// from the undo log, so it is rejected alone, as with a savepoint per
// record.
type usageBatch struct {
	Store // the real store: reads and writes not overridden here

	byICCID map[string]*batchESIM
	byID    map[int64]*batchESIM
	applied map[UsageRecordKey]bool // applied before or earlier in the batch
	due     map[dueKey]dueOp
	records []AppliedUsage

	undo []func()              // reverses the running record's in-memory changes
	end  func(undo bool) error // ends the running record's savepoint; nil when none is open
}

type batchESIM struct {
	e          ESIM
	stored     ESIM // as the database holds it: flush writes the difference
	as         []Assignment
	dirtyESIM  bool
	dirtyAssgn map[int64]bool
	storedAs   map[int64]Assignment // as the database holds them
}

type dueKey struct {
	kind    string
	subject int64
}

// dueOp is a buffered change of due work: scheduled at item, or cancelled.
type dueOp struct {
	item   DueItem
	cancel bool
}

// newUsageBatch reads the records' eSIMs, their assignments and which of
// the record IDs were applied before, in the transaction in ctx. iccids
// are sorted and distinct.
func newUsageBatch(ctx context.Context, st Store, iccids []string, recs []IngestRecord) (*usageBatch, error) {
	b := &usageBatch{Store: st, byICCID: map[string]*batchESIM{}, byID: map[int64]*batchESIM{},
		applied: map[UsageRecordKey]bool{}, due: map[dueKey]dueOp{}}
	es, err := st.ESIMsByICCIDs(ctx, iccids)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(es))
	for _, e := range es {
		be := &batchESIM{e: e, dirtyAssgn: map[int64]bool{}, storedAs: map[int64]Assignment{}}
		be.stored = be.copyOf()
		b.byICCID[e.ICCID], b.byID[e.ID] = be, be
		ids = append(ids, e.ID)
	}
	if len(ids) > 0 {
		as, err := st.AssignmentsOfESIMs(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if be := b.byID[a.ESIMID]; be != nil {
				a.ICCID = be.e.ICCID
				be.as = append(be.as, a)
				be.storedAs[a.ID] = a
			}
		}
	}
	// Record IDs are per organisation: ask for each organisation's (the
	// index leads with it). A record of an unknown eSIM is rejected before
	// its ID matters.
	byOrg := map[orgs.ID][]string{}
	for _, r := range recs {
		if be := b.byICCID[r.ICCID]; be != nil && r.RecordID != "" {
			byOrg[be.e.OrgID] = append(byOrg[be.e.OrgID], r.RecordID)
		}
	}
	for org, recordIDs := range byOrg {
		seen, err := st.UsageRecordsApplied(ctx, org, recordIDs)
		if err != nil {
			return nil, err
		}
		for _, id := range seen {
			b.applied[UsageRecordKey{Org: org, RecordID: id}] = true
		}
	}
	return b, nil
}

// record runs one record's work and ends it: kept when fn succeeds,
// undone (in memory and in the database) when it fails. A failure of ours
// (Internal, including a lost race on PostgreSQL) is returned as it is:
// it ends the whole batch's transaction, so nothing is undone piecemeal.
func (b *usageBatch) record(fn func() error) error {
	b.undo, b.end = b.undo[:0], nil
	err := fn()
	if err != nil && fault.KindOf(err) == fault.Internal {
		return err
	}
	if err != nil {
		for i := len(b.undo) - 1; i >= 0; i-- {
			b.undo[i]()
		}
	}
	if b.end != nil {
		if endErr := b.end(err != nil); endErr != nil {
			return endErr
		}
		b.end = nil
	}
	return err
}

// writing opens the running record's savepoint before its first direct write.
func (b *usageBatch) writing(ctx context.Context) error {
	if b.end != nil {
		return nil
	}
	end, err := b.Store.OpenSavepoint(ctx)
	if err != nil {
		return err
	}
	b.end = end
	return nil
}

// flush writes every changed row: once per eSIM, assignment and due item
// for the whole batch.
func (b *usageBatch) flush(ctx context.Context) error {
	ids := make([]int64, 0, len(b.byID))
	for id := range b.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids) // a fixed order, as every locker on PostgreSQL takes rows
	for _, id := range ids {
		be := b.byID[id]
		for i := range be.as {
			if a := &be.as[i]; be.dirtyAssgn[a.ID] {
				update := b.Store.UpdateAssignment
				if stored, ok := be.storedAs[a.ID]; ok && onlyCharged(&stored, a) {
					update = b.Store.UpdateAssignmentUsage
				}
				if err := update(ctx, a); err != nil {
					return err
				}
				be.storedAs[a.ID] = *a
			}
		}
		if be.dirtyESIM {
			update := b.Store.UpdateESIM
			if onlyActivity(&be.stored, &be.e) {
				update = b.Store.UpdateESIMActivity
			}
			if err := update(ctx, &be.e); err != nil {
				return err
			}
			be.stored = be.copyOf()
		}
		be.dirtyESIM = false
		clear(be.dirtyAssgn)
	}
	keys := make([]dueKey, 0, len(b.due))
	for k := range b.due {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y dueKey) int {
		if x.kind != y.kind {
			if x.kind < y.kind {
				return -1
			}
			return 1
		}
		return int(min(max(x.subject-y.subject, -1), 1))
	})
	for _, k := range keys {
		op := b.due[k]
		var err error
		if op.cancel {
			err = b.Store.CancelDue(ctx, k.kind, k.subject)
		} else {
			err = b.Store.ScheduleDue(ctx, op.item)
		}
		if err != nil {
			return err
		}
	}
	clear(b.due)
	if len(b.records) > 0 {
		if err := b.Store.RecordUsages(ctx, b.records); err != nil {
			return err
		}
		b.records = b.records[:0]
	}
	return nil
}

// sync writes what is buffered before a read that would not see it, inside
// the record's savepoint so that a failing record still undoes it.
func (b *usageBatch) sync(ctx context.Context) error {
	if err := b.writing(ctx); err != nil {
		return err
	}
	// Should the record fail, its savepoint undoes these writes; the batch
	// must then still know them as unwritten.
	type saved struct {
		stored   ESIM
		dirty    bool
		dirtyA   map[int64]bool
		storedAs map[int64]Assignment
	}
	before := make(map[*batchESIM]saved, len(b.byID))
	for _, be := range b.byID {
		before[be] = saved{be.stored, be.dirtyESIM, maps.Clone(be.dirtyAssgn), maps.Clone(be.storedAs)}
	}
	due, records := maps.Clone(b.due), slices.Clone(b.records)
	b.undo = append(b.undo, func() {
		for be, s := range before {
			be.stored, be.dirtyESIM, be.dirtyAssgn, be.storedAs = s.stored, s.dirty, s.dirtyA, s.storedAs
		}
		b.due, b.records = due, records
	})
	return b.flush(ctx)
}

// Buffered reads and writes.

// copyOf returns the batch's eSIM for a caller to change freely.
func (be *batchESIM) copyOf() ESIM {
	e := be.e
	e.CountriesSeen = cloneSeen(e.CountriesSeen)
	return e
}

func (b *usageBatch) ESIMByICCIDAnyOrg(ctx context.Context, iccid string) (ESIM, error) {
	if be := b.byICCID[iccid]; be != nil {
		return be.copyOf(), nil
	}
	return ESIM{}, fault.NotFoundf("no eSIM %s", iccid)
}

func (b *usageBatch) ESIMByICCID(ctx context.Context, org orgs.ID, iccid string) (ESIM, error) {
	if be := b.byICCID[iccid]; be != nil {
		if be.e.OrgID != org {
			return ESIM{}, fault.NotFoundf("no eSIM %s", iccid)
		}
		return be.copyOf(), nil
	}
	return b.Store.ESIMByICCID(ctx, org, iccid)
}

func (b *usageBatch) ESIMByID(ctx context.Context, id int64) (ESIM, error) {
	if be := b.byID[id]; be != nil {
		return be.copyOf(), nil
	}
	return b.Store.ESIMByID(ctx, id)
}

func (b *usageBatch) UpdateESIM(ctx context.Context, e *ESIM) error {
	be := b.byID[e.ID]
	if be == nil {
		if err := b.writing(ctx); err != nil {
			return err
		}
		return b.Store.UpdateESIM(ctx, e)
	}
	old, oldDirty := be.e, be.dirtyESIM
	b.undo = append(b.undo, func() { be.e, be.dirtyESIM = old, oldDirty })
	be.e, be.dirtyESIM = *e, true
	// The caller keeps using e; the batch keeps its own copy of the map.
	be.e.CountriesSeen = cloneSeen(e.CountriesSeen)
	return nil
}

// onlyActivity reports whether after differs from before in its location
// and last activity only.
func onlyActivity(before, after *ESIM) bool {
	x := *before
	x.Location, x.LastActivityAt = after.Location, after.LastActivityAt
	return reflect.DeepEqual(&x, after)
}

// onlyCharged reports whether after differs from before in what charging
// changes only (remaining allowances, Used, AlertsSent).
func onlyCharged(before, after *Assignment) bool {
	x := *before
	x.RemainingBytes, x.RemainingMinutes, x.RemainingSMS = after.RemainingBytes, after.RemainingMinutes, after.RemainingSMS
	x.Used, x.AlertsSent = after.Used, after.AlertsSent
	return reflect.DeepEqual(&x, after)
}

func cloneSeen(m map[string]time.Time) map[string]time.Time {
	if m == nil {
		return nil
	}
	out := make(map[string]time.Time, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (b *usageBatch) AssignmentsOfESIM(ctx context.Context, esimID int64) ([]Assignment, error) {
	if be := b.byID[esimID]; be != nil {
		return slices.Clone(be.as), nil
	}
	return b.Store.AssignmentsOfESIM(ctx, esimID)
}

func (b *usageBatch) Assignment(ctx context.Context, id int64) (Assignment, error) {
	for _, be := range b.byID {
		for _, a := range be.as {
			if a.ID == id {
				return a, nil
			}
		}
	}
	return b.Store.Assignment(ctx, id)
}

func (b *usageBatch) UpdateAssignment(ctx context.Context, a *Assignment) error {
	if be := b.byID[a.ESIMID]; be != nil {
		for i := range be.as {
			if be.as[i].ID != a.ID {
				continue
			}
			old, oldDirty := be.as[i], be.dirtyAssgn[a.ID]
			b.undo = append(b.undo, func() { be.as[i], be.dirtyAssgn[a.ID] = old, oldDirty })
			be.as[i], be.dirtyAssgn[a.ID] = *a, true
			return nil
		}
	}
	if err := b.writing(ctx); err != nil {
		return err
	}
	return b.Store.UpdateAssignment(ctx, a)
}

func (b *usageBatch) InsertAssignment(ctx context.Context, a *Assignment) error {
	if err := b.writing(ctx); err != nil {
		return err
	}
	if err := b.Store.InsertAssignment(ctx, a); err != nil {
		return err
	}
	if be := b.byID[a.ESIMID]; be != nil {
		n := len(be.as)
		b.undo = append(b.undo, func() { be.as = be.as[:n]; delete(be.storedAs, a.ID) })
		be.as = append(be.as, *a)
		be.storedAs[a.ID] = *a
	}
	return nil
}

func (b *usageBatch) ScheduleDue(ctx context.Context, d DueItem) error {
	b.setDue(dueKey{d.Kind, d.SubjectID}, dueOp{item: d})
	return nil
}

func (b *usageBatch) CancelDue(ctx context.Context, kind string, subjectID int64) error {
	b.setDue(dueKey{kind, subjectID}, dueOp{cancel: true})
	return nil
}

func (b *usageBatch) setDue(k dueKey, op dueOp) {
	old, had := b.due[k]
	b.undo = append(b.undo, func() {
		if had {
			b.due[k] = old
		} else {
			delete(b.due, k)
		}
	})
	b.due[k] = op
}

func (b *usageBatch) RecordUsage(ctx context.Context, org orgs.ID, recordID, iccid string, bytes int64, usedAt, appliedAt time.Time) error {
	k := UsageRecordKey{Org: org, RecordID: recordID}
	if b.applied[k] {
		return fault.Conflictf("usage record %s was applied before", recordID)
	}
	b.applied[k] = true
	n := len(b.records)
	b.undo = append(b.undo, func() { delete(b.applied, k); b.records = b.records[:n] })
	b.records = append(b.records, AppliedUsage{UsageRecordKey: k, ICCID: iccid, Bytes: bytes, UsedAt: usedAt, AppliedAt: appliedAt})
	return nil
}

// Direct writes: each opens the record's savepoint first.

func (b *usageBatch) NextCounter(ctx context.Context, name string, n int64) (int64, error) {
	if err := b.writing(ctx); err != nil {
		return 0, err
	}
	return b.Store.NextCounter(ctx, name, n)
}

func (b *usageBatch) ClaimPoolProfiles(ctx context.Context, profile string, n int) ([]PoolProfile, error) {
	if err := b.writing(ctx); err != nil {
		return nil, err
	}
	return b.Store.ClaimPoolProfiles(ctx, profile, n)
}

func (b *usageBatch) InsertPoolProfiles(ctx context.Context, ps []PoolProfile, at time.Time) (int, error) {
	if err := b.writing(ctx); err != nil {
		return 0, err
	}
	return b.Store.InsertPoolProfiles(ctx, ps, at)
}

func (b *usageBatch) InsertESIM(ctx context.Context, e *ESIM) error {
	if err := b.writing(ctx); err != nil {
		return err
	}
	return b.Store.InsertESIM(ctx, e)
}

func (b *usageBatch) AddHistory(ctx context.Context, esimID int64, h HistoryEntry) error {
	if err := b.writing(ctx); err != nil {
		return err
	}
	return b.Store.AddHistory(ctx, esimID, h)
}

func (b *usageBatch) AddEvent(ctx context.Context, e *Event) error {
	if err := b.writing(ctx); err != nil {
		return err
	}
	return b.Store.AddEvent(ctx, e)
}

func (b *usageBatch) DeleteDue(ctx context.Context, id int64) error {
	if err := b.sync(ctx); err != nil {
		return err
	}
	return b.Store.DeleteDue(ctx, id)
}

func (b *usageBatch) AddSMS(ctx context.Context, esimID int64, s *SMS) error {
	if err := b.writing(ctx); err != nil {
		return err
	}
	return b.Store.AddSMS(ctx, esimID, s)
}

func (b *usageBatch) Savepoint(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := b.writing(ctx); err != nil {
		return err
	}
	return b.Store.Savepoint(ctx, fn)
}

// Reads the buffer would make stale: buffered writes go first.

func (b *usageBatch) AssignmentsOfOrder(ctx context.Context, orderID int64) ([]Assignment, error) {
	if err := b.sync(ctx); err != nil {
		return nil, err
	}
	return b.Store.AssignmentsOfOrder(ctx, orderID)
}

func (b *usageBatch) ListESIMs(ctx context.Context, org orgs.ID, q ListQuery) ([]ESIM, int, error) {
	if err := b.sync(ctx); err != nil {
		return nil, 0, err
	}
	return b.Store.ListESIMs(ctx, org, q)
}

func (b *usageBatch) DueItems(ctx context.Context, wall time.Time, org orgs.ID, limit int) ([]DueItem, error) {
	if err := b.sync(ctx); err != nil {
		return nil, err
	}
	return b.Store.DueItems(ctx, wall, org, limit)
}
