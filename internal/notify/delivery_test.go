package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

func iccidN(n int) string { return fmt.Sprintf("89999010000000%05d", n) }

// byICCID groups received event IDs per ICCID, in arrival order.
func byICCID(t testing.TB, got []received) map[string][]int64 {
	out := map[string][]int64{}
	for _, r := range got {
		id, err := strconv.ParseInt(r.eventID(), 10, 64)
		if err != nil {
			t.Fatalf("X-Esimd-Event-Id %q", r.eventID())
		}
		out[r.iccid()] = append(out[r.iccid()], id)
	}
	return out
}

// TestOrderPerESIM: an event of an eSIM waits for the one before it; other
// eSIMs go on meanwhile.
func TestOrderPerESIM(t *testing.T) {
	e := newEnv(t, envOptions{})
	a, b := iccidN(1), iccidN(2)
	failedOnce := false
	rc := newReceiver(t, nil)
	rc.respond = func(n int, r *http.Request, w http.ResponseWriter) {
		if rc.all()[n-1].iccid() == a && !failedOnce {
			failedOnce = true
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
	o, _ := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	var as, bs []int64
	for range 3 {
		as = append(as, e.simple(o.ID, a))
		bs = append(bs, e.simple(o.ID, b))
	}
	e.deliver(o.ID)
	got := byICCID(t, rc.all())
	if !slices.Equal(got[a], as[:1]) {
		t.Fatalf("eSIM A: sent %v while its first event failed, want only %v", got[a], as[:1])
	}
	if !slices.Equal(got[b], bs) {
		t.Fatalf("eSIM B: sent %v, want %v in order", got[b], bs)
	}
	e.clock.Advance(2 * time.Minute)
	e.deliver(o.ID)
	got = byICCID(t, rc.all())
	if want := append(as[:1:1], as...); !slices.Equal(got[a], want) {
		t.Fatalf("eSIM A: sent %v, want %v", got[a], want)
	}
}

// TestAtLeastOnceAcrossRestart stops the worker in the middle of a burst
// and starts a new service over the same database: every event arrives,
// in order per eSIM, and none that was recorded as delivered comes again.
func TestAtLeastOnceAcrossRestart(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		time.Sleep(3 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	})
	o, _ := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	want := map[string][]int64{}
	for i := range 80 {
		iccid := iccidN(i % 8)
		want[iccid] = append(want[iccid], e.simple(o.ID, iccid))
	}
	w := notify.NewWorker(e.svc, 20*time.Millisecond, nil)
	w.Start(e.ctx)
	rc.waitFor(t, 20, 10*time.Second)
	w.Stop()

	// A stop lets attempts in flight finish and records them: what was
	// received is exactly what is recorded as delivered.
	delivered := 0
	states, err := e.svc.Events(e.ctx, o.ID, notify.EventQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.Status == notify.StatusDelivered {
			delivered++
		}
	}
	if got := rc.count(); got != delivered || delivered == 80 {
		t.Fatalf("after Stop: %d received, %d recorded delivered (of 80)", got, delivered)
	}

	// A crash after a claim: the event is leased but its result never
	// recorded. It is sent again when the lease ends.
	pending := states[len(states)-1]
	if err := e.db.LeaseDelivery(e.ctx, pending.ID, 12345, e.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	svc := e.restart()
	w2 := notify.NewWorker(svc, 20*time.Millisecond, nil)
	w2.Start(e.ctx)
	rc.waitFor(t, 79, 10*time.Second)
	time.Sleep(50 * time.Millisecond)
	if n := rc.count(); n != 79 {
		t.Fatalf("%d received while one event is leased by a dead process, want 79", n)
	}
	e.clock.Advance(time.Hour)
	w2.Kick()
	rc.waitFor(t, 80, 10*time.Second)
	w2.Stop()

	got := byICCID(t, rc.all())
	for iccid, ids := range want {
		if !slices.Equal(got[iccid], ids) {
			t.Errorf("eSIM %s: received %v, want each once in order %v", iccid, got[iccid], ids)
		}
	}
	if n := rc.count(); n != 80 {
		t.Errorf("%d requests for 80 events", n)
	}
}

func TestReplay(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, nil)
	o, _ := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	one := e.simple(o.ID, iccidN(1))
	e.clock.Advance(time.Hour)
	two := e.simple(o.ID, iccidN(2))
	e.clock.Advance(time.Hour)
	three := e.simple(o.ID, iccidN(3))
	e.deliver(o.ID)
	if rc.count() != 3 {
		t.Fatalf("%d requests, want 3", rc.count())
	}

	// One event: sent again with the same event ID, logged as a replay.
	st, err := e.svc.Replay(e.ctx, o.ID, one)
	if err != nil || st.Status != notify.StatusPending || st.Replays != 1 || st.Attempts != 0 {
		t.Fatalf("Replay: %+v, %v", st, err)
	}
	e.deliver(o.ID)
	if r := rc.all()[3]; r.eventID() != strconv.FormatInt(one, 10) {
		t.Fatalf("replayed event ID %q, want %d", r.eventID(), one)
	}
	if log := e.log(o.ID, one); len(log) != 2 || log[0].Replay != 1 || log[0].Attempt != 1 || log[1].Replay != 0 {
		t.Errorf("log of the replayed event: %+v", log)
	}
	_, err = e.svc.Replay(e.ctx, o.ID, 9999)
	wantKind(t, err, fault.NotFound)

	// A time range: [t0+1h, t0+2h] holds two and three.
	n, err := e.svc.ReplayRange(e.ctx, o.ID, t0.Add(time.Hour), t0.Add(2*time.Hour+time.Second), nil)
	if err != nil || n != 2 {
		t.Fatalf("ReplayRange = %d, %v; want 2", n, err)
	}
	e.deliver(o.ID)
	var ids []string
	for _, r := range rc.all()[4:] {
		ids = append(ids, r.eventID())
	}
	slices.Sort(ids) // two eSIMs: no order between them
	if want := []string{strconv.FormatInt(two, 10), strconv.FormatInt(three, 10)}; !slices.Equal(ids, want) {
		t.Errorf("range replay sent %v, want %v", ids, want)
	}
	// Only failed ones: none.
	if n, err := e.svc.ReplayRange(e.ctx, o.ID, t0, t0.Add(24*time.Hour), []string{notify.StatusFailed}); err != nil || n != 0 {
		t.Errorf("replay of failed events = %d, %v; want 0", n, err)
	}
	_, err = e.svc.ReplayRange(e.ctx, o.ID, t0, t0, nil)
	wantKind(t, err, fault.Invalid)
	_, err = e.svc.ReplayRange(e.ctx, o.ID, t0, t0.Add(time.Hour), []string{"lost"})
	wantKind(t, err, fault.Invalid)

	// The log pages newest first.
	page, err := e.svc.Deliveries(e.ctx, o.ID, notify.AttemptQuery{Limit: 2})
	if err != nil || len(page) != 2 || page[0].ID < page[1].ID {
		t.Fatalf("first page %+v, %v", page, err)
	}
	next, err := e.svc.Deliveries(e.ctx, o.ID, notify.AttemptQuery{Limit: 100, BeforeID: page[1].ID})
	if err != nil || len(next) != 4 {
		t.Fatalf("second page has %d lines, %v; want 4", len(next), err)
	}
}

func TestNoCallbackURL(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, nil)
	o, _ := e.org("Quiet", true, "", orgs.CallbackV3)
	id := e.simple(o.ID, iccidN(1))
	for i := range 40 {
		e.simple(o.ID, iccidN(100+i%20))
	}
	e.deliver(o.ID)
	if pending, err := e.svc.Events(e.ctx, o.ID, notify.EventQuery{Status: notify.StatusPending}); err != nil || len(pending) != 0 {
		t.Fatalf("one DeliverDue left %d events pending (%v); want all skipped", len(pending), err)
	}
	st := e.state(o.ID, id)
	if st.Status != notify.StatusSkipped || !strings.Contains(st.LastError, "no callback URL") {
		t.Fatalf("event without a URL: %+v", st.DeliveryState)
	}
	url := rc.URL
	if _, err := e.svc.Configure(e.ctx, o.ID, notify.Change{URL: &url}); err != nil {
		t.Fatal(err)
	}
	skipped, err := e.svc.Events(e.ctx, o.ID, notify.EventQuery{Status: notify.StatusSkipped})
	if err != nil || len(skipped) != 41 {
		t.Fatalf("skipped events %+v, %v", skipped, err)
	}
	if n, err := e.svc.ReplayRange(e.ctx, o.ID, t0, t0.Add(time.Minute), []string{notify.StatusSkipped}); err != nil || n != 41 {
		t.Fatalf("ReplayRange = %d, %v", n, err)
	}
	e.deliver(o.ID)
	if st := e.state(o.ID, id); st.Status != notify.StatusDelivered || rc.count() != 41 {
		t.Fatalf("after setting a URL and replaying: %+v", st.DeliveryState)
	}
}

