package esims

import (
	"context"
	"crypto/rand"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/esimd/esimd/esimid"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

// OrgStore reads organisations; the engine needs their clocks.
type OrgStore interface {
	Organisation(ctx context.Context, id orgs.ID) (orgs.Organisation, error)
}

// Config builds a Service.
type Config struct {
	Store     Store
	Orgs      OrgStore
	Catalogue *catalogue.Service
	// Now is the wall clock; organisations' clocks derive from it.
	Now func() time.Time
	// SandboxSMDP is the SM-DP+ host of the built-in sandbox SM-DP+, whose
	// profiles exist only inside esimd.
	SandboxSMDP string
	// Live is where live organisations' profiles come from; nil means the
	// imported pool.
	Live SMDP
	// OnUsage, when set, is told how many usage records were applied after
	// each committed call (metrics).
	OnUsage func(records int)
}

// Service is the eSIM use cases.
type Service struct {
	store   Store
	orgs    OrgStore
	cat     *catalogue.Service
	now     func() time.Time
	sandbox SMDP // the built-in SM-DP+ of sandbox organisations
	live    SMDP // profiles of live organisations
	onUsage func(records int)
	due     *dueHandlers // shared by the copies withStore makes
}

// dueHandlers are the handlers of the kinds of due work.
type dueHandlers struct {
	mu     sync.RWMutex
	byKind map[string]func(ctx context.Context, d DueItem) error
}

// withStore is the engine on another store (an ingest batch's, which
// serves the batch's rows from memory): every other field is shared.
func (s *Service) withStore(st Store) *Service {
	c := *s
	c.store = st
	return &c
}

// NewService returns the engine.
func NewService(cfg Config) *Service {
	s := &Service{store: cfg.Store, orgs: cfg.Orgs, cat: cfg.Catalogue, now: cfg.Now, live: cfg.Live, onUsage: cfg.OnUsage,
		due: &dueHandlers{byKind: map[string]func(ctx context.Context, d DueItem) error{}}}
	if s.now == nil {
		s.now = time.Now
	}
	address := cfg.SandboxSMDP
	if address == "" {
		address = "smdp.sandbox.esimd.invalid"
	}
	s.sandbox = SandboxSMDP{Store: cfg.Store, Address: address}
	if s.live == nil {
		s.live = PoolSMDP{Store: cfg.Store}
	}
	s.due.byKind[DueBundleExpiry] = s.dueExpire
	s.due.byKind[DueBundleLapse] = s.dueLapse
	s.due.byKind[DueBundleProvision] = s.dueProvision
	s.due.byKind[DueBundleStart] = s.dueStart
	s.due.byKind[DueInactivity] = s.dueInactivity
	s.due.byKind[DueDeletion] = s.dueDeletion
	s.due.byKind[DueReturnCheck] = s.dueReturn
	return s
}

// OrgNow returns an organisation's current time.
func (s *Service) OrgNow(o *orgs.Organisation) time.Time { return o.Now(s.now()) }

// HandleDue registers the handler of a kind of due work (used by the
// orders package for asynchronous orders).
func (s *Service) HandleDue(kind string, fn func(ctx context.Context, d DueItem) error) {
	s.due.mu.Lock()
	defer s.due.mu.Unlock()
	s.due.byKind[kind] = fn
}

// sandboxICCIDPrefix marks test ICCIDs: 89 (telecom), 999 (a country code
// the ITU never assigns), 01; then an 11-digit serial and the Luhn digit.
const sandboxICCIDPrefix = "8999901"

// IsSandboxICCID reports whether an ICCID was issued by the sandbox SM-DP+.
func IsSandboxICCID(iccid string) bool { return strings.HasPrefix(iccid, sandboxICCIDPrefix) }

// Provision creates n eSIMs for an organisation on a network profile, in
// the caller's transaction, with profiles from its SM-DP+ adapter: the
// built-in one for sandbox organisations, the live one (the imported pool
// unless configured otherwise) for live organisations.
// Errors: Unavailable when the pool has too few profiles.
func (s *Service) Provision(ctx context.Context, org *orgs.Organisation, profile string, n int, brandingID string) ([]ESIM, error) {
	if err := s.store.RequireTx(ctx, "esims.Provision"); err != nil {
		return nil, err
	}
	now := s.OrgNow(org)
	source := s.live
	if org.Sandbox {
		source = s.sandbox
	}
	pool, err := source.Profiles(ctx, profile, n)
	if err != nil {
		return nil, err
	}
	if brandingID == "" {
		brandingID = "esimd (default)"
	}
	out := make([]ESIM, 0, n)
	for _, p := range pool {
		e := ESIM{OrgID: org.ID, ICCID: p.ICCID, MatchingID: p.MatchingID, SMDPAddress: p.SMDPAddress, PIN: p.PIN, PUK: p.PUK,
			Profile: p.Profile, ProfileStatus: ProfileReleased, State: StateActive, BrandingID: brandingID,
			LastAction: HistBundleApplied, LastActionAt: now, AssignedAt: now, LastActivityAt: now, CountriesSeen: map[string]time.Time{}}
		if err := s.store.InsertESIM(ctx, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// ImportPool adds profiles to the live pool. Errors: Invalid for a bad row.
func (s *Service) ImportPool(ctx context.Context, ps []PoolProfile) (int, error) {
	for i, p := range ps {
		if _, err := esimid.ParseICCID(p.ICCID); err != nil {
			return 0, fault.Invalidf("row %d: %v", i+1, err)
		}
		if _, err := esimid.NewActivationCode(p.SMDPAddress, p.MatchingID); err != nil {
			return 0, fault.Invalidf("row %d: %v", i+1, err)
		}
		if p.Profile == "" {
			return 0, fault.Invalidf("row %d: the network profile is empty", i+1)
		}
	}
	var n int
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		n, err = s.store.InsertPoolProfiles(ctx, ps, s.now())
		return err
	})
	return n, err
}

func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}

// randomMatchingID is an SGP.22-style matching ID: 4 groups of 4 of A–Z, 0–9.
func randomMatchingID() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b strings.Builder
	for g := range 4 {
		if g > 0 {
			b.WriteByte('-')
		}
		for range 4 {
			i, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			b.WriteByte(alphabet[i.Int64()])
		}
	}
	return b.String()
}

