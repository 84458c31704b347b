package esims

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// Registration is an eSIM registering on a network: from the sandbox's
// simulated device or from a live network feed.
type Registration struct {
	Country     string // ISO code
	MCC, MNC    string
	TADIG       string
	NetworkName string
	Brand       string
}

// UsageRecord is bytes used in a country on a network at a time. Both the
// simulator and the ingest API build these; both end in ApplyUsage.
type UsageRecord struct {
	Org     orgs.ID
	ICCID   string
	Bytes   int64
	Minutes int64 // voice minutes used
	SMS     int64 // messages sent
	Network Registration
	At      time.Time // the organisation's time of use; zero means now
	// FromNetwork marks records of a live network feed: usage there proves
	// the profile is installed even if no SM-DP+ said so.
	FromNetwork bool
}

// UsageResult says what a record did.
type UsageResult struct {
	Charged    int64    // bytes charged to bundles
	Unbilled   int64    // bytes no bundle covered (no bundle, or none valid in that country)
	Minutes    int64    // voice minutes charged
	SMS        int64    // messages charged
	Assignment []string // references of the assignments charged
}

// inactivityMoveSlack is how much later usage must be than the last
// activity for the inactivity check to be moved (see applyUsageTo).
const inactivityMoveSlack = 24 * time.Hour

// thresholds are the utilisation alert levels, in percent (notes §4.2).
// Each allowance keeps which it has passed in four bits of
// Assignment.AlertsSent, from its allowance's shift: bit 0 for 1 %, 1 for
// 50 %, 2 for 80 %, 3 for 100 %.
var thresholds = []int64{1, 50, 80, 100}

// allowance is one metered allowance of an assignment, for its
// Utilisation alerts.
type allowance struct {
	// unit is the callback bundle's unit: "" for data (bytes, the field
	// left out as in eSIM Go's data alerts), minutes or SMSmessages.
	unit    string
	shift   uint // the first of its four AlertsSent bits
	initial func(*Assignment) int64
	left    func(*Assignment) int64
}

var (
	dataAllowance = allowance{"", 0, func(a *Assignment) int64 { return a.InitialBytes }, func(a *Assignment) int64 { return a.RemainingBytes }}
	// firstUseSent is the AlertsSent bit of a bundle's FirstUse.
	firstUseSent   uint16 = 1 << 4
	voiceAllowance        = allowance{"minutes", 5, func(a *Assignment) int64 { return a.InitialMinutes }, func(a *Assignment) int64 { return a.RemainingMinutes }}
	smsAllowance          = allowance{"SMSmessages", 9, func(a *Assignment) int64 { return a.InitialSMS }, func(a *Assignment) int64 { return a.RemainingSMS }}
)

// firstUseBytes is the data use that counts as a bundle's first use: eSIM
// Go measures FirstUse to the nearest kB (notes §4.2), so use that rounds
// to at least 1 kB.
const firstUseBytes = 500

// Attach registers an eSIM on a network (FirstAttachment once, CountryChange
// per the 24-hour rule) in one transaction. Errors: Invalid, Forbidden.
func (s *Service) Attach(ctx context.Context, org orgs.ID, iccid string, reg Registration, at time.Time) (ESIM, error) {
	var out ESIM
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		e, err := s.Get(ctx, org, iccid)
		if err != nil {
			return err
		}
		o, err := s.orgs.Organisation(ctx, org)
		if err != nil {
			return err
		}
		if at.IsZero() {
			at = s.OrgNow(&o)
		}
		if err := s.register(ctx, &e, reg, at); err != nil {
			return err
		}
		out = e
		return s.store.UpdateESIM(ctx, &e)
	})
	return out, err
}

// usable says why an eSIM cannot be on a network, or nil.
func usable(e *ESIM) error {
	if e.State != StateActive {
		return fault.Invalidf("eSIM %s is %s and cannot use the network", e.ICCID, e.State)
	}
	if e.ProfileStatus != ProfileInstalled {
		return fault.Invalidf("eSIM %s is not installed on a device (profile %s); install it first", e.ICCID, e.ProfileStatus)
	}
	return nil
}

