package esims_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/storetest"
)

// bManual is a bundle that does not start automatically (autostart false).
const bManual = "esim_1GB_7D_GB_MANUAL_V2"

// withManualBundle adds bManual to the environment's catalogue.
func (e *env) withManualBundle() {
	e.t.Helper()
	d := fixtureCatalogue()
	m := d.Bundles[0]
	m.Name, m.Description, m.Autostart = bManual, "eSIM, 1GB, 7 Days, United Kingdom, starts when told, V2", false
	m.Allowances = []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: bManual, Amount: m.DataBytes}}
	d.Bundles = append(d.Bundles, m)
	if err := e.cat.Import(e.ctx, d); err != nil {
		e.t.Fatal(err)
	}
}

// assignAt applies a bundle with the deprecated apply's startTime.
func (e *env) assignAt(iccid, bundle string, start time.Time) esims.Assignment {
	e.t.Helper()
	a, err := e.tryAssignAt(iccid, bundle, start)
	if err != nil {
		e.t.Fatalf("assign %s to %s at %v: %v", bundle, iccid, start, err)
	}
	return a
}

func (e *env) tryAssignAt(iccid, bundle string, start time.Time) (esims.Assignment, error) {
	b, ok := e.cat.Current(e.ctx).Bundle(bundle)
	if !ok {
		e.t.Fatalf("bundle %s is not in the catalogue", bundle)
	}
	var a esims.Assignment
	err := e.db.InTx(e.ctx, func(ctx context.Context) error {
		o, err := e.db.Organisation(ctx, e.org.ID)
		if err != nil {
			return err
		}
		s, err := e.engine.Get(ctx, e.org.ID, iccid)
		if err != nil {
			return err
		}
		e.refs++
		a, err = e.engine.AssignStartingAt(ctx, &o, &s, &b, e.orderID, "00000000-0000-4000-8000-000000000000-"+strconv.Itoa(e.refs), b.Price, nil, start)
		return err
	})
	return a, err
}

// useAt applies a usage record in a country at an instant of the
// organisation's clock, without running due work first (a network record
// can arrive before the worker's tick).
func (e *env) useAt(iccid string, bytes int64, country string, at time.Time) esims.UsageResult {
	e.t.Helper()
	res, err := e.engine.ApplyUsage(e.ctx, esims.UsageRecord{Org: e.org.ID, ICCID: iccid, Bytes: bytes, Network: esims.Registration{Country: country}, At: at})
	if err != nil {
		e.t.Fatalf("usage of %d bytes on %s at %v: %v", bytes, iccid, at, err)
	}
	return res
}