// Compatible reports whether a bundle can go onto an eSIM: same network
// profile (notes §5.6) and an eSIM that is not deactivated.
func Compatible(e *ESIM, b *catalogue.Bundle) bool {
	return e.State != StateDeactivated && e.Profile == b.Profile
}

// Assign applies a bundle to an eSIM in the caller's transaction. The
// assignment queues behind any active one and starts on first use (see
// AssignStartingAt).
func (s *Service) Assign(ctx context.Context, org *orgs.Organisation, e *ESIM, b *catalogue.Bundle, orderID int64, reference string, price money.Amount, batchID *int64) (Assignment, error) {
	return s.AssignStartingAt(ctx, org, e, b, orderID, reference, price, batchID, time.Time{})
}

func (s *Service) scheduleInactivity(ctx context.Context, e *ESIM) error {
	return s.store.ScheduleDue(ctx, DueItem{OrgID: e.OrgID, Kind: DueInactivity, SubjectID: e.ID, DueAt: e.LastActivityAt.Add(InactivityDeletion)})
}

// notAccessible is eSIM Go's answer for an ICCID that does not exist or
// belongs to another organisation: the same 403 for both, so nothing leaks.
func notAccessible(iccid string) error {
	return fault.Forbiddenf("the ICCID %s is not accessible by this organisation; check the number (GET /esims lists yours)", iccid)
}

// Get returns one of the organisation's eSIMs. Errors: Invalid for a
// malformed ICCID, Forbidden when it is unknown or another organisation's.
func (s *Service) Get(ctx context.Context, org orgs.ID, iccid string) (ESIM, error) {
	if err := CheckICCID(iccid); err != nil {
		return ESIM{}, err
	}
	e, err := s.store.ESIMByICCID(ctx, org, iccid)
	if fault.Is(err, fault.NotFound) {
		return ESIM{}, notAccessible(iccid)
	}
	if err == nil && e.ReturnedAt != nil {
		return ESIM{}, returned(&e)
	}
	return e, err
}

