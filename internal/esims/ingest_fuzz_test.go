package esims_test

import (
	"testing"
	"time"

	"github.com/esimd/esimd/internal/esims"
)

// FuzzIngest feeds a network's usage records, whatever they hold, to the
// set-based ingest over real eSIMs: it must answer every record (applied,
// duplicate or rejected with a reason) and never fail as a whole, charge
// exactly what it reports, keep every bundle's balance within its bounds,
// and charge nothing when the same records come again.
//
//	go test ./internal/esims -run '^$' -fuzz FuzzIngest -fuzztime 30s
func FuzzIngest(f *testing.F) {
	f.Add("r1", 0, int64(1000), "", "", "", "GB", int64(0), "r2", 1, int64(5), "234", "30", "")
	f.Add("r1", 2, int64(-1), "20801", "", "", "", int64(-3600), "r1", 2, int64(1<<40), "", "", "99999")
	f.Add("", 3, int64(0), "", "", "", "", int64(1<<50), "x", 9, int64(7), "2", "3", "ZZ")
	e := newEnv(f)
	es := ingestFixture(e) // running, fresh, bare, suspended, unlimited
	iccids := []string{es[0].ICCID, es[1].ICCID, es[2].ICCID, es[3].ICCID, es[4].ICCID, "8944000000000000019", "not-an-iccid"}
	f.Fuzz(func(t *testing.T, id1 string, pick1 int, bytes1 int64, mccmnc1, mcc1, mnc1, country1 string, offset1 int64,
		id2 string, pick2 int, bytes2 int64, mcc2, mnc2, mccmnc2 string) {
		at := e.clock.Now()
		iccid := func(p int) string { return iccids[((p%len(iccids))+len(iccids))%len(iccids)] }
		// Record IDs are made unique per run unless the input repeats one
		// within the batch, so that earlier runs do not turn every record
		// into a duplicate.
		prefix := time.Now().Format("150405.000000000") + "-"
		recs := []esims.IngestRecord{
			{RecordID: prefix + id1, ICCID: iccid(pick1), Bytes: bytes1, MCCMNC: mccmnc1, MCC: mcc1, MNC: mnc1, Country: country1,
				At: at.Add(time.Duration(offset1 % int64(48*time.Hour)))},
			{RecordID: prefix + id2, ICCID: iccid(pick2), Bytes: bytes2, MCC: mcc2, MNC: mnc2, MCCMNC: mccmnc2, Country: "GB", At: at},
		}
		if id1 == "" {
			recs[0].RecordID = ""
		}
		out, err := e.engine.Ingest(e.ctx, recs)
		if err != nil {
			t.Fatalf("Ingest(%+v) failed as a whole: %v", recs, err)
		}
		if len(out) != len(recs) {
			t.Fatalf("%d results for %d records", len(out), len(recs))
		}
		for i, r := range out {
			switch r.Status {
			case esims.IngestApplied:
				if r.Charged < 0 || r.Unbilled < 0 || r.Charged+r.Unbilled != recs[i].Bytes {
					t.Errorf("record %d applied: charged %d + unbilled %d, sent %d bytes", i, r.Charged, r.Unbilled, recs[i].Bytes)
				}
			case esims.IngestDuplicate, esims.IngestRejected:
				if r.Reason == "" || r.Charged != 0 {
					t.Errorf("record %d %s without a reason or with a charge: %+v", i, r.Status, r)
				}
			default:
				t.Errorf("record %d: status %q", i, r.Status)
			}
		}
		for _, s := range es {
			as, err := e.db.AssignmentsOfESIM(e.ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				if a.RemainingBytes < 0 || a.RemainingBytes > a.InitialBytes {
					t.Fatalf("assignment %d holds %d of %d bytes", a.ID, a.RemainingBytes, a.InitialBytes)
				}
			}
		}
		again, err := e.engine.Ingest(e.ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range again {
			if r.Status == esims.IngestApplied {
				t.Errorf("record %d applied twice: %+v", i, recs[i])
			}
		}
	})
}