// restart reopens the store from the same DSN with a new engine, as a
// restarted process would: nothing carries over but the database.
func (e *env) restart() {
	e.t.Helper()
	e.ro = nil
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.db = storetest.Open(e.t, e.path)
	e.cat = catalogue.NewService(e.db, e.clock.Now)
	if err := e.cat.Load(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.engine = esims.NewService(esims.Config{Store: e.db, Orgs: e.db, Catalogue: e.cat, Now: e.clock.Now})
}

func (e *env) dueCount(kind string, subject int64) int {
	e.t.Helper()
	return e.count(`SELECT count(*) FROM due_work WHERE kind = ? AND subject_id = ?`, kind, subject)
}

func timeEq(a, b *time.Time) bool { return a != nil && b != nil && a.Equal(*b) }

// TestDepletedBundleExpiresAtItsEnd: depleted is "no data left but still
// inside validity" (notes §3.1); at its end time the bundle is expired,
// with the history entry, and the bundle queued behind it is not touched.
func TestDepletedBundleExpiresAtItsEnd(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run("restart="+strconv.FormatBool(restart), func(t *testing.T) {
			e := newEnv(t)
			s := e.installed()
			a := e.assign(s.ICCID, b1GB)
			b := e.assign(s.ICCID, b2GB)
			e.advance(time.Hour)
			start := e.clock.Now()
			end := start.Add(7 * 24 * time.Hour)
			e.use(s.ICCID, MB)
			e.advance(time.Hour)
			depletedAt := e.clock.Now()
			if res := e.use(s.ICCID, GB-MB); res.Charged != GB-MB || len(res.Assignment) != 1 {
				t.Fatalf("depleting usage: %+v", res)
			}
			got := e.assignment(a.ID)
			if got.State != esims.BundleDepleted || !timeEq(got.EndedAt, &depletedAt) || !timeEq(got.EndsAt, &end) {
				t.Fatalf("after depletion: %s, ended %v, ends %v; want depleted at %v, ending %v", got.State, got.EndedAt, got.EndsAt, depletedAt, end)
			}
			if n := e.dueCount(esims.DueBundleExpiry, a.ID); n != 1 {
				t.Fatalf("a depleted bundle has %d expiry items, want 1: it must still expire", n)
			}
			if restart {
				e.restart()
			}
			e.advance(end.Sub(e.clock.Now()) - time.Second)
			if got := e.assignment(a.ID).State; got != esims.BundleDepleted {
				t.Fatalf("a second before its end: %s, want depleted", got)
			}
			e.advance(time.Second)
			got = e.assignment(a.ID)
			if got.State != esims.BundleExpired || !timeEq(got.EndedAt, &depletedAt) {
				t.Errorf("at its end: %s, ended %v; want expired, out of use since %v", got.State, got.EndedAt, depletedAt)
			}
			if got := e.assignment(b.ID); got.State != esims.BundleQueued || got.StartedAt != nil {
				t.Errorf("the queued bundle behind it: %s, started %v; want queued, untouched", got.State, got.StartedAt)
			}
			want := []string{"Bundle Depleted", "Bundle Expired"}
			var gotNames []string
			for _, n := range e.historyNames(s.ICCID) {
				if n == "Bundle Depleted" || n == "Bundle Expired" {
					gotNames = append(gotNames, n)
				}
			}
			if diff := cmp.Diff(want, gotNames); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			// A year on it is still expired, and nothing is left to run.
			e.advance(365 * 24 * time.Hour)
			if got := e.assignment(a.ID).State; got != esims.BundleExpired {
				t.Errorf("a year later: %s, want expired", got)
			}
			if n := e.dueCount(esims.DueBundleExpiry, a.ID); n != 0 {
				t.Errorf("%d expiry items left for an expired bundle", n)
			}
		})
	}
}

// A usage record past the end of a depleted bundle, before due work ran,
// finds it expired (as the due work would have made it).
func TestDepletedBundleExpiresBeforeDueWorkRuns(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	a := e.assign(s.ICCID, b1GB)
	e.use(s.ICCID, GB)
	end := *e.assignment(a.ID).EndsAt
	b := e.assign(s.ICCID, b1GB)
	res := e.useAt(s.ICCID, MB, "GB", end.Add(time.Hour))
	if diff := cmp.Diff([]string{b.Reference}, res.Assignment); diff != "" {
		t.Errorf("usage after the end charged (-want +got):\n%s", diff)
	}
	if got := e.assignment(a.ID); got.State != esims.BundleExpired {
		t.Errorf("depleted bundle past its end, due work not run: %s, want expired", got.State)
	}
	e.advance(0)
	if n := countOf(e.historyNames(s.ICCID), "Bundle Expired"); n != 1 {
		t.Errorf("%d Bundle Expired entries, want 1", n)
	}
}