// returned is the 403 for an eSIM of the organisation that is in the
// returns process. It is the organisation's own eSIM, so saying why it is
// out of reach tells nobody else anything.
func returned(e *ESIM) error {
	at := e.ReturnedAt.UTC()
	return fault.Forbiddenf("eSIM %s was returned at %s: its last bundle was revoked before it was ever installed, so it left this organisation's account (the returns process); it comes back if the end user installs it by %s",
		e.ICCID, at.Format(time.RFC3339), at.Add(ReturnsHold).Format(time.RFC3339))
}

// Device returns an eSIM of the organisation as the device side sees it:
// also while it is in the returns process, when the end user may still
// install it.
func (s *Service) Device(ctx context.Context, org orgs.ID, iccid string) (ESIM, error) {
	if err := CheckICCID(iccid); err != nil {
		return ESIM{}, err
	}
	e, err := s.store.ESIMByICCID(ctx, org, iccid)
	if fault.Is(err, fault.NotFound) {
		return e, notAccessible(iccid)
	}
	return e, err
}

// Sold returns an eSIM an order of the organisation put a bundle on, also
// once the returns process took it out of the account (ReturnedAt set): an
// order keeps what it sold, its ICCID, matching ID and SM-DP+ address, so
// order history and install data still read it. Errors: Invalid,
// Forbidden when it is unknown or another organisation's.
func (s *Service) Sold(ctx context.Context, org orgs.ID, iccid string) (ESIM, error) {
	return s.Device(ctx, org, iccid)
}

// CheckICCID applies eSIM Go's input rule: 18 to 22 digits (notes §0.4.10).
func CheckICCID(iccid string) error {
	if len(iccid) < 18 || len(iccid) > 22 {
		return fault.Invalidf("ICCID %q must be 18 to 22 digits, got %d characters", truncate(iccid, 40), len(iccid))
	}
	for i := 0; i < len(iccid); i++ {
		if iccid[i] < '0' || iccid[i] > '9' {
			return fault.Invalidf("ICCID %q must contain digits only", truncate(iccid, 40))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Org returns an organisation (for its clock).
func (s *Service) Org(ctx context.Context, id orgs.ID) (orgs.Organisation, error) {
	return s.orgs.Organisation(ctx, id)
}

// List returns a page of the organisation's eSIMs and the total count.
func (s *Service) List(ctx context.Context, org orgs.ID, q ListQuery) ([]ESIM, int, error) {
	return s.store.ListESIMs(ctx, org, q)
}

// mutate runs fn on one eSIM of the organisation in a transaction and
// saves it. fn gets the organisation's current time.
func (s *Service) mutate(ctx context.Context, orgID orgs.ID, iccid string, fn func(ctx context.Context, o *orgs.Organisation, e *ESIM, now time.Time) error) (ESIM, error) {
	return s.mutateWith(ctx, s.Get, orgID, iccid, fn)
}

func (s *Service) mutateWith(ctx context.Context, get func(context.Context, orgs.ID, string) (ESIM, error), orgID orgs.ID, iccid string, fn func(ctx context.Context, o *orgs.Organisation, e *ESIM, now time.Time) error) (ESIM, error) {
	var out ESIM
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		e, err := get(ctx, orgID, iccid)
		if err != nil {
			return err
		}
		o, err := s.orgs.Organisation(ctx, orgID)
		if err != nil {
			return err
		}
		if err := fn(ctx, &o, &e, s.OrgNow(&o)); err != nil {
			return err
		}
		out = e
		return s.store.UpdateESIM(ctx, &e)
	})
	return out, err
}

// SetCustomerRef sets the operator's own identifier on an eSIM.
// Errors: Invalid, Forbidden.
func (s *Service) SetCustomerRef(ctx context.Context, org orgs.ID, iccid, ref string) (ESIM, error) {
	if utf8.RuneCountInString(ref) > 200 {
		return ESIM{}, fault.Invalidf("customerRef must be at most 200 characters")
	}
	return s.mutate(ctx, org, iccid, func(ctx context.Context, o *orgs.Organisation, e *ESIM, now time.Time) error {
		e.CustomerRef = ref
		e.LastAction, e.LastActionAt = HistESIMUpdated, now
		return s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistESIMUpdated, At: now})
	})
}

