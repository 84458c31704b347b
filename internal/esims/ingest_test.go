package esims_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/esims"
)

// ingestWorld is what an ingest test compares: everything a usage record
// can change, with row IDs kept (both worlds are built the same way, so
// their IDs agree) and ICCIDs replaced by their position.
type ingestWorld struct {
	Results     []string
	ESIMs       []string
	Assignments []string
	History     []string
	Events      []string
	Due         []string
	Records     int64
}

// ingestFixture builds the same eSIMs in e and returns them: a running
// bundle with another queued, one never installed, one without bundles,
// one suspended while its profile is still Released, and an unlimited one.
func ingestFixture(e *env) []esims.ESIM {
	e.t.Helper()
	running := e.installed()
	e.assign(running.ICCID, b1GB)
	e.assign(running.ICCID, b2GB)
	fresh := e.provision(1)[0]
	e.assign(fresh.ICCID, bFR)
	bare := e.installed()
	suspended := e.provision(1)[0]
	e.assign(suspended.ICCID, b1GB)
	s := e.esim(suspended.ICCID)
	s.State = esims.StateSuspended
	if err := e.db.UpdateESIM(e.ctx, &s); err != nil {
		e.t.Fatal(err)
	}
	unlimited := e.installed()
	e.assign(unlimited.ICCID, bUL)
	return []esims.ESIM{running, fresh, bare, suspended, unlimited}
}

// ingestRecords is a feed over the fixture's eSIMs: thresholds crossed,
// a bundle depleted and the next started, a first attachment and a
// country change, unbilled usage, a record rejected after its eSIM was
// marked installed, usage abroad where no bundle works, duplicates, and
// records out of time order.
func ingestRecords(es []esims.ESIM) []esims.IngestRecord {
	at := t0.Add(-time.Hour)
	var recs []esims.IngestRecord
	add := func(i int, bytes int64, country string, minutes int) {
		recs = append(recs, esims.IngestRecord{RecordID: "r" + strconv.Itoa(len(recs)), ICCID: es[i].ICCID, Bytes: bytes,
			Country: country, At: at.Add(time.Duration(minutes) * time.Minute)})
	}
	add(0, 20*MB, "GB", 1)
	add(0, 500*MB, "GB", 3)
	add(0, 300*MB, "GB", 2) // earlier than the one before: applied first
	add(1, 5*MB, "FR", 1)   // not installed yet: the network's usage installs it
	add(0, 400*MB, "GB", 4) // depletes the 1 GB and starts the 2 GB
	add(2, 7*MB, "GB", 1)   // no bundle: unbilled
	add(3, 1*MB, "GB", 1)   // suspended: rejected after marking it installed
	add(1, 2*MB, "GB", 30)  // a new country
	add(4, 3*GB, "GB", 5)
	recs = append(recs, recs[1])                                                                   // resent in the same batch
	recs = append(recs, esims.IngestRecord{RecordID: "bad", ICCID: es[0].ICCID, Bytes: 1, At: at}) // no network
	add(0, 1*GB, "GB", 6)
	add(0, 50*MB, "FR", 5) // abroad: no GB bundle works in France, so unbilled, and the running one stays active
	return recs
}

func (e *env) ingestWorld(es []esims.ESIM, results []esims.IngestResult) ingestWorld {
	e.t.Helper()
	pos := map[string]string{}
	for i, s := range es {
		pos[s.ICCID] = "esim" + strconv.Itoa(i)
	}
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			e.t.Fatal(err)
		}
		out := string(b)
		for iccid, p := range pos {
			out = strings.ReplaceAll(out, iccid, p)
		}
		return out
	}
	var w ingestWorld
	for _, r := range results {
		w.Results = append(w.Results, js(r))
	}
	for _, s := range es {
		got := e.esim(s.ICCID)
		got.MatchingID, got.PIN, got.PUK = "", "", "" // random per world
		w.ESIMs = append(w.ESIMs, js(got))
		for _, a := range e.assignments(s.ICCID) {
			w.Assignments = append(w.Assignments, js(a))
		}
		for _, h := range e.historyNames(s.ICCID) {
			w.History = append(w.History, pos[s.ICCID]+" "+h)
		}
	}
	for _, ev := range e.events() {
		ev.ID = 0
		w.Events = append(w.Events, js(ev))
	}
	due, err := e.db.DueItems(e.ctx, t0.Add(10*365*24*time.Hour), e.org.ID, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, d := range due {
		d.ID = 0
		w.Due = append(w.Due, js(d))
	}
	w.Records = int64(e.count(`SELECT COUNT(*) FROM usage_records`))
	return w
}