// register applies a network registration to e (not saved).
func (s *Service) register(ctx context.Context, e *ESIM, reg Registration, at time.Time) error {
	if err := usable(e); err != nil {
		return err
	}
	if e.FirstAttachedAt == nil {
		t := at
		e.FirstAttachedAt = &t
		if err := s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistFirstAttachment, At: at}); err != nil {
			return err
		}
		if err := s.emit(ctx, e, events.FirstAttachment{AlertType: events.KindFirstAttachment, ICCID: e.ICCID}, at); err != nil {
			return err
		}
	}
	if reg.Country != "" {
		last, seen := e.CountriesSeen[reg.Country]
		if !seen || at.Sub(last) >= CountryChangeWindow {
			if e.CountriesSeen == nil {
				e.CountriesSeen = map[string]time.Time{}
			}
			e.CountriesSeen[reg.Country] = at
			name := reg.Country
			if s.cat != nil {
				if c, ok := s.cat.Current(ctx).Country(reg.Country); ok {
					name = c.Name
				}
			}
			if err := s.emit(ctx, e, events.CountryChange{AlertType: events.KindCountryChange, ICCID: e.ICCID,
				Country: events.Country{Code: reg.Country, Name: name}}, at); err != nil {
				return err
			}
		}
	}
	t := at
	e.Location = Location{Country: reg.Country, MCC: reg.MCC, MNC: reg.MNC, TADIG: reg.TADIG, NetworkName: reg.NetworkName, Brand: reg.Brand, LastSeen: &t}
	return nil
}

// ApplyUsage is the one function every usage record runs through: it
// registers the eSIM where the record says, starts the next queued bundle
// valid there when none is active, charges the bytes (moving on to the next
// bundle when one depletes), and emits FirstUse and Utilisation alerts, all
// in one transaction. Errors: Invalid (bad record, eSIM not usable),
// Forbidden (unknown ICCID).
func (s *Service) ApplyUsage(ctx context.Context, rec UsageRecord) (UsageResult, error) {
	var res UsageResult
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		res, err = s.applyUsage(ctx, rec)
		return err
	})
	if err == nil {
		s.usageApplied(1)
	}
	return res, err
}

// usageApplied tells the OnUsage hook about committed records.
func (s *Service) usageApplied(n int) {
	if s.onUsage != nil && n > 0 {
		s.onUsage(n)
	}
}

// ApplyUsageBatch applies records in one transaction each, so that one bad
// record is rejected alone; errs[i] is nil where record i was applied.
func (s *Service) ApplyUsageBatch(ctx context.Context, recs []UsageRecord) (results []UsageResult, errs []error) {
	results, errs = make([]UsageResult, len(recs)), make([]error, len(recs))
	for i, r := range recs {
		results[i], errs[i] = s.ApplyUsage(ctx, r)
	}
	return results, errs
}

func (s *Service) applyUsage(ctx context.Context, rec UsageRecord) (UsageResult, error) {
	var res UsageResult
	if rec.Bytes < 0 || rec.Minutes < 0 || rec.SMS < 0 {
		return res, fault.Invalidf("bytes, minutes and sms must not be negative")
	}
	e, err := s.Get(ctx, rec.Org, rec.ICCID)
	if err != nil {
		return res, err
	}
	o, err := s.orgs.Organisation(ctx, rec.Org)
	if err != nil {
		return res, err
	}
	return s.applyUsageTo(ctx, &e, &o, rec)
}

