package notify_test

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

func TestBackoffSchedule(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	for n := 1; n <= 40; n++ {
		nominal := min(20*time.Hour, time.Minute<<min(n-1, 16))
		for range 200 {
			d := notify.Backoff(n, rnd)
			if d < nominal/2 || d > nominal {
				t.Fatalf("Backoff(%d) = %s, want within [%s, %s]", n, d, nominal/2, nominal)
			}
		}
	}
	// Pure: the same source gives the same schedule.
	a, b := rand.New(rand.NewPCG(1, 1)), rand.New(rand.NewPCG(1, 1))
	for n := 1; n < notify.MaxAttempts; n++ {
		if x, y := notify.Backoff(n, a), notify.Backoff(n, b); x != y {
			t.Fatalf("Backoff(%d) gave %s and %s from equal sources", n, x, y)
		}
	}
	// The waits between the attempts add up to about three days.
	var sum time.Duration
	const runs = 2000
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for range runs {
		var total time.Duration
		for n := 1; n < notify.MaxAttempts; n++ {
			total += notify.Backoff(n, rnd)
		}
		sum += total
		lo, hi = min(lo, total), max(hi, total)
	}
	mean := sum / runs
	if mean < 66*time.Hour || mean > 80*time.Hour {
		t.Errorf("mean total retry span %s, want about 3 days (66–80 h)", mean)
	}
	if lo < 48*time.Hour || hi > 98*time.Hour {
		t.Errorf("total retry span ranged %s–%s, want within 48–98 h", lo, hi)
	}
	if notify.MaxAttempts < 12 || notify.MaxAttempts > 20 {
		t.Errorf("MaxAttempts = %d, want about 15", notify.MaxAttempts)
	}
}

