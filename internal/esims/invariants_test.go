package esims_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
)

// TestLifecycleInvariants applies seeded random sequences of operations
// (usage of random sizes in random countries, bundles assigned, time
// advanced with due work run, suspension and device changes) and checks
// after every step what must always hold. A failure prints the seed and
// the operations that led to it; the sequence replays exactly.
func TestLifecycleInvariants(t *testing.T) {
	steps := 150
	if testing.Short() {
		steps = 40
	}
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			t.Parallel()
			runInvariants(t, seed, steps)
		})
	}
}

// transitions is the assignment state machine (notes §3.1): processing →
// queued → active → depleted | expired | revoked; processing and queued →
// revoked or lapsed; depleted → expired at the end of its validity. A
// state may be skipped within one step (queued → active → depleted in one
// usage record; processing → queued → active by a scheduled start).
var transitions = func() map[esims.BundleState]map[esims.BundleState]bool {
	P, Q, A, D, E, R, L := esims.BundleProcessing, esims.BundleQueued, esims.BundleActive, esims.BundleDepleted,
		esims.BundleExpired, esims.BundleRevoked, esims.BundleLapsed
	edges := map[esims.BundleState][]esims.BundleState{
		P: {Q, A, D, E, R, L},
		Q: {A, D, E, R, L},
		A: {D, E, R},
		D: {E},
	}
	out := map[esims.BundleState]map[esims.BundleState]bool{}
	for from, tos := range edges {
		out[from] = map[esims.BundleState]bool{}
		for _, to := range tos {
			out[from][to] = true
		}
	}
	return out
}()

// model is what the checks remember between steps.
type model struct {
	charged   map[string]int64 // ICCID → bytes charged to it, all records
	unlimited map[string]bool  // ICCID → ever held an unlimited bundle
	alerts    map[int64]uint16 // assignment → alert bits last seen
	states    map[int64]esims.BundleState
	remaining map[int64]int64
}

