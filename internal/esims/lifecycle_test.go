package esims_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/esimid"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/fault"
)

// luhnValid is an oracle independent of esimid: the digits, check digit
// included, sum to a multiple of 10 with every second digit from the right
// doubled.
func luhnValid(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[len(s)-1-i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func TestLuhnOracle(t *testing.T) {
	// Known-good numbers: the ISO/IEC 7812 example and a Visa test card.
	for _, s := range []string{"79927398713", "4111111111111111"} {
		if !luhnValid(s) {
			t.Errorf("luhnValid(%s) = false, want true", s)
		}
	}
	for _, s := range []string{"79927398710", "4111111111111112"} {
		if luhnValid(s) {
			t.Errorf("luhnValid(%s) = true, want false", s)
		}
	}
}

func TestProvisionSandboxICCIDs(t *testing.T) {
	e := newEnv(t)
	other := e.newOrg(true)
	var all []esims.ESIM
	all = append(all, e.provision(3)...)
	all = append(all, e.provision(2)...)
	err := e.db.InTx(e.ctx, func(ctx context.Context) error {
		made, err := e.engine.Provision(ctx, &other, "Profile 1", 2, "")
		all = append(all, made...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 7 {
		t.Fatalf("provisioned %d eSIMs, want 7", len(all))
	}
	seen := map[string]bool{}
	for _, s := range all {
		if len(s.ICCID) != 19 || !strings.HasPrefix(s.ICCID, "8999901") || !luhnValid(s.ICCID) {
			t.Errorf("ICCID %q: want 19 Luhn-valid digits starting 8999901", s.ICCID)
		}
		if !esims.IsSandboxICCID(s.ICCID) {
			t.Errorf("IsSandboxICCID(%s) = false", s.ICCID)
		}
		if seen[s.ICCID] {
			t.Errorf("ICCID %s issued twice", s.ICCID)
		}
		seen[s.ICCID] = true
		if s.ID == 0 || s.MatchingID == "" || s.SMDPAddress == "" || s.ProfileStatus != esims.ProfileReleased || s.State != esims.StateActive || s.Profile != "Profile 1" {
			t.Errorf("new eSIM %+v: want a stored, released, active Profile 1 eSIM with activation data", s)
		}
		if _, err := esimid.NewActivationCode(s.SMDPAddress, s.MatchingID); err != nil {
			t.Errorf("eSIM %s: activation code: %v", s.ICCID, err)
		}
	}
	// They are stored: each reads back under its organisation only.
	for i, s := range all {
		owner, stranger := e.org.ID, other.ID
		if i >= 5 {
			owner, stranger = other.ID, e.org.ID
		}
		if _, err := e.engine.Get(e.ctx, owner, s.ICCID); err != nil {
			t.Errorf("Get(%s) by its owner: %v", s.ICCID, err)
		}
		_, err := e.engine.Get(e.ctx, stranger, s.ICCID)
		wantKind(t, err, fault.Forbidden)
	}
}

func TestProvisionLivePool(t *testing.T) {
	e := newEnv(t)
	live := e.newOrg(false)
	claim := func(n int) ([]esims.ESIM, error) {
		var out []esims.ESIM
		err := e.db.InTx(e.ctx, func(ctx context.Context) error {
			var err error
			out, err = e.engine.Provision(ctx, &live, "Profile 1", n, "")
			return err
		})
		return out, err
	}
	pool := func() int { return e.count(`SELECT count(*) FROM profile_pool`) }

	_, err := claim(1)
	wantKind(t, err, fault.Unavailable)

	var ps []esims.PoolProfile
	for i, profile := range []string{"Profile 1", "Profile 1", "Profile 1", "Profile 2"} {
		id, err := esimid.NewICCID("89440000000000000" + string(rune('1'+i)))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, esims.PoolProfile{ICCID: id.String(), MatchingID: "ABCD-EFGH-JKLM-NP" + string(rune('A'+i)) + "Q",
			SMDPAddress: "rsp.example.net", PIN: "1234", PUK: "12345678", Profile: profile})
	}
	bad := ps[0]
	bad.ICCID = bad.ICCID[:18] + string('0'+(bad.ICCID[18]-'0'+1)%10) // wrong check digit
	if _, err := e.engine.ImportPool(e.ctx, []esims.PoolProfile{ps[1], bad}); !fault.Is(err, fault.Invalid) {
		t.Fatalf("ImportPool with a bad check digit: %v, want Invalid", err)
	}
	if n := pool(); n != 0 {
		t.Fatalf("a rejected import left %d profiles in the pool", n)
	}
	n, err := e.engine.ImportPool(e.ctx, ps)
	if err != nil || n != 4 {
		t.Fatalf("ImportPool = %d, %v; want 4, nil", n, err)
	}

	got, err := claim(2)
	if err != nil {
		t.Fatal(err)
	}
	want := []esims.PoolProfile{ps[0], ps[1]}
	if diff := cmp.Diff(want, poolOf(got)); diff != "" {
		t.Errorf("first claim (-want +got):\n%s", diff)
	}
	for _, s := range got {
		if s.OrgID != live.ID || s.ProfileStatus != esims.ProfileReleased || esims.IsSandboxICCID(s.ICCID) {
			t.Errorf("live eSIM %+v", s)
		}
	}
	if n := pool(); n != 2 {
		t.Errorf("pool has %d profiles after claiming 2 of 4, want 2", n)
	}
	// Two more on Profile 1 is one too many: nothing is taken.
	_, err = claim(2)
	wantKind(t, err, fault.Unavailable)
	if n := pool(); n != 2 {
		t.Errorf("pool has %d profiles after a failed claim, want 2", n)
	}
	got, err = claim(1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]esims.PoolProfile{ps[2]}, poolOf(got)); diff != "" {
		t.Errorf("last Profile 1 claim (-want +got):\n%s", diff)
	}
	_, err = claim(1)
	wantKind(t, err, fault.Unavailable)
	// Issued ICCIDs are not taken back into the pool.
	if n, err := e.engine.ImportPool(e.ctx, ps); err != nil || n != 0 {
		t.Errorf("re-import of issued and pooled profiles = %d, %v; want 0, nil", n, err)
	}
	if n := pool(); n != 1 {
		t.Errorf("pool has %d profiles, want the Profile 2 one", n)
	}
}

func poolOf(es []esims.ESIM) []esims.PoolProfile {
	out := []esims.PoolProfile{}
	for _, s := range es {
		out = append(out, esims.PoolProfile{ICCID: s.ICCID, MatchingID: s.MatchingID, SMDPAddress: s.SMDPAddress, PIN: s.PIN, PUK: s.PUK, Profile: s.Profile})
	}
	return out
}

// stateOf lists assignment states, oldest first.
func statesOf(as []esims.Assignment) []esims.BundleState {
	out := make([]esims.BundleState, len(as))
	for i, a := range as {
		out[i] = a.State
	}
	return out
}

func TestAssignmentQueueing(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	a := e.assign(s.ICCID, b1GB)
	b := e.assign(s.ICCID, b2GB)
	c := e.assign(s.ICCID, b1GB)
	Q, A, D := esims.BundleQueued, esims.BundleActive, esims.BundleDepleted
	steps := []struct {
		name      string
		bytes     int64
		wantRefs  []string
		wantState []esims.BundleState
		wantLeft  []int64
	}{
		{"nothing used yet", 0, nil, []esims.BundleState{Q, Q, Q}, []int64{GB, 2 * GB, GB}},
		{"first use starts the oldest", 100 * MB, []string{a.Reference}, []esims.BundleState{A, Q, Q}, []int64{900 * MB, 2 * GB, GB}},
		{"the second waits", 800 * MB, []string{a.Reference}, []esims.BundleState{A, Q, Q}, []int64{100 * MB, 2 * GB, GB}},
		{"leftover flows into the next", 150 * MB, []string{a.Reference, b.Reference}, []esims.BundleState{D, A, Q}, []int64{0, 2*GB - 50*MB, GB}},
		{"exactly depleting leaves the next queued", 2*GB - 50*MB, []string{b.Reference}, []esims.BundleState{D, D, Q}, []int64{0, 0, GB}},
		{"the third starts on the next use", 1, []string{c.Reference}, []esims.BundleState{D, D, A}, []int64{0, 0, GB - 1}},
		{"more than is left is not charged", 2 * GB, []string{c.Reference}, []esims.BundleState{D, D, D}, []int64{0, 0, 0}},
	}
	for _, st := range steps {
		var res esims.UsageResult
		if st.bytes > 0 {
			res = e.use(s.ICCID, st.bytes)
		}
		as := e.assignments(s.ICCID)
		left := make([]int64, len(as))
		for i, x := range as {
			left[i] = x.RemainingBytes
		}
		if diff := cmp.Diff(st.wantState, statesOf(as)); diff != "" {
			t.Errorf("%s: states (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(st.wantLeft, left); diff != "" {
			t.Errorf("%s: remaining bytes (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff(st.wantRefs, res.Assignment); diff != "" {
			t.Errorf("%s: charged assignments (-want +got):\n%s", st.name, diff)
		}
		if res.Charged+res.Unbilled != st.bytes {
			t.Errorf("%s: charged %d + unbilled %d != %d sent", st.name, res.Charged, res.Unbilled, st.bytes)
		}
		if n := e.count(`SELECT count(*) FROM assignments WHERE esim_id = ? AND state = 'active'`, s.ID); n > 1 {
			t.Errorf("%s: %d active assignments", st.name, n)
		}
	}
	if got := e.assignments(s.ICCID)[2]; got.Unlimited || got.InitialBytes != GB {
		t.Errorf("third assignment %+v", got)
	}
	if res := e.use(s.ICCID, 10*MB); res.Charged != 0 || res.Unbilled != 10*MB {
		t.Errorf("usage with every bundle depleted: %+v, want all unbilled", res)
	}
}

func TestAssignRules(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	if _, err := e.tryAssign(s.ICCID, bProfile); !fault.Is(err, fault.Invalid) {
		t.Errorf("a Profile 2 bundle on a Profile 1 eSIM: %v, want Invalid", err)
	}
	if err := e.engine.Delete(e.ctx, e.org.ID, s.ICCID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tryAssign(s.ICCID, b1GB); !fault.Is(err, fault.Invalid) {
		t.Errorf("a bundle on a deactivated eSIM: %v, want Invalid", err)
	}
	if n := e.count(`SELECT count(*) FROM assignments`); n != 0 {
		t.Errorf("rejected assignments left %d rows", n)
	}
}

func TestFirstAttachmentOnce(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	for i, c := range []string{"GB", "FR", "GB"} {
		if _, err := e.engine.Attach(e.ctx, e.org.ID, s.ICCID, esims.Registration{Country: c}, t0.Add(time.Duration(i)*30*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	e.assign(s.ICCID, b1GB)
	e.use(s.ICCID, MB)
	evs := e.events("FirstAttachment")
	if len(evs) != 1 {
		t.Fatalf("%d FirstAttachment notifications, want 1", len(evs))
	}
	want := events.Payload(events.FirstAttachment{AlertType: "FirstAttachment", ICCID: s.ICCID})
	if diff := cmp.Diff(want, evs[0].Payload); diff != "" {
		t.Errorf("FirstAttachment payload (-want +got):\n%s", diff)
	}
	if got := e.esim(s.ICCID).FirstAttachedAt; got == nil || !got.Equal(t0) {
		t.Errorf("FirstAttachedAt = %v, want %v", got, t0)
	}
	if n := countOf(e.historyNames(s.ICCID), "eSIM First Attachment"); n != 1 {
		t.Errorf("%d eSIM First Attachment history entries, want 1", n)
	}
	// A profile that is not on a device cannot attach.
	r := e.provision(1)[0]
	if _, err := e.engine.Attach(e.ctx, e.org.ID, r.ICCID, esims.Registration{Country: "GB"}, time.Time{}); !fault.Is(err, fault.Invalid) {
		t.Errorf("Attach of a released profile: %v, want Invalid", err)
	}
}

func countOf(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

func TestCountryChange24Hours(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	e.assign(s.ICCID, b1GB)
	type sent struct {
		Country string
		After   time.Duration
	}
	steps := []struct {
		after   time.Duration
		country string
		usage   bool // register through a usage record instead of Attach
		want    bool
	}{
		{0, "GB", false, true},                          // first registration
		{time.Hour, "GB", false, false},                 // same country
		{2 * time.Hour, "FR", false, true},              // a new country
		{3 * time.Hour, "GB", false, false},             // back to a country seen within 24 h
		{24*time.Hour - time.Second, "GB", true, false}, // still within 24 h
		{24 * time.Hour, "GB", true, true},              // re-sent after 24 h
		{26 * time.Hour, "FR", false, true},             // FR's 24 h are over too
		{30 * time.Hour, "GB", true, false},
		{48 * time.Hour, "GB", false, true},
	}
	var want []sent
	for _, st := range steps {
		at := t0.Add(st.after)
		if st.usage {
			if _, err := e.engine.ApplyUsage(e.ctx, esims.UsageRecord{Org: e.org.ID, ICCID: s.ICCID, Bytes: kB, Network: esims.Registration{Country: st.country}, At: at}); err != nil {
				t.Fatal(err)
			}
		} else if _, err := e.engine.Attach(e.ctx, e.org.ID, s.ICCID, esims.Registration{Country: st.country}, at); err != nil {
			t.Fatal(err)
		}
		if st.want {
			want = append(want, sent{st.country, st.after})
		}
	}
	var got []sent
	evs := e.events("CountryChange")
	for _, ev := range evs {
		c := ev.Payload.(events.CountryChange).Country
		got = append(got, sent{c.Code, ev.At.Sub(t0)})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CountryChange notifications (-want +got):\n%s", diff)
	}
	wantPayload := events.CountryChange{AlertType: "CountryChange", ICCID: s.ICCID, Country: events.Country{Code: "GB", Name: "United Kingdom"}}
	if diff := cmp.Diff(events.Payload(wantPayload), evs[0].Payload); diff != "" {
		t.Errorf("CountryChange payload (-want +got):\n%s", diff)
	}
}

func TestFirstUseStartsTheBundle(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	a := e.assign(s.ICCID, b1GB)
	e.advance(2 * time.Hour)
	start := e.clock.Now()
	e.use(s.ICCID, MB)
	e.advance(time.Hour)
	e.use(s.ICCID, MB)
	got := e.assignment(a.ID)
	if got.State != esims.BundleActive || got.StartedAt == nil || !got.StartedAt.Equal(start) ||
		got.EndsAt == nil || !got.EndsAt.Equal(start.Add(7*24*time.Hour)) || !got.Used {
		t.Errorf("assignment after first use: state %s, start %v, end %v, used %v; want active from %v for 7 days",
			got.State, got.StartedAt, got.EndsAt, got.Used, start)
	}
	evs := e.events("FirstUse")
	if len(evs) != 1 {
		t.Fatalf("%d FirstUse notifications, want 1", len(evs))
	}
	p, _ := evs[0].Payload.(events.FirstUse)
	bundle := p.Bundle
	if p.AlertType != "FirstUse" || p.ICCID != s.ICCID || bundle.Name != b1GB ||
		bundle.StartTime == nil || !bundle.StartTime.Equal(start) || bundle.EndTime == nil || !bundle.EndTime.Equal(start.Add(7*24*time.Hour)) ||
		bundle.InitialQuantity != GB {
		t.Errorf("FirstUse payload %v", p)
	}
	if n := countOf(e.historyNames(s.ICCID), "eSIM First Use"); n != 1 {
		t.Errorf("%d eSIM First Use history entries, want 1", n)
	}
}

func TestUtilisationAlertsOnce(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	a := e.assign(s.ICCID, b1GB)
	steps := []struct {
		bytes int64
		want  []float64 // percentages newly alerted
	}{
		{5 * MB, nil},
		{5 * MB, nil}, // 10 MB of 1 GB: 1 %, whose alert FirstUse replaces
		{5 * MB, nil},
		{484 * MB, nil}, // 499 MB
		{1 * MB, []float64{50}},
		{299 * MB, nil},
		{1 * MB, []float64{80}},
		{200*MB - 1, nil},
		{1, []float64{100}},
		{MB, nil}, // nothing left to alert on
	}
	seen := 0
	for i, st := range steps {
		e.use(s.ICCID, st.bytes)
		evs := e.events("Utilisation")
		var got []float64
		for _, ev := range evs[seen:] {
			u := ev.Payload.(events.Utilisation)
			got = append(got, float64(u.Percentage))
			if u.AlertType != "Utilisation" || u.ICCID != s.ICCID {
				t.Errorf("step %d: payload %v", i, ev.Payload)
			}
		}
		seen = len(evs)
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("step %d (+%d bytes): new alerts (-want +got):\n%s", i, st.bytes, diff)
		}
	}
	got := e.assignment(a.ID)
	if got.State != esims.BundleDepleted || got.RemainingBytes != 0 || got.EndedAt == nil || got.AlertsSent != 1|2|4|8|16 {
		t.Errorf("after 1 GB: state %s, remaining %d, ended %v, alerts %b; want depleted, 0, set, 11111 (FirstUse and the four levels)", got.State, got.RemainingBytes, got.EndedAt, got.AlertsSent)
	}
	// One record crossing several thresholds alerts each of them, once.
	b := e.assign(s.ICCID, b1GB)
	e.use(s.ICCID, 900*MB)
	var got2 []float64
	for _, ev := range e.events("Utilisation")[seen:] {
		u := ev.Payload.(events.Utilisation)
		got2 = append(got2, float64(u.Percentage))
		if bundle := u.Bundle; bundle.Reference != b.Reference || bundle.RemainingQuantity != 100*MB {
			t.Errorf("alert bundle %v, want reference %s with 100 MB left", bundle, b.Reference)
		}
	}
	if diff := cmp.Diff([]float64{50, 80}, got2); diff != "" {
		t.Errorf("alerts of one 900 MB record (-want +got):\n%s", diff)
	}
	var alerts []string
	for _, n := range e.historyNames(s.ICCID) {
		if strings.HasPrefix(n, "eSIM Utilisation Alert") {
			alerts = append(alerts, n)
		}
	}
	wantAlerts := []string{"eSIM Utilisation Alert: 1% Used", "eSIM Utilisation Alert: 50% Used", "eSIM Utilisation Alert: 80% Used",
		"eSIM Utilisation Alert: 100% Used", "eSIM Utilisation Alert: 1% Used", "eSIM Utilisation Alert: 50% Used", "eSIM Utilisation Alert: 80% Used"}
	if diff := cmp.Diff(wantAlerts, alerts); diff != "" {
		t.Errorf("alert history (-want +got):\n%s", diff)
	}
}

func TestExpiryAtStartPlusDuration(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	a := e.assign(s.ICCID, b1GB)
	b := e.assign(s.ICCID, b1GB)
	e.advance(time.Hour)
	start := e.clock.Now()
	e.use(s.ICCID, MB)
	e.advance(7*24*time.Hour - time.Second)
	if got := e.assignment(a.ID).State; got != esims.BundleActive {
		t.Fatalf("a second before the end: %s, want active", got)
	}
	e.advance(time.Second)
	got := e.assignment(a.ID)
	if got.State != esims.BundleExpired || got.EndedAt == nil || !got.EndedAt.Equal(start.Add(7*24*time.Hour)) || got.RemainingBytes != GB-MB {
		t.Errorf("at the end: state %s, ended %v, remaining %d; want expired at %v with its bytes untouched", got.State, got.EndedAt, got.RemainingBytes, start.Add(7*24*time.Hour))
	}
	// The next bundle waits for use, and the expired one's bytes are gone.
	if got := e.assignment(b.ID).State; got != esims.BundleQueued {
		t.Errorf("the next bundle after expiry: %s, want queued", got)
	}
	res := e.use(s.ICCID, MB)
	if diff := cmp.Diff([]string{b.Reference}, res.Assignment); diff != "" {
		t.Errorf("usage after expiry charged (-want +got):\n%s", diff)
	}
	if n := countOf(e.historyNames(s.ICCID), "Bundle Expired"); n != 1 {
		t.Errorf("%d Bundle Expired entries, want 1", n)
	}
	// Running due work again changes nothing.
	if n, err := e.engine.RunDue(e.ctx, e.org.ID); err != nil || n != 0 {
		t.Errorf("RunDue again = %d, %v; want 0, nil", n, err)
	}
}

func TestLapseAfterTwelveMonths(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	a := e.assign(s.ICCID, b1GB)
	e.advance(364 * 24 * time.Hour)
	e.advance(24*time.Hour - time.Second)
	if got := e.assignment(a.ID); got.State != esims.BundleQueued {
		t.Fatalf("a second before 12 months: %s, want queued", got.State)
	}
	if evs := e.events("esim.deletion_scheduled"); len(evs) != 0 {
		t.Errorf("an eSIM holding a queued bundle was scheduled for deletion: %v", evs)
	}
	e.advance(time.Second)
	got := e.assignment(a.ID)
	if got.State != esims.BundleLapsed || got.EndedAt == nil || !got.EndedAt.Equal(t0.AddDate(0, 12, 0)) {
		t.Errorf("at 12 months: state %s, ended %v; want lapsed at %v", got.State, got.EndedAt, t0.AddDate(0, 12, 0))
	}
	if n := countOf(e.historyNames(s.ICCID), "Bundle Lapsed"); n != 1 {
		t.Errorf("%d Bundle Lapsed entries, want 1", n)
	}
	// A lapsed bundle is never charged.
	if res := e.use(s.ICCID, MB); res.Charged != 0 {
		t.Errorf("usage after lapse charged %d bytes", res.Charged)
	}
}

func TestInactivityDeletion(t *testing.T) {
	setup := func(t *testing.T) (*env, esims.ESIM, time.Time) {
		e := newEnv(t)
		s := e.installed()
		e.assign(s.ICCID, b1GB)
		e.use(s.ICCID, MB)            // last activity: t0
		e.advance(8 * 24 * time.Hour) // the bundle expires
		e.advance(172*24*time.Hour - time.Second)
		if evs := e.events("esim.deletion_scheduled"); len(evs) != 0 {
			t.Fatalf("deletion scheduled before 180 days: %v", evs)
		}
		e.advance(time.Second)
		due := t0.Add(187 * 24 * time.Hour)
		evs := e.events("esim.deletion_scheduled")
		if len(evs) != 1 {
			t.Fatalf("%d esim.deletion_scheduled after 180 days, want 1", len(evs))
		}
		want := events.Payload(events.Deletion{Event: "esim.deletion_scheduled", ICCID: s.ICCID, Date: due})
		if diff := cmp.Diff(want, evs[0].Payload); diff != "" {
			t.Errorf("esim.deletion_scheduled payload (-want +got):\n%s", diff)
		}
		if got := e.esim(s.ICCID).DeletionDueAt; got == nil || !got.Equal(due) {
			t.Errorf("DeletionDueAt = %v, want %v", got, due)
		}
		return e, s, due
	}
	t.Run("apply within the grace period", func(t *testing.T) {
		e, s, _ := setup(t)
		e.advance(6 * 24 * time.Hour)
		e.assign(s.ICCID, b1GB)
		e.advance(2 * 24 * time.Hour)
		got := e.esim(s.ICCID)
		if got.State != esims.StateActive || got.DeletionDueAt != nil || len(e.events("esim.deleted")) != 0 {
			t.Errorf("after applying within the grace: state %s, deletion due %v, esim.deleted %v", got.State, got.DeletionDueAt, e.events("esim.deleted"))
		}
		e.use(s.ICCID, MB) // still usable
	})
	t.Run("deleted after the grace period", func(t *testing.T) {
		e, s, due := setup(t)
		e.advance(7*24*time.Hour - time.Second)
		if len(e.events("esim.deleted")) != 0 {
			t.Fatal("deleted before the grace period ended")
		}
		e.advance(time.Second)
		evs := e.events("esim.deleted")
		if len(evs) != 1 {
			t.Fatalf("%d esim.deleted, want 1", len(evs))
		}
		want := events.Payload(events.Deletion{Event: "esim.deleted", ICCID: s.ICCID, Date: due})
		if diff := cmp.Diff(want, evs[0].Payload); diff != "" {
			t.Errorf("esim.deleted payload (-want +got):\n%s", diff)
		}
		got := e.esim(s.ICCID)
		if got.State != esims.StateDeactivated || got.ProfileStatus != esims.ProfileDeactivated {
			t.Errorf("deleted eSIM: state %s, profile %s", got.State, got.ProfileStatus)
		}
		if _, err := e.tryAssign(s.ICCID, b1GB); !fault.Is(err, fault.Invalid) {
			t.Errorf("apply to a deleted eSIM: %v, want Invalid", err)
		}
		_, err := e.engine.ApplyUsage(e.ctx, esims.UsageRecord{Org: e.org.ID, ICCID: s.ICCID, Bytes: MB, Network: esims.Registration{Country: "GB"}})
		wantKind(t, err, fault.Invalid)
		if n := e.count(`SELECT count(*) FROM due_work WHERE org_id = ?`, e.org.ID); n != 0 {
			t.Errorf("%d due items left for a deleted eSIM", n)
		}
	})
}

// TestInactivityFollowsUsageWrittenOnceADay checks that usage moves the
// inactivity check only when it is a day or more after the last activity,
// and that a check falling due early looks at the last activity again.
func TestInactivityFollowsUsageWrittenOnceADay(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	e.assign(s.ICCID, b1GB)
	e.use(s.ICCID, MB) // last activity t0: the check is moved to t0 + 180 days
	due := func() int64 {
		return int64(e.count(`SELECT due_at FROM due_work WHERE kind = ? AND subject_id = ?`, esims.DueInactivity, e.esim(s.ICCID).ID))
	}
	first := due()
	if want := t0.Add(esims.InactivityDeletion).UnixNano(); first != want {
		t.Fatalf("inactivity check at %d, want %d (t0 + 180 days)", first, want)
	}
	e.clock.Advance(3 * time.Hour)
	e.use(s.ICCID, MB) // three hours later: not moved
	if got := due(); got != first {
		t.Errorf("usage 3 hours after the last moved the check from %d to %d", first, got)
	}
	last := e.clock.Now()
	e.advance(8 * 24 * time.Hour)                                  // the bundle expires
	e.advance(t0.Add(esims.InactivityDeletion).Sub(e.clock.Now())) // the check falls due three hours early and looks again
	if evs := e.events("esim.deletion_scheduled"); len(evs) != 0 {
		t.Fatalf("deletion scheduled 180 days after an earlier activity than the last: %v", evs)
	}
	if got, want := due(), last.Add(esims.InactivityDeletion).UnixNano(); got != want {
		t.Errorf("check moved to %d, want %d (the last activity + 180 days)", got, want)
	}
	e.advance(3 * time.Hour)
	if evs := e.events("esim.deletion_scheduled"); len(evs) != 1 {
		t.Errorf("%d esim.deletion_scheduled 180 days after the last activity, want 1", len(evs))
	}
	// A day later than the last activity moves the check at once.
	e2 := newEnv(t)
	s2 := e2.installed()
	e2.assign(s2.ICCID, b1GB)
	e2.use(s2.ICCID, MB)
	e2.clock.Advance(25 * time.Hour)
	e2.use(s2.ICCID, MB)
	if got, want := int64(e2.count(`SELECT due_at FROM due_work WHERE kind = ?`, esims.DueInactivity)), e2.clock.Now().Add(esims.InactivityDeletion).UnixNano(); got != want {
		t.Errorf("usage a day after the last: check at %d, want %d", got, want)
	}
}

func TestDeleteRevokesEveryLiveBundle(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	a := e.assign(s.ICCID, b1GB)
	e.use(s.ICCID, GB) // depleted
	b := e.assign(s.ICCID, b1GB)
	e.use(s.ICCID, MB)           // active
	c := e.assign(s.ICCID, b2GB) // queued
	if err := e.engine.Delete(e.ctx, e.org.ID, s.ICCID); err != nil {
		t.Fatal(err)
	}
	got := []esims.BundleState{e.assignment(a.ID).State, e.assignment(b.ID).State, e.assignment(c.ID).State}
	if diff := cmp.Diff([]esims.BundleState{esims.BundleDepleted, esims.BundleRevoked, esims.BundleRevoked}, got); diff != "" {
		t.Errorf("states after delete (-want +got):\n%s", diff)
	}
	st := e.esim(s.ICCID)
	if st.State != esims.StateDeactivated || st.ProfileStatus != esims.ProfileDeactivated {
		t.Errorf("deleted eSIM: %s/%s", st.State, st.ProfileStatus)
	}
	if n := e.count(`SELECT count(*) FROM due_work WHERE org_id = ?`, e.org.ID); n != 0 {
		t.Errorf("%d due items left after delete", n)
	}
	if err := e.engine.Delete(e.ctx, e.org.ID, s.ICCID); !fault.Is(err, fault.Invalid) {
		t.Errorf("second delete: %v, want Invalid", err)
	}
	// Time passing does nothing more to it.
	e.advance(400 * 24 * time.Hour)
	if got := e.assignment(c.ID).State; got != esims.BundleRevoked {
		t.Errorf("revoked bundle became %s", got)
	}
}

func TestUnlimitedNeverDepletes(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	a := e.assign(s.ICCID, bUL)
	for _, n := range []int64{MB, 5 * GB, 50 * GB} {
		res := e.use(s.ICCID, n)
		if res.Charged != n || res.Unbilled != 0 {
			t.Errorf("unlimited usage of %d: %+v", n, res)
		}
	}
	got := e.assignment(a.ID)
	if got.State != esims.BundleActive || !got.Unlimited || got.RemainingBytes < 0 || got.RemainingBytes > got.InitialBytes {
		t.Errorf("unlimited bundle after 55 GB: %+v", got)
	}
	if evs := e.events("Utilisation"); len(evs) != 0 {
		t.Errorf("unlimited bundle alerted: %v", evs)
	}
	// It still ends with its validity.
	e.advance(24 * time.Hour)
	if got := e.assignment(a.ID).State; got != esims.BundleExpired {
		t.Errorf("unlimited 1-day bundle after a day: %s, want expired", got)
	}
}

func TestUsageRejected(t *testing.T) {
	cases := []struct {
		name  string
		setup func(e *env, s esims.ESIM) string // returns the ICCID to use
		rec   esims.UsageRecord
		want  fault.Kind
	}{
		{"suspended", func(e *env, s esims.ESIM) string {
			if err := e.engine.SetSuspended(e.ctx, e.org.ID, s.ICCID, true); err != nil {
				e.t.Fatal(err)
			}
			return s.ICCID
		}, esims.UsageRecord{Bytes: MB, Network: esims.Registration{Country: "GB"}}, fault.Invalid},
		{"suspended, no country", func(e *env, s esims.ESIM) string {
			if err := e.engine.SetSuspended(e.ctx, e.org.ID, s.ICCID, true); err != nil {
				e.t.Fatal(err)
			}
			return s.ICCID
		}, esims.UsageRecord{Bytes: MB}, fault.Invalid},
		{"never installed", func(e *env, s esims.ESIM) string {
			r := e.provision(1)[0]
			e.assign(r.ICCID, b1GB)
			return r.ICCID
		}, esims.UsageRecord{Bytes: MB, Network: esims.Registration{Country: "GB"}}, fault.Invalid},
		{"downloaded, not installed", func(e *env, s esims.ESIM) string {
			r := e.provision(1)[0]
			e.assign(r.ICCID, b1GB)
			if _, err := e.engine.SetProfileStatus(e.ctx, e.org.ID, r.ICCID, esims.ProfileDownloaded, ""); err != nil {
				e.t.Fatal(err)
			}
			return r.ICCID
		}, esims.UsageRecord{Bytes: MB, Network: esims.Registration{Country: "GB"}}, fault.Invalid},
		{"removed from the device, with country", func(e *env, s esims.ESIM) string {
			if _, err := e.engine.SetProfileStatus(e.ctx, e.org.ID, s.ICCID, esims.ProfileReleased, ""); err != nil {
				e.t.Fatal(err)
			}
			return s.ICCID
		}, esims.UsageRecord{Bytes: MB, Network: esims.Registration{Country: "GB"}}, fault.Invalid},
		{"removed from the device, no country", func(e *env, s esims.ESIM) string {
			if _, err := e.engine.SetProfileStatus(e.ctx, e.org.ID, s.ICCID, esims.ProfileReleased, ""); err != nil {
				e.t.Fatal(err)
			}
			return s.ICCID
		}, esims.UsageRecord{Bytes: MB}, fault.Invalid},
		{"deactivated", func(e *env, s esims.ESIM) string {
			if err := e.engine.Delete(e.ctx, e.org.ID, s.ICCID); err != nil {
				e.t.Fatal(err)
			}
			return s.ICCID
		}, esims.UsageRecord{Bytes: MB}, fault.Invalid},
		{"negative bytes", func(e *env, s esims.ESIM) string { return s.ICCID }, esims.UsageRecord{Bytes: -1}, fault.Invalid},
		{"malformed ICCID", func(e *env, s esims.ESIM) string { return "12345" }, esims.UsageRecord{Bytes: MB}, fault.Invalid},
		{"unknown ICCID", func(e *env, s esims.ESIM) string { return "8999901999999999990" }, esims.UsageRecord{Bytes: MB}, fault.Forbidden},
		{"another organisation's", func(e *env, s esims.ESIM) string {
			e.org = e.newOrg(true)
			return s.ICCID
		}, esims.UsageRecord{Bytes: MB}, fault.Forbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.installed()
			a := e.assign(s.ICCID, b1GB)
			e.use(s.ICCID, MB) // registered in GB, bundle active
			rec := c.rec
			rec.ICCID = c.setup(e, s)
			history := e.count(`SELECT count(*) FROM esim_history`)
			before := e.count(`SELECT count(*) FROM events`)
			rec.Org = e.org.ID
			res, err := e.engine.ApplyUsage(e.ctx, rec)
			wantKind(t, err, c.want)
			if res.Charged != 0 {
				t.Errorf("rejected record charged %d bytes", res.Charged)
			}
			if got, err := e.db.Assignment(e.ctx, a.ID); err != nil || got.RemainingBytes != GB-MB {
				t.Errorf("rejected record changed the bundle: %+v, %v", got, err)
			}
			if n := e.count(`SELECT count(*) FROM events`); n != before {
				t.Errorf("rejected record wrote %d notifications", n-before)
			}
			if n := e.count(`SELECT count(*) FROM esim_history`); n != history {
				t.Errorf("rejected record wrote %d history entries", n-history)
			}
		})
	}
}

func TestHistoryNames(t *testing.T) {
	e := newEnv(t)
	s := e.installed()
	e.assign(s.ICCID, b1GB)
	e.assign(s.ICCID, b1GB)
	e.use(s.ICCID, 600*MB)
	e.use(s.ICCID, 500*MB) // depletes the first, starts the second
	if err := e.engine.SetSuspended(e.ctx, e.org.ID, s.ICCID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.engine.SetSuspended(e.ctx, e.org.ID, s.ICCID, false); err != nil {
		t.Fatal(err)
	}
	e.advance(7 * 24 * time.Hour) // the second expires
	e.assign(s.ICCID, b1GB)
	e.advance(365 * 24 * time.Hour) // the third lapses; nothing for 180 days
	e.advance(7 * 24 * time.Hour)
	// The names eSIM Go documents (notes §3.4) are spelled as there.
	want := []string{
		"Profile Status Change: Installed",
		"Bundle Applied",
		"Bundle Applied",
		"eSIM First Attachment",
		"eSIM First Use",
		"eSIM Utilisation Alert: 1% Used",
		"eSIM Utilisation Alert: 50% Used",
		"eSIM Utilisation Alert: 80% Used",
		"eSIM Utilisation Alert: 100% Used",
		"Bundle Depleted",
		"eSIM First Use",
		"eSIM Utilisation Alert: 1% Used",
		"eSIM Suspended",
		"eSIM Unsuspended",
		"Bundle Expired", // the depleted first bundle at the end of its validity
		"Bundle Expired",
		"Bundle Applied",
		"Bundle Lapsed",
		"eSIM Deletion Scheduled",
		"eSIM Deleted",
	}
	if diff := cmp.Diff(want, e.historyNames(s.ICCID)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	// The documented constants match the notes' spelling.
	documented := map[string]string{
		esims.HistBundleApplied: "Bundle Applied", esims.HistESIMUpdated: "eSIM Updated", esims.HistESIMRefreshed: "eSIM Refreshed",
		esims.HistUtilisationAlert: "eSIM Utilisation Alert", esims.HistBundleRefundBalance: "Bundle Refunded To Balance",
		esims.HistBundleRefundInv: "Bundle Refunded to Inventory", esims.HistBundleRevoked: "Bundle Revoked",
		esims.HistFirstAttachment: "eSIM First Attachment", esims.HistFirstUse: "eSIM First Use",
		esims.HistBundleExpired: "Bundle Expired", esims.HistBundleLapsed: "Bundle Lapsed",
	}
	for got, want := range documented {
		if got != want {
			t.Errorf("history name %q, want %q", got, want)
		}
	}
}

// A bundle whose validity is over must not take usage, even when the due
// work that marks it expired (or lapsed) has not run yet: live
// organisations' due work runs on a worker tick, and network records
// arrive whenever they arrive.
func TestUsageAfterValidityBeforeDueWorkRuns(t *testing.T) {
	t.Run("active bundle past its end", func(t *testing.T) {
		e := newEnv(t)
		s := e.installed()
		a := e.assign(s.ICCID, b1GB)
		e.use(s.ICCID, MB)
		e.clock.Advance(7*24*time.Hour + time.Hour) // no RunDue yet
		res := e.use(s.ICCID, MB)
		if got := e.assignment(a.ID); res.Charged != 0 || got.RemainingBytes != GB-MB {
			t.Errorf("usage an hour after the bundle ended was charged to it: result %+v, bundle %s with %d left", res, got.State, got.RemainingBytes)
		}
	})
	t.Run("queued bundle past its lapse", func(t *testing.T) {
		e := newEnv(t)
		s := e.installed()
		a := e.assign(s.ICCID, b1GB)
		e.clock.Advance(366 * 24 * time.Hour) // no RunDue yet
		res := e.use(s.ICCID, MB)
		if got := e.assignment(a.ID); res.Charged != 0 || got.State == esims.BundleActive {
			t.Errorf("a bundle 12 months old started on use: result %+v, bundle %s", res, got.State)
		}
	})
}