// Refresh sends a cancel-location so the device re-attaches (recorded in
// the history). Errors: Invalid for a deactivated eSIM, Forbidden.
func (s *Service) Refresh(ctx context.Context, org orgs.ID, iccid string) error {
	_, err := s.mutate(ctx, org, iccid, func(ctx context.Context, o *orgs.Organisation, e *ESIM, now time.Time) error {
		if e.State == StateDeactivated {
			return fault.Invalidf("eSIM %s is deactivated and cannot be refreshed", e.ICCID)
		}
		e.LastAction, e.LastActionAt = HistESIMRefreshed, now
		return s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistESIMRefreshed, At: now})
	})
	return err
}

// SendSMS stores a message for the eSIM's device (the sandbox device reads
// it). Errors: Invalid (1–160 characters of UTF-8; deactivated eSIM),
// Forbidden.
func (s *Service) SendSMS(ctx context.Context, org orgs.ID, iccid, message, from string) error {
	if !utf8.ValidString(message) {
		return fault.Invalidf("message must be UTF-8 text")
	}
	if n := utf8.RuneCountInString(message); n < 1 || n > 160 {
		return fault.Invalidf("message must be 1 to 160 characters, got %d", n)
	}
	if from == "" {
		from = "eSIM"
	}
	if from != "eSIM" {
		return fault.Invalidf("from must be \"eSIM\" (custom sender IDs are not provisioned), got %q", from)
	}
	_, err := s.mutate(ctx, org, iccid, func(ctx context.Context, o *orgs.Organisation, e *ESIM, now time.Time) error {
		if e.State == StateDeactivated {
			return fault.Invalidf("eSIM %s is deactivated; SMS cannot be sent to it", e.ICCID)
		}
		if err := s.store.AddSMS(ctx, e.ID, &SMS{Sender: from, Message: message, At: now}); err != nil {
			return err
		}
		return s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistSMSSent, At: now})
	})
	return err
}

// SMS lists the messages an eSIM received, oldest first.
func (s *Service) SMS(ctx context.Context, org orgs.ID, iccid string) ([]SMS, error) {
	e, err := s.Get(ctx, org, iccid)
	if err != nil {
		return nil, err
	}
	return s.store.SMSOf(ctx, e.ID)
}

// History returns an eSIM's history, oldest first.
func (s *Service) History(ctx context.Context, org orgs.ID, iccid string) ([]HistoryEntry, error) {
	e, err := s.Get(ctx, org, iccid)
	if err != nil {
		return nil, err
	}
	return s.store.History(ctx, e.ID)
}

// SetSuspended suspends or resumes an eSIM. Suspension does not pause
// bundle timers. Errors: Invalid (already in that state, deactivated),
// Forbidden.
func (s *Service) SetSuspended(ctx context.Context, org orgs.ID, iccid string, suspend bool) error {
	_, err := s.mutate(ctx, org, iccid, func(ctx context.Context, o *orgs.Organisation, e *ESIM, now time.Time) error {
		switch {
		case e.State == StateDeactivated:
			return fault.Invalidf("eSIM %s is deactivated and cannot be suspended or resumed", e.ICCID)
		case suspend && e.State == StateSuspended:
			return fault.Invalidf("eSIM %s is already suspended", e.ICCID)
		case !suspend && e.State == StateActive:
			return fault.Invalidf("eSIM %s is not suspended", e.ICCID)
		}
		name := HistESIMSuspended
		e.State = StateSuspended
		if !suspend {
			name, e.State = HistESIMUnsuspended, StateActive
		}
		e.LastAction, e.LastActionAt = name, now
		return s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: name, At: now})
	})
	return err
}