// TestRetryThenSuccess: a receiver answering 500 then 200 gets the event
// again after the backoff on the injected clock, not before.
func TestRetryThenSuccess(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		if n == 1 {
			http.Error(w, "database is down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	o, _ := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	id := e.simple(o.ID, "8999901000000000013")

	e.deliver(o.ID)
	st := e.state(o.ID, id)
	if st.Status != notify.StatusPending || st.Attempts != 1 || st.LastError != "HTTP 500" {
		t.Fatalf("after a 500: %+v", st.DeliveryState)
	}
	wait := st.NextAttemptAt.Sub(t0)
	if wait < 30*time.Second || wait > time.Minute {
		t.Fatalf("first retry after %s, want 30 s–1 min", wait)
	}
	e.clock.Advance(wait - time.Second)
	e.deliver(o.ID)
	if n := rc.count(); n != 1 {
		t.Fatalf("retried before its time: %d requests", n)
	}
	e.clock.Advance(time.Second)
	e.deliver(o.ID)
	if n := rc.count(); n != 2 {
		t.Fatalf("not retried at its time: %d requests", n)
	}
	st = e.state(o.ID, id)
	if st.Status != notify.StatusDelivered || st.Attempts != 2 || st.DeliveredAt == nil {
		t.Fatalf("after a 200: %+v", st.DeliveryState)
	}
	all := rc.all()
	if all[0].eventID() != all[1].eventID() || all[1].Header.Get("X-Esimd-Attempt") != "2" {
		t.Errorf("the retry's event ID %q / attempt %q, want the same ID and attempt 2", all[1].eventID(), all[1].Header.Get("X-Esimd-Attempt"))
	}
	log := e.log(o.ID, id)
	if len(log) != 2 {
		t.Fatalf("%d log lines, want 2", len(log))
	}
	first, second := log[1], log[0] // newest first
	if first.Outcome != notify.OutcomeRetry || first.StatusCode != 500 || first.Attempt != 1 ||
		!strings.Contains(first.Response, "database is down") || !first.At.Equal(t0) {
		t.Errorf("first attempt logged as %+v", first)
	}
	if first.NextAttemptAt == nil || !first.NextAttemptAt.Equal(t0.Add(wait)) {
		t.Errorf("first attempt's next attempt %v, want %v", first.NextAttemptAt, t0.Add(wait))
	}
	if second.Outcome != notify.OutcomeDelivered || second.StatusCode != 200 || second.Attempt != 2 || second.Latency <= 0 || !second.At.Equal(t0.Add(wait)) {
		t.Errorf("second attempt logged as %+v", second)
	}
}

func TestRetryAfter(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	o, _ := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	id := e.simple(o.ID, "8999901000000000013")
	e.deliver(o.ID)
	if st := e.state(o.ID, id); !st.NextAttemptAt.Equal(t0.Add(120 * time.Second)) {
		t.Fatalf("next attempt %s, want Retry-After's %s", st.NextAttemptAt, t0.Add(120*time.Second))
	}
	e.clock.Advance(119 * time.Second)
	e.deliver(o.ID)
	if rc.count() != 1 {
		t.Fatalf("retried before Retry-After")
	}
	e.clock.Advance(time.Second)
	e.deliver(o.ID)
	if st := e.state(o.ID, id); st.Status != notify.StatusDelivered || rc.count() != 2 {
		t.Fatalf("after Retry-After: %+v, %d requests", st.DeliveryState, rc.count())
	}
}

// TestGoneDisablesEndpoint: 410 gives the event up and disables the
// endpoint until the callback URL is set again.
func TestGoneDisablesEndpoint(t *testing.T) {
	e := newEnv(t, envOptions{})
	gone := true
	rc := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		if gone {
			w.WriteHeader(http.StatusGone)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	o, _ := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	first := e.simple(o.ID, "8999901000000000013")
	e.deliver(o.ID)
	st := e.state(o.ID, first)
	if st.Status != notify.StatusFailed || !strings.Contains(st.LastError, "410") {
		t.Fatalf("after 410: %+v", st.DeliveryState)
	}
	if log := e.log(o.ID, first); log[0].Outcome != notify.OutcomeDisabled {
		t.Errorf("attempt outcome %q, want disabled", log[0].Outcome)
	}
	ep, err := e.svc.Endpoint(e.ctx, o.ID)
	if err != nil || !ep.Disabled || ep.DisabledAt == nil {
		t.Fatalf("endpoint after 410: %+v, %v", ep, err)
	}
	// Nothing more is sent; later events are recorded as skipped.
	second := e.simple(o.ID, "8999901000000000021")
	e.clock.Advance(time.Hour)
	e.deliver(o.ID)
	if rc.count() != 1 {
		t.Fatalf("sent to a disabled endpoint: %d requests", rc.count())
	}
	if st := e.state(o.ID, second); st.Status != notify.StatusSkipped || !strings.Contains(st.LastError, "disabled") {
		t.Fatalf("event for a disabled endpoint: %+v", st.DeliveryState)
	}
	// Setting the URL again enables it; a replay sends what was skipped.
	gone = false
	url := rc.URL
	if ep, err := e.svc.Configure(e.ctx, o.ID, notify.Change{URL: &url}); err != nil || ep.Disabled {
		t.Fatalf("Configure: %+v, %v", ep, err)
	}
	if _, err := e.svc.Replay(e.ctx, o.ID, second); err != nil {
		t.Fatal(err)
	}
	e.deliver(o.ID)
	if st := e.state(o.ID, second); st.Status != notify.StatusDelivered || st.Replays != 1 {
		t.Fatalf("replayed event: %+v", st)
	}
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) })
	o, _ := e.org("Acme", true, rc.URL, orgs.CallbackV2)
	id := e.simple(o.ID, "8999901000000000013")
	for range notify.MaxAttempts + 3 {
		e.deliver(o.ID)
		e.clock.Advance(21 * time.Hour)
	}
	st := e.state(o.ID, id)
	if st.Status != notify.StatusFailed || st.Attempts != notify.MaxAttempts || rc.count() != notify.MaxAttempts {
		t.Fatalf("after %d requests: %+v", rc.count(), st.DeliveryState)
	}
	if !strings.Contains(st.LastError, "gave up after 15 attempts") {
		t.Errorf("last error %q", st.LastError)
	}
	log := e.log(o.ID, id)
	if log[0].Outcome != notify.OutcomeFailed || log[1].Outcome != notify.OutcomeRetry {
		t.Errorf("outcomes %q, %q", log[0].Outcome, log[1].Outcome)
	}
}