// applyUsageTo is applyUsage on an eSIM and its organisation the caller
// has read in the same transaction (ingest reads them to check a record).
func (s *Service) applyUsageTo(ctx context.Context, esim *ESIM, o *orgs.Organisation, rec UsageRecord) (UsageResult, error) {
	var res UsageResult
	if rec.Bytes < 0 || rec.Minutes < 0 || rec.SMS < 0 {
		return res, fault.Invalidf("bytes, minutes and sms must not be negative")
	}
	e := *esim
	at := rec.At
	if at.IsZero() {
		at = s.OrgNow(o)
	}
	if rec.FromNetwork && (e.ProfileStatus == ProfileReleased || e.ProfileStatus == ProfileDownloaded) {
		if err := s.markInstalled(ctx, &e, at); err != nil {
			return res, err
		}
	}
	if rec.Network.Country != "" || e.Location.Country == "" {
		if err := s.register(ctx, &e, rec.Network, at); err != nil {
			return res, err
		}
	} else if err := usable(&e); err != nil {
		return res, err
	}
	country := rec.Network.Country
	if country == "" {
		country = e.Location.Country
	}
	as, err := s.store.AssignmentsOfESIM(ctx, e.ID)
	if err != nil {
		return res, err
	}
	// Due work may not have run yet (a live worker ticks): bundles past
	// their end cannot take this usage.
	if err := s.endOverdue(ctx, as, at); err != nil {
		return res, err
	}
	var snap *catalogue.Snapshot
	if s.cat != nil {
		snap = s.cat.Current(ctx)
	}
	remaining := rec.Bytes
	for remaining > 0 {
		a := pickBundle(as, snap, country, at, hasData)
		if a == nil || (!a.Unlimited && a.State == BundleActive && a.RemainingBytes == 0) {
			break // no data left in the bundle in use (its voice or SMS may remain)
		}
		if a.State != BundleActive {
			if err := s.start(ctx, &e, a, at); err != nil {
				return res, err
			}
		}
		charge := remaining
		if !a.Unlimited {
			charge = min(remaining, a.RemainingBytes)
			a.RemainingBytes -= charge
		}
		remaining -= charge
		res.Charged += charge
		res.Assignment = append(res.Assignment, a.Reference)
		if charge > 0 {
			a.Used = true
		}
		if err := s.alerts(ctx, &e, a, charge, at); err != nil {
			return res, err
		}
		if err := s.settle(ctx, &e, a, at); err != nil {
			return res, err
		}
	}
	// Voice and SMS go to the bundle in use (or the next one that has them,
	// when none is in use); one active bundle per eSIM.
	for _, u := range []struct {
		n     int64
		has   func(*Assignment) bool
		take  func(*Assignment, int64) int64
		total *int64
		al    allowance
	}{
		{rec.Minutes, hasVoice, func(a *Assignment, n int64) int64 { c := min(n, a.RemainingMinutes); a.RemainingMinutes -= c; return c }, &res.Minutes, voiceAllowance},
		{rec.SMS, hasSMS, func(a *Assignment, n int64) int64 { c := min(n, a.RemainingSMS); a.RemainingSMS -= c; return c }, &res.SMS, smsAllowance},
	} {
		if u.n == 0 {
			continue
		}
		a := pickBundle(as, snap, country, at, u.has)
		if a == nil || (a.State == BundleActive && !u.has(a)) {
			continue
		}
		if a.State != BundleActive {
			if err := s.start(ctx, &e, a, at); err != nil {
				return res, err
			}
		}
		*u.total += u.take(a, u.n)
		a.Used = true
		res.Assignment = append(res.Assignment, a.Reference)
		if err := s.utilisation(ctx, &e, a, u.al, at); err != nil {
			return res, err
		}
		if err := s.settle(ctx, &e, a, at); err != nil {
			return res, err
		}
	}
	res.Unbilled = remaining
	if err := s.syncMSISDN(ctx, &e, at, "Bundle depleted"); err != nil {
		return res, err
	}
	if rec.Bytes > 0 || rec.Minutes > 0 || rec.SMS > 0 {
		prev := e.LastActivityAt
		if at.After(prev) {
			e.LastActivityAt = at // a late record does not make the eSIM look idle longer
		}
		// The inactivity check looks at LastActivityAt again when it falls
		// due (dueInactivity), so it needs moving only when it would come
		// more than a day early: one write a day per eSIM in use, not one
		// per usage record.
		if prev.IsZero() || e.LastActivityAt.Sub(prev) >= inactivityMoveSlack {
			if err := s.scheduleInactivity(ctx, &e); err != nil {
				return res, err
			}
		}
	}
	return res, s.store.UpdateESIM(ctx, &e)
}

// markInstalled records that the network saw the profile in use.
func (s *Service) markInstalled(ctx context.Context, e *ESIM, at time.Time) error {
	e.ProfileStatus = ProfileInstalled
	if e.FirstInstalledAt == nil {
		t := at
		e.FirstInstalledAt = &t
	}
	if err := s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistProfileStatus, AlertType: ProfileInstalled, At: at}); err != nil {
		return err
	}
	return s.emit(ctx, e, events.ProfileStatusChange{ICCID: e.ICCID, ProfileStatus: ProfileInstalled, Date: at}, at)
}

