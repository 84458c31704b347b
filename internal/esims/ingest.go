package esims

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// IngestRecord is one usage record from a network's charging or CDR feed.
type IngestRecord struct {
	RecordID string    // unique per record in the feed; a resent record is not charged again
	ICCID    string    //
	Bytes    int64     //
	MCC, MNC string    // where the data was used (or MCCMNC, or Country)
	MCCMNC   string    // MCC and MNC as one 5- or 6-digit string
	Country  string    // ISO code, when the feed has no MCC/MNC
	At       time.Time // when the data was used
}

// Ingest outcomes.
const (
	IngestApplied   = "applied"
	IngestDuplicate = "duplicate"
	IngestRejected  = "rejected"
)

// IngestResult says what became of one record.
type IngestResult struct {
	RecordID string
	Status   string
	Reason   string // for rejected records: what to fix
	Charged  int64
	Unbilled int64
}

// MaxIngestBatch bounds one call.
const MaxIngestBatch = 10000

// Ingest applies a batch of network usage records through ApplyUsage's
// logic in one transaction (one commit for the batch), reading and writing
// the batch's rows set-wise (usageBatch) while each record succeeds or is
// rejected alone. Records are
// applied in time order per eSIM, whatever order they arrive in; a record
// ID seen before is reported as a duplicate and not charged again.
func (s *Service) Ingest(ctx context.Context, recs []IngestRecord) ([]IngestResult, error) {
	if len(recs) > MaxIngestBatch {
		return nil, fault.Invalidf("a batch may hold at most %d records, got %d", MaxIngestBatch, len(recs))
	}
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := strings.Compare(recs[a].ICCID, recs[b].ICCID); c != 0 {
			return c
		}
		return recs[a].At.Compare(recs[b].At)
	})
	out := make([]IngestResult, len(recs))
	var snap *catalogue.Snapshot
	if s.cat != nil {
		snap = s.cat.Current(ctx)
	}
	wall := s.now()
	iccids := make([]string, 0, len(recs))
	for _, i := range order {
		if r := recs[i]; CheckICCID(r.ICCID) == nil && (len(iccids) == 0 || iccids[len(iccids)-1] != r.ICCID) {
			iccids = append(iccids, r.ICCID) // sorted: repeats are adjacent
		}
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		batch, err := newUsageBatch(ctx, s.store, iccids, recs)
		if err != nil {
			return err
		}
		// The records run through the same code as one usage record, on
		// the batch's store.
		bs := s.withStore(batch)
		// Usage never changes an organisation, so one read per batch serves
		// all of its records.
		batchOrgs := map[orgs.ID]orgs.Organisation{}
		for _, i := range order {
			r := recs[i]
			res := IngestResult{RecordID: r.RecordID}
			err := batch.record(func() error {
				return bs.ingestOne(ctx, snap, wall, batchOrgs, r, &res)
			})
			switch {
			case err == nil:
				res.Status = IngestApplied
			case fault.Is(err, fault.Conflict):
				res = IngestResult{RecordID: r.RecordID, Status: IngestDuplicate, Reason: "this recordId was applied before"}
			case fault.KindOf(err) == fault.Internal:
				return err
			default:
				res = IngestResult{RecordID: r.RecordID, Status: IngestRejected, Reason: fault.MessageOf(err)}
			}
			out[i] = res
		}
		return batch.flush(ctx)
	})
	if err == nil {
		applied := 0
		for _, r := range out {
			if r.Status == IngestApplied {
				applied++
			}
		}
		s.usageApplied(applied)
	}
	return out, err
}