// TestIngestBatchMatchesRecordByRecord feeds the same records to two
// identical worlds, in one batch and one record per batch, and requires
// the same outcome row for row: the batch's buffered reads and writes
// must be invisible. It also checks the outcome itself, so that two
// equally wrong worlds cannot pass.
func TestIngestBatchMatchesRecordByRecord(t *testing.T) {
	batched, single := newEnv(t), newEnv(t)
	esB, esS := ingestFixture(batched), ingestFixture(single)
	recs := ingestRecords(esB)
	resB, err := batched.engine.Ingest(batched.ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	// One by one in the order a batch applies them: by eSIM, then by time.
	recsS := ingestRecords(esS)
	order := make([]int, len(recsS))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := strings.Compare(recsS[a].ICCID, recsS[b].ICCID); c != 0 {
			return c
		}
		return recsS[a].At.Compare(recsS[b].At)
	})
	resS := make([]esims.IngestResult, len(recsS))
	for _, i := range order {
		out, err := single.engine.Ingest(single.ctx, []esims.IngestRecord{recsS[i]})
		if err != nil {
			t.Fatal(err)
		}
		resS[i] = out[0]
	}
	wB, wS := batched.ingestWorld(esB, resB), single.ingestWorld(esS, resS)
	if diff := cmp.Diff(wS, wB); diff != "" {
		t.Fatalf("one batch differs from record by record (-single +batched):\n%s", diff)
	}

	statuses := ""
	for _, r := range resB {
		statuses += r.Status[:1]
	}
	// applied, duplicate, rejected; the resent r1 and the suspended eSIM's record.
	if want := "aaaaaaraadraa"; statuses != want {
		t.Errorf("statuses %s, want %s (%+v)", statuses, want, resB)
	}
	as := batched.assignments(esB[0].ICCID)
	if as[0].State != esims.BundleDepleted || as[1].State != esims.BundleActive || as[1].RemainingBytes != 2*GB-220*MB-1*GB {
		t.Errorf("running eSIM's bundles after the feed: %+v", as)
	}
	if got := batched.esim(esB[1].ICCID); got.ProfileStatus != esims.ProfileInstalled || got.Location.Country != "GB" {
		t.Errorf("fresh eSIM: profile %s in %s; want Installed in GB", got.ProfileStatus, got.Location.Country)
	}
	if got := batched.esim(esB[3].ICCID); got.ProfileStatus != esims.ProfileReleased {
		t.Errorf("suspended eSIM's profile is %s: a rejected record's changes were kept", got.ProfileStatus)
	}
	if n := len(batched.events("Utilisation")); n != 4 {
		t.Errorf("%d Utilisation alerts; want 50%%, 80%%, 100%% of the 1 GB and 50%% of the 2 GB (FirstUse replaces 1%%)", n)
	}
	if wB.Records != 10 {
		t.Errorf("%d usage records marked applied; want 10", wB.Records)
	}
	if abroad := resB[len(resB)-1]; abroad.Charged != 0 || abroad.Unbilled != 50*MB {
		t.Errorf("usage in France on GB bundles: %+v; want all 50 MB unbilled", abroad)
	}
	if fresh := resB[7]; fresh.Charged != 0 || fresh.Unbilled != 2*MB {
		t.Errorf("usage in GB on a France bundle: %+v; want all 2 MB unbilled", fresh)
	}

	// Resending the whole feed charges nothing and changes nothing.
	again, err := batched.engine.Ingest(batched.ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.Status == esims.IngestApplied {
			t.Errorf("resent record %d (%s) applied again", i, r.RecordID)
		}
	}
	if diff := cmp.Diff(wB.Assignments, batched.ingestWorld(esB, resB).Assignments); diff != "" {
		t.Errorf("resending changed assignments:\n%s", diff)
	}
}