func TestTestSend(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		if n == 3 {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		fmt.Fprint(w, "thanks")
	})
	o, key := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	a, err := e.svc.TestSend(e.ctx, o.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	r := rc.all()[0]
	if a.Outcome != notify.OutcomeDelivered || a.StatusCode != 200 || a.Response != "thanks" || !a.Test || a.ID == 0 {
		t.Errorf("test send: %+v", a)
	}
	if !strings.Contains(string(r.Body), `"alertType":"Test"`) || !strings.HasPrefix(r.eventID(), "test_") {
		t.Errorf("test body %s, event ID %q", r.Body, r.eventID())
	}
	if !verifySignature(key, r.Body, r.Header.Get("X-Signature-SHA256"), "base64") {
		t.Errorf("test send is not signed like a delivery")
	}
	// A sample of a kind, in the organisation's version.
	if _, err := e.svc.TestSend(e.ctx, o.ID, notify.KindUtilisation); err != nil {
		t.Fatal(err)
	}
	if body := string(rc.all()[1].Body); !strings.Contains(body, `"unlimited":false`) {
		t.Errorf("V3 Utilisation sample %s", body)
	}
	a, err = e.svc.TestSend(e.ctx, o.ID, "")
	if err != nil || a.Outcome != notify.OutcomeFailed || a.StatusCode != 404 || a.Error != "HTTP 404" {
		t.Errorf("failed test send: %+v, %v", a, err)
	}
	log := e.log(o.ID, 0)
	if len(log) != 3 || !log[0].Test || log[0].EventID != 0 {
		t.Errorf("test sends in the log: %+v", log)
	}
	_, err = e.svc.TestSend(e.ctx, o.ID, "NoSuchKind")
	wantKind(t, err, fault.Invalid)
	quiet, _ := e.org("Quiet", true, "", orgs.CallbackV3)
	_, err = e.svc.TestSend(e.ctx, quiet.ID, "")
	wantKind(t, err, fault.Invalid)
	_, err = e.svc.TestSend(e.ctx, 999, "")
	wantKind(t, err, fault.NotFound)
}