func runInvariants(t *testing.T, seed uint64, steps int) {
	e := newEnv(t)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	const nESIMs = 3
	var iccids []string
	for range nESIMs {
		iccids = append(iccids, e.installed().ICCID)
	}
	m := model{charged: map[string]int64{}, unlimited: map[string]bool{}, alerts: map[int64]uint16{},
		states: map[int64]esims.BundleState{}, remaining: map[int64]int64{}}
	var log []string
	// stats show the sequence reached the interesting states; a run that
	// only bounces off rejections proves nothing.
	stats := map[string]int{}
	fail := func(format string, args ...any) {
		t.Helper()
		first := max(0, len(log)-25)
		t.Fatalf("seed %d, step %d: %s\nlast operations:\n  %s", seed, len(log), fmt.Sprintf(format, args...), strings.Join(log[first:], "\n  "))
	}
	// allowed reports whether an operation's error is one the rules allow
	// (an eSIM that is suspended, deactivated or off its device).
	allowed := func(err error) bool { return err == nil || fault.Is(err, fault.Invalid) }
	bundles := []string{b1GB, b1GB, b2GB, b2GB, bFR, bUL}
	countries := []string{"GB", "GB", "GB", "GB", "GB", "GB", "GB", "FR", "US", "", ""}
	durations := []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 3 * 24 * time.Hour, 8 * 24 * time.Hour, 40 * 24 * time.Hour}
	startOffsets := []time.Duration{0, 0, -time.Hour, 30 * time.Second, 2 * time.Hour, 2 * 24 * time.Hour}
	delays := []time.Duration{0, 0, time.Minute, esims.MaxProvisioningDelay}
	e.withManualBundle()
	var checked []string // every eSIM ever used, deactivated ones included

	for i := range steps {
		slot := r.IntN(nESIMs)
		iccid := iccids[slot]
		switch p := r.IntN(100); {
		case p < 55: // usage
			var n int64
			switch r.IntN(5) {
			case 0:
				n = 0
			case 1:
				n = 1 + r.Int64N(10*kB)
			case 2, 3:
				n = MB + r.Int64N(700*MB)
			default:
				n = 700*MB + r.Int64N(2500*MB)
			}
			country := countries[r.IntN(len(countries))]
			log = append(log, fmt.Sprintf("use %s %d bytes in %q", iccid[12:], n, country))
			res, err := e.engine.ApplyUsage(e.ctx, esims.UsageRecord{Org: e.org.ID, ICCID: iccid, Bytes: n, Network: esims.Registration{Country: country}})
			if !allowed(err) {
				fail("usage: %v", err)
			}
			if err != nil {
				log[len(log)-1] += " → " + fault.MessageOf(err)
				stats["rejected"]++
				if res.Charged != 0 {
					fail("a rejected record charged %d bytes", res.Charged)
				}
				if r.IntN(2) == 0 { // the device owner fixes it
					s := e.esim(iccid)
					if s.State == esims.StateSuspended {
						if err := e.engine.SetSuspended(e.ctx, e.org.ID, iccid, false); err != nil {
							fail("resume: %v", err)
						}
					}
					if s.ProfileStatus == esims.ProfileReleased {
						if _, err := e.engine.SetProfileStatus(e.ctx, e.org.ID, iccid, esims.ProfileInstalled, ""); err != nil {
							fail("reinstall: %v", err)
						}
					}
					log = append(log, fmt.Sprintf("repair %s", iccid[12:]))
				}
				break
			}
			if res.Charged < 0 || res.Unbilled < 0 || res.Charged+res.Unbilled != n || res.Charged > n {
				fail("usage of %d bytes: charged %d, unbilled %d", n, res.Charged, res.Unbilled)
			}
			m.charged[iccid] += res.Charged
			if res.Charged > 0 {
				stats["charged"]++
			}
			if len(res.Assignment) > 1 {
				stats["spilled into the next bundle"]++
			}
			log[len(log)-1] += fmt.Sprintf(" → charged %d to %d bundle(s)", res.Charged, len(res.Assignment))
		case p < 68: // assign
			b := bundles[r.IntN(len(bundles))]
			log = append(log, fmt.Sprintf("assign %s to %s", b, iccid[12:]))
			if _, err := e.tryAssign(iccid, b); !allowed(err) {
				fail("assign: %v", err)
			} else if err == nil && b == bUL {
				m.unlimited[iccid] = true
			}
		case p < 75: // assign a bundle that does not autostart, maybe with a start time
			var start time.Time
			if d := startOffsets[r.IntN(len(startOffsets))]; d != 0 {
				start = e.clock.Now().Add(d)
			}
			log = append(log, fmt.Sprintf("assign %s to %s starting %v", bManual, iccid[12:], start))
			if _, err := e.tryAssignAt(iccid, bManual, start); !allowed(err) {
				fail("assign: %v", err)
			}
		case p < 78: // the sandbox SM-DP+ gets slower or faster
			d := delays[r.IntN(len(delays))]
			log = append(log, fmt.Sprintf("provisioning delay %v", d))
			if err := e.db.SetProvisioningDelay(e.ctx, e.org.ID, d); err != nil {
				fail("set delay: %v", err)
			}
		case p < 92: // time passes
			d := durations[r.IntN(len(durations))]
			if r.IntN(20) == 0 {
				d = 200 * 24 * time.Hour // long enough for lapses and deletions
			}
			log = append(log, fmt.Sprintf("advance %v", d))
			e.clock.Advance(d)
			if _, err := e.engine.RunDue(e.ctx, e.org.ID); err != nil {
				fail("RunDue: %v", err)
			}
		case p < 96: // suspend or resume
			s := e.esim(iccid)
			log = append(log, fmt.Sprintf("suspend %s: %v", iccid[12:], s.State == esims.StateActive))
			if err := e.engine.SetSuspended(e.ctx, e.org.ID, iccid, s.State == esims.StateActive); !allowed(err) {
				fail("suspend: %v", err)
			}
		default: // the profile leaves or returns to the device
			s := e.esim(iccid)
			status := esims.ProfileInstalled
			if s.ProfileStatus == esims.ProfileInstalled {
				status = esims.ProfileReleased
			}
			log = append(log, fmt.Sprintf("profile %s → %s", iccid[12:], status))
			if _, err := e.engine.SetProfileStatus(e.ctx, e.org.ID, iccid, status, ""); !allowed(err) {
				fail("profile status: %v", err)
			}
		}
		// A deleted eSIM stays under watch; a fresh one takes its slot.
		if s := e.esim(iccid); s.State == esims.StateDeactivated {
			stats["deactivated"]++
			checked = append(checked, iccid)
			iccids[slot] = e.installed().ICCID
			log = append(log, fmt.Sprintf("step %d: %s was deleted; %s replaces it", i, iccid[12:], iccids[slot][12:]))
		}
		now := e.clock.Now()
		for _, iccid := range append(checked, iccids...) {
			s := e.esim(iccid)
			as, err := e.db.AssignmentsOfESIM(e.ctx, s.ID)
			if err != nil {
				fail("%v", err)
			}
			active, consumed := 0, int64(0)
			for _, a := range as {
				if a.RemainingBytes < 0 || a.RemainingBytes > a.InitialBytes {
					fail("assignment %d (%s): %d of %d bytes left", a.ID, a.BundleName, a.RemainingBytes, a.InitialBytes)
				}
				if prev, ok := m.remaining[a.ID]; ok && a.RemainingBytes > prev {
					fail("assignment %d: remaining bytes grew from %d to %d", a.ID, prev, a.RemainingBytes)
				}
				if prev := m.alerts[a.ID]; a.AlertsSent&prev != prev {
					fail("assignment %d: alert bits went from %04b to %04b", a.ID, prev, a.AlertsSent)
				}
				prev, seen := m.states[a.ID]
				switch {
				case seen && prev != a.State && !transitions[prev][a.State]:
					fail("assignment %d: %s → %s is not a transition of the state machine (notes §3.1)", a.ID, prev, a.State)
				case !seen && !transitions[esims.BundleProcessing][a.State] && a.State != esims.BundleProcessing:
					// Assigned in this step (and perhaps started at once).
					fail("assignment %d appeared as %s", a.ID, a.State)
				case seen && prev != a.State:
					stats[string(prev)+" → "+string(a.State)]++
				}
				if a.StartAt != nil && a.StartedAt != nil && !a.Used && a.StartedAt.Equal(*a.StartAt) {
					stats["scheduled start"]++
				}
				if a.StartAt != nil && a.StartedAt != nil && a.StartedAt.Before(*a.StartAt) {
					fail("assignment %d started %v, before its start time %v", a.ID, a.StartedAt, a.StartAt)
				}
				if a.State == esims.BundleDepleted && (a.EndsAt == nil || !a.EndsAt.After(now)) {
					fail("assignment %d is depleted at %v, past its end at %v: it should have expired", a.ID, now, a.EndsAt)
				}
				if a.State == esims.BundleProcessing && a.StartedAt != nil {
					fail("assignment %d is processing but started at %v", a.ID, a.StartedAt)
				}
				m.remaining[a.ID], m.alerts[a.ID], m.states[a.ID] = a.RemainingBytes, a.AlertsSent, a.State
				stats[string(a.State)+" (assignment-steps)"]++
				if a.State == esims.BundleActive {
					active++
					if a.StartedAt == nil || a.EndsAt == nil || !a.EndsAt.After(now) {
						fail("assignment %d is active with start %v and end %v at %v", a.ID, a.StartedAt, a.EndsAt, now)
					}
				}
				if a.State == esims.BundleQueued && !a.LapsesAt.After(now) {
					fail("assignment %d is queued at %v, past its lapse at %v", a.ID, now, a.LapsesAt)
				}
				if a.RemainingBytes < a.InitialBytes && (a.StartedAt == nil || !a.Used) {
					fail("assignment %d was charged but never started", a.ID)
				}
				consumed += a.InitialBytes - a.RemainingBytes
			}
			if active > 1 {
				fail("eSIM %s has %d active assignments", iccid, active)
			}
			if !m.unlimited[iccid] && consumed != m.charged[iccid] {
				fail("eSIM %s: bundles lost %d bytes but records were charged %d", iccid, consumed, m.charged[iccid])
			}
			if m.unlimited[iccid] && consumed > m.charged[iccid] {
				fail("eSIM %s: bundles lost %d bytes, more than the %d charged", iccid, consumed, m.charged[iccid])
			}
		}
	}
	t.Logf("seed %d: %v", seed, stats)
	for _, k := range []string{"charged", "spilled into the next bundle", "active (assignment-steps)", "depleted (assignment-steps)", "expired (assignment-steps)", "processing (assignment-steps)", "depleted → expired", "processing → queued", "scheduled start"} {
		if stats[k] == 0 && !testing.Short() {
			t.Errorf("seed %d never reached %q; adjust the operation mix", seed, k)
		}
	}
	if n := e.count(`SELECT count(*) FROM (SELECT esim_id FROM assignments WHERE state = 'active' GROUP BY esim_id HAVING count(*) > 1) AS doubled`); n != 0 {
		t.Errorf("%d eSIMs with more than one active assignment in the table", n)
	}
}