// Assignments returns an eSIM's assignments, newest first; ended ones only
// with includeUsed; at most limit of them.
func (s *Service) Assignments(ctx context.Context, org orgs.ID, iccid string, includeUsed bool, limit int) ([]Assignment, error) {
	e, err := s.Get(ctx, org, iccid)
	if err != nil {
		return nil, err
	}
	all, err := s.store.AssignmentsOfESIM(ctx, e.ID)
	if err != nil {
		return nil, err
	}
	slices.Reverse(all)
	out := all[:0]
	for _, a := range all {
		if !includeUsed && (a.State == BundleDepleted || a.State == BundleExpired || a.State == BundleLapsed || a.State == BundleRevoked) {
			continue
		}
		out = append(out, a)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// AssignmentsOfOrder returns what an order or apply put on eSIMs.
func (s *Service) AssignmentsOfOrder(ctx context.Context, orderID int64) ([]Assignment, error) {
	return s.store.AssignmentsOfOrder(ctx, orderID)
}

// Delete revokes every bundle without refund and deactivates the eSIM
// (v2.5 DELETE /esims/{iccid}; irreversible). Errors: Invalid when already
// deactivated, Forbidden.
func (s *Service) Delete(ctx context.Context, org orgs.ID, iccid string) error {
	_, err := s.mutate(ctx, org, iccid, func(ctx context.Context, o *orgs.Organisation, e *ESIM, now time.Time) error {
		if e.State == StateDeactivated {
			return fault.Invalidf("eSIM %s is already deactivated", e.ICCID)
		}
		return s.deactivate(ctx, o, e, now, false)
	})
	return err
}

// deactivate ends every live assignment, deactivates the eSIM, cancels its
// due work and emits the notifications (esim.deleted when scheduled).
func (s *Service) deactivate(ctx context.Context, o *orgs.Organisation, e *ESIM, now time.Time, scheduled bool) error {
	as, err := s.store.AssignmentsOfESIM(ctx, e.ID)
	if err != nil {
		return err
	}
	for i := range as {
		a := &as[i]
		if a.State == BundleDepleted {
			// It stays depleted: the eSIM is gone before its validity ends.
			if err := s.store.CancelDue(ctx, DueBundleExpiry, a.ID); err != nil {
				return err
			}
		}
		if a.State.Ended() {
			continue
		}
		if err := s.endAssignment(ctx, a, BundleRevoked, now); err != nil {
			return err
		}
		if err := s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistBundleRevoked, BundleName: a.BundleName, At: now}); err != nil {
			return err
		}
	}
	if err := s.syncMSISDN(ctx, e, now, "Bundle revoked"); err != nil {
		return err
	}
	e.State, e.ProfileStatus = StateDeactivated, ProfileDeactivated
	e.LastAction, e.LastActionAt, e.DeletionDueAt = HistESIMDeleted, now, nil
	for _, k := range []string{DueInactivity, DueDeletion} {
		if err := s.store.CancelDue(ctx, k, e.ID); err != nil {
			return err
		}
	}
	if err := s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistESIMDeleted, At: now}); err != nil {
		return err
	}
	if scheduled {
		return s.emit(ctx, e, events.Deletion{Event: events.KindDeleted, ICCID: e.ICCID, Date: now}, now)
	}
	return nil
}

// endAssignment moves an assignment to a final state and drops its due work.
func (s *Service) endAssignment(ctx context.Context, a *Assignment, state BundleState, now time.Time) error {
	a.State, a.EndedAt = state, &now
	if err := s.store.UpdateAssignment(ctx, a); err != nil {
		return err
	}
	for _, k := range []string{DueBundleExpiry, DueBundleLapse, DueBundleProvision, DueBundleStart} {
		if err := s.store.CancelDue(ctx, k, a.ID); err != nil {
			return err
		}
	}
	return nil
}

// RevokeAssignment ends one assignment as revoked in the caller's
// transaction; the caller (orders) decides on refunds.
func (s *Service) RevokeAssignment(ctx context.Context, e *ESIM, a *Assignment, now time.Time, historyName string) error {
	if err := s.endAssignment(ctx, a, BundleRevoked, now); err != nil {
		return err
	}
	e.LastAction, e.LastActionAt = HistBundleRevoked, now
	if err := s.syncMSISDN(ctx, e, now, "Bundle revoked"); err != nil {
		return err
	}
	if err := s.store.UpdateESIM(ctx, e); err != nil {
		return err
	}
	if err := s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistBundleRevoked, BundleName: a.BundleName, At: now}); err != nil {
		return err
	}
	if historyName != "" {
		if err := s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: historyName, BundleName: a.BundleName, At: now}); err != nil {
			return err
		}
	}
	return s.maybeReturn(ctx, e, now)
}