// TestPrivateAddresses: a live organisation may not call loopback (the
// dialled address is checked), a sandbox one may.
func TestPrivateAddresses(t *testing.T) {
	e := newEnv(t, envOptions{guarded: true})
	rc := newReceiver(t, nil)
	live, _ := e.org("Live", false, "", orgs.CallbackV3)
	// Set through the organisation (as esimd org update does), so that only
	// the delivery-time guard stands in the way.
	url := rc.URL
	if _, err := e.orgs.Update(e.ctx, live.ID, orgs.Update{CallbackURL: &url}); err != nil {
		t.Fatal(err)
	}
	id := e.simple(live.ID, iccidN(1))
	e.deliver(live.ID)
	st := e.state(live.ID, id)
	if rc.count() != 0 {
		t.Fatalf("a live organisation reached %s", rc.URL)
	}
	if st.Status != notify.StatusFailed || !strings.Contains(st.LastError, "127.0.0.1 is a loopback address") {
		t.Fatalf("live organisation calling loopback: %+v", st.DeliveryState)
	}
	a, err := e.svc.TestSend(e.ctx, live.ID, "")
	if err != nil || a.Outcome != notify.OutcomeFailed || !strings.Contains(a.Error, "callback refused") {
		t.Errorf("test send to loopback: %+v, %v", a, err)
	}
	// Setting such a URL through Configure is refused outright.
	for _, u := range []string{rc.URL, "http://localhost:8080/cb", "http://[::1]/cb", "http://10.1.2.3/cb", "https://169.254.169.254/latest"} {
		_, err := e.svc.Configure(e.ctx, live.ID, notify.Change{URL: &u})
		wantKind(t, err, fault.Invalid)
	}
	public := "https://hooks.example.com/esim"
	if _, err := e.svc.Configure(e.ctx, live.ID, notify.Change{URL: &public}); err != nil {
		t.Errorf("public URL refused: %v", err)
	}

	sb, _ := e.org("Sandbox", true, rc.URL, orgs.CallbackV3)
	sid := e.simple(sb.ID, iccidN(2))
	e.deliver(sb.ID)
	if st := e.state(sb.ID, sid); st.Status != notify.StatusDelivered || rc.count() != 1 {
		t.Fatalf("sandbox organisation calling loopback: %+v", st.DeliveryState)
	}

	// With private callbacks allowed, live organisations may too.
	e.cfg.AllowPrivateCallbacks = true
	e.restart()
	if _, err := e.svc.Configure(e.ctx, live.ID, notify.Change{URL: &url}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Replay(e.ctx, live.ID, id); err != nil {
		t.Fatal(err)
	}
	e.deliver(live.ID)
	if st := e.state(live.ID, id); st.Status != notify.StatusDelivered {
		t.Fatalf("with private callbacks allowed: %+v", st.DeliveryState)
	}
}

func TestConfigure(t *testing.T) {
	e := newEnv(t, envOptions{})
	o, _ := e.org("Acme", true, "", orgs.CallbackV2)
	ep, err := e.svc.Endpoint(e.ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ep.SignatureEncoding != notify.Base64 || ep.StandardWebhooks || ep.BalanceThreshold != notify.DefaultBalanceThreshold ||
		ep.Version != "V2" || ep.SigningKey == nil {
		t.Errorf("defaults: %+v", ep)
	}
	url, v3, hexEnc, on := "https://hooks.example.com/a", "v3", notify.Hex, true
	th := notify.DefaultBalanceThreshold * 5
	ep, err = e.svc.Configure(e.ctx, o.ID, notify.Change{URL: &url, Version: &v3, SignatureEncoding: &hexEnc, StandardWebhooks: &on, BalanceThreshold: &th})
	if err != nil {
		t.Fatal(err)
	}
	if ep.URL != url || ep.Version != "V3" || ep.SignatureEncoding != notify.Hex || !ep.StandardWebhooks || ep.BalanceThreshold != th {
		t.Errorf("after Configure: %+v", ep)
	}
	if got, err := e.svc.BalanceThreshold(e.ctx, o.ID); err != nil || got != th {
		t.Errorf("BalanceThreshold = %s, %v", got, err)
	}
	bad := notify.Encoding("base32")
	_, err = e.svc.Configure(e.ctx, o.ID, notify.Change{SignatureEncoding: &bad})
	wantKind(t, err, fault.Invalid)
	v4 := "V4"
	_, err = e.svc.Configure(e.ctx, o.ID, notify.Change{Version: &v4})
	wantKind(t, err, fault.Invalid)
	ftp := "ftp://example.com"
	_, err = e.svc.Configure(e.ctx, o.ID, notify.Change{URL: &ftp})
	wantKind(t, err, fault.Invalid)
	_, err = e.svc.Configure(e.ctx, 999, notify.Change{})
	wantKind(t, err, fault.NotFound)
	// A failed change writes nothing.
	if ep, _ := e.svc.Endpoint(e.ctx, o.ID); ep.URL != url || ep.SignatureEncoding != notify.Hex {
		t.Errorf("a refused change wrote: %+v", ep)
	}
}

// TestEventIDsNeverRepeat: after a sandbox reset deletes the newest
// events, new events get new IDs (receivers de-duplicate on them).
func TestEventIDsNeverRepeat(t *testing.T) {
	e := newEnv(t, envOptions{})
	o, _ := e.org("Acme", true, "", orgs.CallbackV3)
	last := e.simple(o.ID, iccidN(1))
	if err := e.db.ResetOrganisation(context.Background(), o.ID, t0); err != nil {
		t.Fatal(err)
	}
	if next := e.simple(o.ID, iccidN(1)); next <= last {
		t.Errorf("event ID %d reused after a reset (last was %d)", next, last)
	}
}

// TestResetWhileInFlight: a sandbox reset deletes events while their
// delivery is in flight; recording the attempt neither fails nor loses the
// other results of the batch.
func TestResetWhileInFlight(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, nil)
	o, _ := e.org("Reset", true, rc.URL, orgs.CallbackV3)
	other, _ := e.org("Other", true, rc.URL, orgs.CallbackV3)
	rc.respond = func(n int, r *http.Request, w http.ResponseWriter) {
		if rc.all()[n-1].iccid() == iccidN(1) {
			if err := e.db.ResetOrganisation(context.Background(), o.ID, t0); err != nil {
				t.Errorf("reset: %v", err)
			}
		}
		w.WriteHeader(http.StatusOK)
	}
	e.simple(o.ID, iccidN(1))
	keep := e.simple(other.ID, iccidN(2))
	e.deliver(0)
	if st := e.state(other.ID, keep); st.Status != notify.StatusDelivered {
		t.Fatalf("the other organisation's event: %+v", st.DeliveryState)
	}
	if evs, err := e.svc.Events(e.ctx, o.ID, notify.EventQuery{}); err != nil || len(evs) != 0 {
		t.Fatalf("events after the reset: %+v, %v", evs, err)
	}
}