func (s *Service) ingestOne(ctx context.Context, snap *catalogue.Snapshot, wall time.Time, batchOrgs map[orgs.ID]orgs.Organisation, r IngestRecord, res *IngestResult) error {
	switch {
	case r.RecordID == "" || len(r.RecordID) > 200:
		return fault.Invalidf("recordId is required (1–200 characters)")
	case r.Bytes < 0:
		return fault.Invalidf("bytes must not be negative")
	case r.At.IsZero():
		return fault.Invalidf("timestamp is required (RFC 3339)")
	}
	if err := CheckICCID(r.ICCID); err != nil {
		return err
	}
	e, err := s.store.ESIMByICCIDAnyOrg(ctx, r.ICCID)
	if fault.Is(err, fault.NotFound) {
		return fault.Invalidf("ICCID %s is not an eSIM of any organisation", r.ICCID)
	}
	if err != nil {
		return err
	}
	o, ok := batchOrgs[e.OrgID]
	if !ok {
		if o, err = s.orgs.Organisation(ctx, e.OrgID); err != nil {
			return err
		}
		batchOrgs[e.OrgID] = o
	}
	if r.At.After(o.Now(wall).Add(time.Hour)) {
		return fault.Invalidf("timestamp %s is in the future", r.At.UTC().Format(time.RFC3339))
	}
	reg, err := resolveNetwork(snap, e.Profile, r)
	if err != nil {
		return err
	}
	if err := s.store.RecordUsage(ctx, e.OrgID, r.RecordID, r.ICCID, r.Bytes, r.At, wall); err != nil {
		return err
	}
	if e.ReturnedAt != nil {
		return returned(&e) // in the returns process: what Get answers its organisation
	}
	// Usage is charged at the organisation's present: a late record counts
	// against the bundle running now, and never reopens an ended one.
	u, err := s.applyUsageTo(ctx, &e, &o, UsageRecord{Org: e.OrgID, ICCID: r.ICCID, Bytes: r.Bytes, Network: reg, At: latest(r.At, e.Location.LastSeen), FromNetwork: true})
	res.Charged, res.Unbilled = u.Charged, u.Unbilled
	return err
}

func latest(t time.Time, last *time.Time) time.Time {
	if last != nil && last.After(t) {
		return *last
	}
	return t
}

// resolveNetwork turns a record's MCC/MNC or country into a registration
// with the network's name and TADIG from the coverage data.
func resolveNetwork(snap *catalogue.Snapshot, profile string, r IngestRecord) (Registration, error) {
	if r.MCCMNC != "" {
		if r.MCC != "" || r.MNC != "" {
			return Registration{}, fault.Invalidf("give mccmnc or mcc and mnc, not both")
		}
		if len(r.MCCMNC) < 5 || len(r.MCCMNC) > 6 {
			return Registration{}, fault.Invalidf("mccmnc must be 5 or 6 digits, got %q", r.MCCMNC)
		}
		r.MCC, r.MNC = r.MCCMNC[:3], r.MCCMNC[3:]
	}
	if r.MCC == "" && r.MNC == "" {
		if r.Country == "" {
			return Registration{}, fault.Invalidf("give mcc and mnc, or country")
		}
		return Registration{Country: strings.ToUpper(r.Country)}, nil
	}
	if len(r.MCC) != 3 || len(r.MNC) < 2 || len(r.MNC) > 3 || strings.Trim(r.MCC+r.MNC, "0123456789") != "" {
		return Registration{}, fault.Invalidf("mcc must be 3 digits and mnc 2 or 3, got %q and %q", r.MCC, r.MNC)
	}
	reg := Registration{MCC: r.MCC, MNC: r.MNC, Country: strings.ToUpper(r.Country)}
	if snap == nil {
		return reg, nil
	}
	var best *catalogue.Network
	for i, n := range snap.Data.Networks {
		if n.MCC == r.MCC && n.MNC == r.MNC && (best == nil || cmp.Compare(boolInt(n.Profile == profile), boolInt(best.Profile == profile)) > 0) {
			best = &snap.Data.Networks[i]
		}
	}
	if best != nil {
		reg.Country, reg.TADIG, reg.NetworkName, reg.Brand = best.CountryISO, best.TADIG, best.Name, best.Brand
	}
	if reg.Country == "" {
		return Registration{}, fault.Invalidf("network %s%s is not in the coverage data; give country too", r.MCC, r.MNC)
	}
	return reg, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