func TestAttemptTimeout(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.cfg.AttemptTimeout = 100 * time.Millisecond
	e.restart()
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	o, _ := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	id := e.simple(o.ID, "8999901000000000013")
	start := time.Now()
	e.deliver(o.ID)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("an attempt took %s with a 100 ms timeout", d)
	}
	st := e.state(o.ID, id)
	if st.Status != notify.StatusPending || !strings.Contains(st.LastError, "no response within 100ms") {
		t.Fatalf("after a timeout: %+v", st.DeliveryState)
	}
}

// TestRetryWait: a Retry-After never shortens a backoff step, lengthens
// it only up to max(step, 1 h), and the window stays about three days
// whatever the receiver asks for.
func TestRetryWait(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 9))
	for n := 1; n < notify.MaxAttempts; n++ {
		nominal := min(20*time.Hour, time.Minute<<(n-1))
		for _, ra := range []time.Duration{0, time.Second, 2 * time.Second, 30 * time.Second, 2 * time.Minute, 3 * time.Hour, 24 * time.Hour} {
			d := notify.RetryWait(n, ra, rnd)
			if d < nominal/2 {
				t.Fatalf("RetryWait(%d, %s) = %s, below the step's floor %s", n, ra, d, nominal/2)
			}
			if reach := max(nominal, time.Hour); d > max(reach, nominal) {
				t.Fatalf("RetryWait(%d, %s) = %s, past the reach %s", n, ra, d, reach)
			}
			if ra > nominal && ra <= time.Hour && d != ra {
				t.Fatalf("RetryWait(%d, %s) = %s, want the Retry-After honoured", n, ra, d)
			}
		}
	}
	for _, tc := range []struct {
		name       string
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{"no Retry-After", 0, 48 * time.Hour, 98 * time.Hour},
		{"Retry-After: 2", 2 * time.Second, 48 * time.Hour, 98 * time.Hour},
		{"Retry-After: one day", 24 * time.Hour, 48 * time.Hour, 100 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var total time.Duration
			for n := 1; n < notify.MaxAttempts; n++ {
				total += notify.RetryWait(n, tc.retryAfter, rnd)
			}
			if total < tc.lo || total > tc.hi {
				t.Errorf("the %d waits add up to %s, want %s–%s", notify.MaxAttempts-1, total, tc.lo, tc.hi)
			}
		})
	}
}

// TestShortRetryAfterKeepsTheWindow: a receiver answering 503 with
// Retry-After: 2 is retried on the backoff schedule, not every 2 s, so
// the event is not given up within seconds.
func TestShortRetryAfterKeepsTheWindow(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	o, _ := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	id := e.simple(o.ID, "8999901000000000013")
	for range 10 { // the first step is 30 s at least
		e.deliver(o.ID)
		e.clock.Advance(3 * time.Second)
	}
	st := e.state(o.ID, id)
	if rc.count() != 1 || st.Status != notify.StatusPending {
		t.Fatalf("after 30 s of Retry-After: 2: %d requests, %+v", rc.count(), st.DeliveryState)
	}
	// Follow the schedule to the end: the event is given up only after
	// every attempt, about three days after the first.
	for st.Status == notify.StatusPending {
		e.clock.Advance(st.NextAttemptAt.Sub(e.clock.Now()))
		e.deliver(o.ID)
		st = e.state(o.ID, id)
	}
	if span := e.clock.Now().Sub(t0); st.Status != notify.StatusFailed || st.Attempts != notify.MaxAttempts || span < 48*time.Hour {
		t.Fatalf("given up after %d attempts over %s (%+v), want %d over two days or more", st.Attempts, span, st.DeliveryState, notify.MaxAttempts)
	}
}