// endOverdue ends assignments whose validity or lapse time has passed by
// at, as the due work would have.
func (s *Service) endOverdue(ctx context.Context, as []Assignment, at time.Time) error {
	for i := range as {
		a := &as[i]
		switch {
		case (a.State == BundleActive || a.State == BundleDepleted) && a.EndsAt != nil && !a.EndsAt.After(at):
			if err := s.expire(ctx, a, *a.EndsAt); err != nil {
				return err
			}
		case (a.State == BundleQueued || a.State == BundleProcessing) && !a.LapsesAt.After(at):
			if err := s.lapse(ctx, a, a.LapsesAt); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasData(a *Assignment) bool  { return a.Unlimited || a.InitialBytes > 0 }
func hasVoice(a *Assignment) bool { return a.InitialMinutes > 0 }
func hasSMS(a *Assignment) bool   { return a.InitialSMS > 0 }

// exhausted reports whether every allowance of a bundle is used up.
func exhausted(a *Assignment) bool {
	return !a.Unlimited && a.RemainingBytes == 0 && a.RemainingMinutes == 0 && a.RemainingSMS == 0
}

// settle saves an assignment after a charge, ending it as depleted when
// nothing of it is left.
func (s *Service) settle(ctx context.Context, e *ESIM, a *Assignment, at time.Time) error {
	if !exhausted(a) {
		return s.store.UpdateAssignment(ctx, a)
	}
	return s.deplete(ctx, e, a, at)
}

// pickBundle returns the assignment a use of an allowance in country is
// charged to: the active one, if it has the allowance and works there;
// else, when none is active, the oldest queued one with the allowance that
// works there and whose scheduled start, if any, has come. A bundle works
// in its base countries and its roaming countries (notes §5.9); unknown
// coverage (no country, or a bundle gone from the catalogue) counts as
// working. An active bundle that does not work in country is not charged
// and stays active, for when the device is back where it works; one active
// bundle per eSIM means no queued one starts beside it, so such usage is
// unbilled.
func pickBundle(as []Assignment, snap *catalogue.Snapshot, country string, at time.Time, has func(*Assignment) bool) *Assignment {
	for i := range as {
		if a := &as[i]; a.State == BundleActive {
			if has(a) && worksIn(a, snap, country) {
				return a
			}
			return nil
		}
	}
	for i := range as {
		if a := &as[i]; a.State == BundleQueued && has(a) && !a.waitsForStart(at) && worksIn(a, snap, country) {
			return a
		}
	}
	return nil
}

// worksIn reports whether an assignment's bundle can carry usage in country.
func worksIn(a *Assignment, snap *catalogue.Snapshot, country string) bool {
	if country == "" || snap == nil {
		return true
	}
	b, ok := snap.Bundle(a.BundleName)
	return !ok || slices.Contains(b.Countries, country) || slices.Contains(b.Roaming, country)
}

// msisdnPrefix is the UK's range for drama (+44 7700 900000–900999),
// numbers that never reach a real subscriber.
const msisdnPrefix = "447700900"

// syncMSISDN gives a sandbox eSIM a phone number from the moment a bundle
// with voice or SMS is added to it (MSISDNEnabled, notes §4.2: the bundle
// gives the eSIM a number, before any use) and takes it back when no such
// bundle is left to use (MSISDNDisabled with the reason). Live numbers come
// from the network, not from esimd.
func (s *Service) syncMSISDN(ctx context.Context, e *ESIM, at time.Time, reason string) error {
	as, err := s.store.AssignmentsOfESIM(ctx, e.ID)
	if err != nil {
		return err
	}
	want := false
	for _, a := range as {
		if !a.State.Ended() && (hasVoice(&a) || hasSMS(&a)) {
			want = true
		}
	}
	switch {
	case want && e.MSISDN == "" && IsSandboxICCID(e.ICCID):
		n, err := s.store.NextCounter(ctx, "sandbox_msisdn", 1)
		if err != nil {
			return err
		}
		e.MSISDN = fmt.Sprintf("%s%03d", msisdnPrefix, n%1000)
		return s.emit(ctx, e, events.MSISDN{AlertType: events.KindMSISDNEnabled, ICCID: e.ICCID, MSISDN: e.MSISDN, Reason: "Bundle applied"}, at)
	case !want && e.MSISDN != "":
		msisdn := e.MSISDN
		e.MSISDN = ""
		return s.emit(ctx, e, events.MSISDN{AlertType: events.KindMSISDNDisabled, ICCID: e.ICCID, MSISDN: msisdn, Reason: reason}, at)
	}
	return nil
}

// start makes a queued assignment active from at, for its duration.
func (s *Service) start(ctx context.Context, e *ESIM, a *Assignment, at time.Time) error {
	end := at.Add(time.Duration(a.DurationDays) * 24 * time.Hour)
	a.State, a.StartedAt, a.EndsAt = BundleActive, &at, &end
	if err := s.store.CancelDue(ctx, DueBundleLapse, a.ID); err != nil {
		return err
	}
	if err := s.store.ScheduleDue(ctx, DueItem{OrgID: a.OrgID, Kind: DueBundleExpiry, SubjectID: a.ID, DueAt: end}); err != nil {
		return err
	}
	// FirstUse is sent on the first data use (alerts), which may come later
	// than a start by a voice minute or an SMS.
	return s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistFirstUse, BundleName: a.BundleName, At: at})
}

// alerts emits a bundle's data callbacks after a charge of charged bytes:
// FirstUse on its first data use of about a kB (an unlimited bundle
// counts no bytes used, so there the charge alone counts), then the
// Utilisation alerts the charge crossed. FirstUse replaces the 1 % alert
// (notes §4.2): the 1 % level is kept in the history only.
func (s *Service) alerts(ctx context.Context, e *ESIM, a *Assignment, charged int64, at time.Time) error {
	if a.AlertsSent&firstUseSent == 0 {
		used := charged
		if !a.Unlimited {
			used = a.InitialBytes - a.RemainingBytes
		}
		if used >= firstUseBytes {
			a.AlertsSent |= firstUseSent
			if err := s.emit(ctx, e, events.FirstUse{AlertType: events.KindFirstUse, ICCID: e.ICCID, Bundle: bundleBody(a, dataAllowance)}, at); err != nil {
				return err
			}
		}
	}
	if a.Unlimited {
		return nil
	}
	return s.utilisation(ctx, e, a, dataAllowance, at)
}

// utilisation emits the Utilisation alerts an allowance of a bundle has
// crossed, once each (notes §4.2: 1, 50, 80, 100 %), each saying which it
// is in percentage (esimd's extension). Data alerts are recorded in the
// history and, but for 1 % (replaced by FirstUse), sent; voice and SMS
// alerts are sent at every level with their unit.
func (s *Service) utilisation(ctx context.Context, e *ESIM, a *Assignment, al allowance, at time.Time) error {
	initial := al.initial(a)
	if initial <= 0 {
		return nil
	}
	used := initial - al.left(a)
	for i, pct := range thresholds {
		bit := uint16(1) << (al.shift + uint(i))
		// used/initial ≥ pct/100, in integers.
		if a.AlertsSent&bit != 0 || used*100 < pct*initial {
			continue
		}
		a.AlertsSent |= bit
		if al.unit == "" { // data
			alert := fmt.Sprintf("%d%% Used", pct)
			if err := s.store.AddHistory(ctx, e.ID, HistoryEntry{Name: HistUtilisationAlert, BundleName: a.BundleName, AlertType: alert, At: at}); err != nil {
				return err
			}
			e.LastAction, e.LastActionAt = HistUtilisationAlert, at
			if pct == 1 {
				continue
			}
		}
		if err := s.emit(ctx, e, events.Utilisation{AlertType: events.KindUtilisation, ICCID: e.ICCID,
			Percentage: int(pct), Bundle: bundleBody(a, al)}, at); err != nil {
			return err
		}
	}
	return nil
}

// bundleBody is the V3 callback's bundle object (the V2 form is a subset),
// with the quantities of one allowance: bytes, or minutes or messages
// with their unit.
func bundleBody(a *Assignment, al allowance) events.Bundle {
	return events.Bundle{ID: fmt.Sprint(a.ID), Reference: a.Reference, Name: a.BundleName, Description: a.Description,
		InitialQuantity: al.initial(a), RemainingQuantity: al.left(a), Unlimited: a.Unlimited, Unit: al.unit,
		StartTime: a.StartedAt, EndTime: a.EndsAt}
}