// maybeReturn starts the returns process (notes §5.4) for an eSIM left with
// no bundle that was never installed: it leaves the organisation's account
// now, and four days on it is given back if the end user installed it
// meanwhile, or retired.
func (s *Service) maybeReturn(ctx context.Context, e *ESIM, now time.Time) error {
	if e.FirstInstalledAt != nil || e.ProfileStatus == ProfileInstalled || e.State == StateDeactivated {
		return nil
	}
	as, err := s.store.AssignmentsOfESIM(ctx, e.ID)
	if err != nil {
		return err
	}
	for _, a := range as {
		if !a.State.Ended() {
			return nil
		}
	}
	t := now
	e.ReturnedAt = &t
	e.LastAction, e.LastActionAt = HistESIMReturned, now
	if err := s.store.UpdateESIM(ctx, e); err != nil {
		return err
	}
	if err := s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistESIMReturned, At: now}); err != nil {
		return err
	}
	return s.store.ScheduleDue(ctx, DueItem{OrgID: e.OrgID, Kind: DueReturnCheck, SubjectID: e.ID, DueAt: now.Add(ReturnsHold)})
}

// emit writes a notification about an eSIM to the outbox, in the
// transaction of the change that caused it.
func (s *Service) emit(ctx context.Context, e *ESIM, payload events.Payload, at time.Time) error {
	return s.store.AddEvent(ctx, &Event{OrgID: e.OrgID, ICCID: e.ICCID, Kind: payload.Kind(), Payload: payload, At: at})
}

// EmitOrgEvent writes an organisation-level notification (balance, top-up).
func (s *Service) EmitOrgEvent(ctx context.Context, org orgs.ID, payload events.Payload, at time.Time) error {
	return s.store.AddEvent(ctx, &Event{OrgID: org, Kind: payload.Kind(), Payload: payload, At: at})
}

// Events lists an organisation's notifications after an ID, oldest first.
func (s *Service) Events(ctx context.Context, org orgs.ID, afterID int64, limit int) ([]Event, error) {
	return s.store.Events(ctx, org, afterID, limit)
}

// SetProfileStatus records a device-side change of the profile (download,
// install, deletion from the device) and emits ProfileStatusChange.
// Errors: Invalid for an impossible change, Forbidden.
func (s *Service) SetProfileStatus(ctx context.Context, org orgs.ID, iccid, status, eid string) (ESIM, error) {
	if eid != "" {
		if _, err := esimid.ParseEID(eid); err != nil {
			return ESIM{}, fault.Invalidf("%v", err)
		}
	}
	return s.mutateWith(ctx, s.Device, org, iccid, func(ctx context.Context, o *orgs.Organisation, e *ESIM, now time.Time) error {
		if e.State == StateDeactivated || e.ProfileStatus == ProfileDeactivated || e.ProfileStatus == ProfileUnavailable {
			return fault.Invalidf("eSIM %s is %s and cannot be installed or removed", e.ICCID, strings.ToLower(e.ProfileStatus))
		}
		if e.ProfileStatus == status {
			return fault.Invalidf("eSIM %s is already %s", e.ICCID, status)
		}
		if status == ProfileInstalled && e.FirstInstalledAt == nil {
			t := now
			e.FirstInstalledAt = &t
		}
		if eid != "" {
			e.EID = eid
		}
		e.ProfileStatus = status
		if err := s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistProfileStatus, AlertType: status, At: now}); err != nil {
			return err
		}
		payload := events.ProfileStatusChange{ICCID: e.ICCID, ProfileStatus: status, Date: now}
		if e.EID != "" {
			payload.Device = &events.Device{EID: e.EID}
		}
		return s.emit(ctx, e, payload, now)
	})
}