// TestLifecycleBoundaries pins the edges: usage exactly equal to what is
// left, usage at exactly endTime, and the successor starting with no gap
// and no overlap, after depletion and after expiry; with a restart of the
// process in the middle too.
func TestLifecycleBoundaries(t *testing.T) {
	type result struct {
		States   []esims.BundleState
		Left     []int64
		Charged  []string // references charged by the last record
		Unbilled int64
	}
	cases := []struct {
		name string
		// run applies the records; a and b are the first and second bundle.
		run  func(e *env, iccid string) esims.UsageResult
		want func(a, b esims.Assignment) result
		// startGap: b starts exactly when a stopped being usable.
		startGap bool
	}{
		{
			name: "usage exactly equal to the remaining allowance",
			run: func(e *env, iccid string) esims.UsageResult {
				e.use(iccid, 300*MB)
				e.advance(time.Minute)
				return e.use(iccid, 700*MB)
			},
			want: func(a, b esims.Assignment) result {
				return result{[]esims.BundleState{esims.BundleDepleted, esims.BundleQueued}, []int64{0, 2 * GB}, []string{a.Reference}, 0}
			},
		},
		{
			name: "one byte more than remains starts the successor at the same instant",
			run: func(e *env, iccid string) esims.UsageResult {
				e.use(iccid, 300*MB)
				e.advance(time.Minute)
				return e.use(iccid, 700*MB+1)
			},
			want: func(a, b esims.Assignment) result {
				return result{[]esims.BundleState{esims.BundleDepleted, esims.BundleActive}, []int64{0, 2*GB - 1}, []string{a.Reference, b.Reference}, 0}
			},
			startGap: true,
		},
		{
			name: "after exact depletion the successor starts on the next use",
			run: func(e *env, iccid string) esims.UsageResult {
				e.use(iccid, GB)
				e.advance(time.Minute)
				return e.use(iccid, MB)
			},
			want: func(a, b esims.Assignment) result {
				return result{[]esims.BundleState{esims.BundleDepleted, esims.BundleActive}, []int64{0, 2*GB - MB}, []string{b.Reference}, 0}
			},
		},
		{
			name: "usage a nanosecond before endTime is the bundle's",
			run: func(e *env, iccid string) esims.UsageResult {
				e.use(iccid, MB)
				end := *e.assignments(iccid)[0].EndsAt
				return e.useAt(iccid, MB, "GB", end.Add(-time.Nanosecond))
			},
			want: func(a, b esims.Assignment) result {
				return result{[]esims.BundleState{esims.BundleActive, esims.BundleQueued}, []int64{GB - 2*MB, 2 * GB}, []string{a.Reference}, 0}
			},
		},
		{
			name: "usage at exactly endTime goes to the successor, which starts then",
			run: func(e *env, iccid string) esims.UsageResult {
				e.use(iccid, MB)
				end := *e.assignments(iccid)[0].EndsAt
				return e.useAt(iccid, MB, "GB", end)
			},
			want: func(a, b esims.Assignment) result {
				return result{[]esims.BundleState{esims.BundleExpired, esims.BundleActive}, []int64{GB - MB, 2*GB - MB}, []string{b.Reference}, 0}
			},
			startGap: true,
		},
		{
			name: "usage at exactly endTime after due work ran",
			run: func(e *env, iccid string) esims.UsageResult {
				e.use(iccid, MB)
				end := *e.assignments(iccid)[0].EndsAt
				e.advance(end.Sub(e.clock.Now()))
				return e.use(iccid, MB)
			},
			want: func(a, b esims.Assignment) result {
				return result{[]esims.BundleState{esims.BundleExpired, esims.BundleActive}, []int64{GB - MB, 2*GB - MB}, []string{b.Reference}, 0}
			},
			startGap: true,
		},
		{
			name: "a depleted bundle at exactly endTime",
			run: func(e *env, iccid string) esims.UsageResult {
				e.use(iccid, GB)
				end := *e.assignments(iccid)[0].EndsAt
				e.advance(end.Sub(e.clock.Now()))
				return e.use(iccid, MB)
			},
			want: func(a, b esims.Assignment) result {
				return result{[]esims.BundleState{esims.BundleExpired, esims.BundleActive}, []int64{0, 2*GB - MB}, []string{b.Reference}, 0}
			},
		},
	}
	for _, c := range cases {
		for _, restart := range []bool{false, true} {
			t.Run(c.name+"/restart="+strconv.FormatBool(restart), func(t *testing.T) {
				e := newEnv(t)
				s := e.installed()
				a := e.assign(s.ICCID, b1GB)
				b := e.assign(s.ICCID, b2GB)
				if restart {
					e.restart()
				}
				e.advance(time.Hour)
				res := c.run(e, s.ICCID)
				if restart {
					e.restart()
					e.advance(0)
				}
				as := e.assignments(s.ICCID)
				got := result{Charged: res.Assignment, Unbilled: res.Unbilled}
				for _, x := range as {
					got.States = append(got.States, x.State)
					got.Left = append(got.Left, x.RemainingBytes)
				}
				if diff := cmp.Diff(c.want(a, b), got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				first, second := as[0], as[1]
				if second.StartedAt != nil {
					// No overlap: the successor starts no earlier than the
					// first stopped being usable; no gap where asked.
					if first.EndedAt == nil || second.StartedAt.Before(*first.EndedAt) {
						t.Errorf("successor started %v, before the first ended (%v)", second.StartedAt, first.EndedAt)
					}
					if c.startGap && !second.StartedAt.Equal(*first.EndedAt) {
						t.Errorf("successor started %v, first ended %v: want the same instant", second.StartedAt, first.EndedAt)
					}
					if !second.EndsAt.Equal(second.StartedAt.Add(30 * 24 * time.Hour)) {
						t.Errorf("successor runs %v to %v, want 30 days", second.StartedAt, second.EndsAt)
					}
				}
				if n := e.count(`SELECT count(*) FROM assignments WHERE esim_id = ? AND state = 'active'`, s.ID); n > 1 {
					t.Errorf("%d active assignments", n)
				}
			})
		}
	}
}

// TestProvisioningDelay: new assignments are processing until the
// sandbox SM-DP+ has provisioned them, then queued; the eSIM can be
// installed and attach meanwhile (notes §3.1). The delayed transition is
// due work, so advancing the clock runs it, across a restart too.
func TestProvisioningDelay(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run("restart="+strconv.FormatBool(restart), func(t *testing.T) {
			e := newEnv(t)
			if err := e.db.SetProvisioningDelay(e.ctx, e.org.ID, 5*time.Minute); err != nil {
				t.Fatal(err)
			}
			r := e.provision(1)[0]
			a := e.assign(r.ICCID, b1GB)
			if a.State != esims.BundleProcessing || e.assignment(a.ID).State != esims.BundleProcessing {
				t.Fatalf("new assignment: %s, want processing", e.assignment(a.ID).State)
			}
			if restart {
				e.restart()
			}
			// Installed and attached while processing.
			if _, err := e.engine.SetProfileStatus(e.ctx, e.org.ID, r.ICCID, esims.ProfileInstalled, ""); err != nil {
				t.Fatalf("install while processing: %v", err)
			}
			if _, err := e.engine.Attach(e.ctx, e.org.ID, r.ICCID, esims.Registration{Country: "GB"}, time.Time{}); err != nil {
				t.Fatalf("attach while processing: %v", err)
			}
			// Not provisioned yet: data is not charged to it.
			if res := e.use(r.ICCID, MB); res.Charged != 0 || res.Unbilled != MB {
				t.Errorf("usage while processing: %+v, want unbilled", res)
			}
			e.advance(5*time.Minute - time.Second)
			if got := e.assignment(a.ID).State; got != esims.BundleProcessing {
				t.Fatalf("a second before the delay: %s, want processing", got)
			}
			e.advance(time.Second)
			if got := e.assignment(a.ID); got.State != esims.BundleQueued || got.StartedAt != nil {
				t.Fatalf("after the delay: %s (started %v), want queued", got.State, got.StartedAt)
			}
			if res := e.use(r.ICCID, MB); res.Charged != MB {
				t.Errorf("usage once queued: %+v, want charged", res)
			}
			if got := e.assignment(a.ID).State; got != esims.BundleActive {
				t.Errorf("after first use: %s, want active", got)
			}
			// A delay set later does not move assignments made before it;
			// back to 0, new ones queue at once.
			if err := e.db.SetProvisioningDelay(e.ctx, e.org.ID, 0); err != nil {
				t.Fatal(err)
			}
			if b := e.assign(r.ICCID, b1GB); e.assignment(b.ID).State != esims.BundleQueued {
				t.Errorf("with the delay back at 0: %s, want queued", e.assignment(b.ID).State)
			}
		})
	}
}

// Live organisations have no provisioning delay: their profiles were
// provisioned into the pool ahead of time.
func TestProvisioningDelaySandboxOnly(t *testing.T) {
	e := newEnv(t)
	e.org = e.newOrg(false)
	if err := e.db.SetProvisioningDelay(e.ctx, e.org.ID, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.ImportPool(e.ctx, []esims.PoolProfile{{ICCID: "8944000000000000019", MatchingID: "ABCD-EFGH-JKLM-NPQR", SMDPAddress: "rsp.example.net", Profile: "Profile 1"}}); err != nil {
		t.Fatal(err)
	}
	r := e.provision(1)[0]
	if a := e.assign(r.ICCID, b1GB); e.assignment(a.ID).State != esims.BundleQueued {
		t.Errorf("a live organisation's assignment: %s, want queued", e.assignment(a.ID).State)
	}
}

// TestScheduledStart: the deprecated apply's startTime starts a bundle
// that does not autostart at that instant of the organisation's clock, not
// at first use; without it such a bundle starts on first use in a country
// it covers; autostart bundles ignore it.
func TestScheduledStart(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		name   string
		bundle string
		start  time.Duration // from now; 0: none given
		delay  time.Duration // provisioning delay
		// what happens as the steps run
		usedBeforeStart bool // a use in GB before the start time starts it
		wantStart       time.Duration
	}{
		{name: "start time ahead", bundle: bManual, start: 2 * day, wantStart: 2 * day},
		{name: "start time ahead, use before it does not start it", bundle: bManual, start: 2 * day, usedBeforeStart: true, wantStart: 2 * day},
		{name: "start time passed: starts at once", bundle: bManual, start: -day, wantStart: 0},
		{name: "start time during processing: starts when provisioned", bundle: bManual, start: time.Minute, delay: 5 * time.Minute, wantStart: 5 * time.Minute},
		{name: "start time after processing", bundle: bManual, start: day, delay: 5 * time.Minute, wantStart: day},
		{name: "no start time: first use", bundle: bManual, usedBeforeStart: true, wantStart: 3 * time.Hour},
		{name: "autostart bundle ignores it", bundle: b1GB, start: 2 * day, usedBeforeStart: true, wantStart: 3 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.withManualBundle()
			if c.delay > 0 {
				if err := e.db.SetProvisioningDelay(e.ctx, e.org.ID, c.delay); err != nil {
					t.Fatal(err)
				}
			}
			s := e.installed()
			t1 := e.clock.Now()
			var start time.Time
			if c.start != 0 {
				start = t1.Add(c.start)
			}
			a := e.assignAt(s.ICCID, c.bundle, start)
			// Usage in a country the bundle does not cover never starts it.
			if res := e.useAt(s.ICCID, MB, "FR", t1.Add(time.Hour)); res.Charged != 0 && c.wantStart > time.Hour {
				t.Errorf("usage in France charged %d bytes to a GB bundle", res.Charged)
			}
			e.advance(3 * time.Hour)
			if c.usedBeforeStart {
				e.use(s.ICCID, MB)
			}
			e.advance(3 * day)
			got := e.assignment(a.ID)
			want := t1.Add(c.wantStart)
			if got.State != esims.BundleActive || !timeEq(got.StartedAt, &want) || !got.EndsAt.Equal(want.Add(7*day)) {
				t.Fatalf("bundle: %s from %v to %v; want active from %v for 7 days", got.State, got.StartedAt, got.EndsAt, want)
			}
			if n := e.count(`SELECT count(*) FROM due_work WHERE kind = ?`, esims.DueBundleStart); n != 0 {
				t.Errorf("%d scheduled starts left", n)
			}
			// A scheduled start is not a use: no FirstUse until data flows.
			if !c.usedBeforeStart && c.bundle == bManual && len(e.events("FirstUse")) != 0 {
				t.Errorf("FirstUse sent for a start nobody used: %v", e.events("FirstUse"))
			}
		})
	}
}

// A scheduled start while another bundle runs waits for it: one active
// bundle per eSIM. It then starts on first use, like any queued bundle.
func TestScheduledStartBehindARunningBundle(t *testing.T) {
	e := newEnv(t)
	e.withManualBundle()
	s := e.installed()
	first := e.assign(s.ICCID, b1GB)
	e.use(s.ICCID, MB)
	m := e.assignAt(s.ICCID, bManual, e.clock.Now().Add(24*time.Hour))
	e.advance(2 * 24 * time.Hour)
	if got := e.assignment(m.ID); got.State != esims.BundleQueued {
		t.Fatalf("scheduled start while %s runs: %s, want queued", b1GB, got.State)
	}
	e.advance(5 * 24 * time.Hour) // the first expires
	if got := e.assignment(first.ID).State; got != esims.BundleExpired {
		t.Fatalf("first bundle: %s", got)
	}
	res := e.use(s.ICCID, MB)
	if diff := cmp.Diff([]string{m.Reference}, res.Assignment); diff != "" {
		t.Errorf("usage after the first ended charged (-want +got):\n%s", diff)
	}
}
