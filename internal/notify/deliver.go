package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// responseExcerpt is how much of a response body the log keeps.
const responseExcerpt = 512

// A claim leases its chain for leaseAttempts attempt timeouts plus
// leaseSlack (30 s with the default 10 s timeout): a chain whose results
// are not recorded by then (the process died) is sent again, by any node.
// A live node never sends past its lease: it starts an attempt only while
// the attempt and leaseSlack (time to record the results, and clock skew
// between nodes) fit before the lease ends, and releases the rest of the
// chain for the next claim. So a dead node holds its events for at most
// 30 s, however long the chain.
const (
	leaseAttempts = 2
	leaseSlack    = 10 * time.Second
)

// leaseTerm is how long a claim holds its chain.
func (s *Service) leaseTerm() time.Duration { return leaseAttempts*s.timeout + leaseSlack }

// target is an organisation's endpoint as one delivery round sees it.
type target struct {
	org      orgs.Organisation
	settings Settings
	key      []byte // the API key that signs, nil when unsigned
	note     string // how bodies are signed, or why they are not
	loaded   bool   // key and note looked up
}

// chainLength is how many consecutive events of one stream a claim takes:
// the head and the pending events after it, sent one after the other
// until one is not delivered.
const chainLength = 16

// job is a claimed chain of one stream's events.
type job struct {
	chain []Due // the head first
	token int64
	until time.Time // the lease's end
	t     *target
	sent  []*sent // one per attempted event, in order
}

// sent is one attempt at one event and what it means.
type sent struct {
	due        Due
	att        Attempt
	retryAfter time.Duration // the receiver's Retry-After, 0 when none
	permanent  bool          // no point retrying: refused address, unrenderable payload
	state      DeliveryState
}

// randomToken returns a non-zero lease token.
func randomToken() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:])&(1<<62-1)) + 1
}

// cycle is one step of delivery, in one transaction (one commit): it
// records the attempts of finished jobs, then claims up to limit chains of
// due events (the heads of their streams and the pending events after
// them): events of organisations with no endpoint are marked skipped, the
// rest are leased and counted in flight. org limits claims to one
// organisation when non-zero. If the transaction fails, nothing of it is
// kept: the finished jobs' leases run out and their events are sent again
// (at least once). skipped counts the events marked skipped.
func (s *Service) cycle(ctx context.Context, finished []*job, org orgs.ID, limit int) (jobs []*job, skipped int, err error) {
	now := s.now()
	leaving := map[orgs.ID]int{}
	for _, j := range finished {
		leaving[j.t.org.ID]++
	}
	var counted map[orgs.ID]int
	added := false
	err = s.store.InTx(context.WithoutCancel(ctx), func(ctx context.Context) error {
		jobs, counted, skipped = nil, map[orgs.ID]int{}, 0
		if err := s.record(ctx, finished, now); err != nil {
			return err
		}
		if limit <= 0 {
			return nil
		}
		s.mu.Lock()
		var exclude []orgs.ID
		for id, n := range s.inflight {
			if n-leaving[id] >= s.perOrg {
				exclude = append(exclude, id)
			}
		}
		s.mu.Unlock()
		dues, err := s.store.DueDeliveries(ctx, now, org, exclude, limit)
		if err != nil {
			return err
		}
		targets := map[orgs.ID]*target{}
		for _, d := range dues {
			t, ok := targets[d.Event.OrgID]
			if !ok {
				o, err := s.store.Organisation(ctx, d.Event.OrgID)
				if err != nil {
					return err
				}
				st, err := s.store.CallbackSettings(ctx, o.ID)
				if err != nil {
					return err
				}
				t = &target{org: o, settings: st}
				targets[o.ID] = t
			}
			reason := ""
			switch {
			case t.org.CallbackURL == "":
				reason = "no callback URL was set when the event was due; set one and replay to send it"
			case t.settings.Disabled(t.org.CallbackURL):
				reason = "the endpoint is disabled (" + t.settings.DisabledReason + "); set the callback URL again to enable it, then replay"
			}
			if reason != "" {
				if _, err := s.store.SetDeliveryState(ctx, d.Event.ID, 0, DeliveryState{Status: StatusSkipped, Attempts: d.Attempts,
					NextAttemptAt: now, LastError: reason}); err != nil {
					return err
				}
				skipped++
				continue
			}
			s.mu.Lock()
			full := s.inflight[t.org.ID]-leaving[t.org.ID]+counted[t.org.ID] >= s.perOrg
			s.mu.Unlock()
			if full {
				continue // stays due for a later round
			}
			j := &job{chain: []Due{d}, token: randomToken(), t: t, until: now.Add(s.leaseTerm())}
			next, err := s.store.StreamAfter(ctx, d.Event.OrgID, d.Event.ICCID, d.Event.ID, chainLength-1)
			if err != nil {
				return err
			}
			for _, f := range next {
				if f.NextAttemptAt.After(now) {
					break // order: nothing after an event that is not due
				}
				j.chain = append(j.chain, f)
			}
			ids := make([]int64, len(j.chain))
			for i, c := range j.chain {
				ids[i] = c.Event.ID
			}
			if err := s.store.LeaseDeliveries(ctx, ids, j.token, j.until); err != nil {
				return err
			}
			counted[t.org.ID]++
			jobs = append(jobs, j)
		}
		// Count the new jobs in flight before they commit, so that DeliverDue
		// never sees an organisation idle while its events are leased.
		s.addInflight(counted, 1)
		added = true
		return nil
	})
	// The finished jobs leave only now, so that DeliverDue never sees an
	// organisation idle before their results are committed.
	s.release(finished)
	if err != nil {
		if added {
			s.addInflight(counted, -1)
		}
		return nil, 0, err
	}
	loaded := map[*target]bool{}
	for _, j := range jobs {
		if !loaded[j.t] {
			loaded[j.t] = true
			s.loadKey(ctx, j.t)
		}
	}
	return jobs, skipped, nil
}

func (s *Service) addInflight(counts map[orgs.ID]int, sign int) {
	if len(counts) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range counts {
		s.inflight[id] += sign * n
		if s.inflight[id] <= 0 {
			delete(s.inflight, id)
		}
	}
	if sign < 0 {
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// release ends jobs in flight.
func (s *Service) release(jobs []*job) {
	counts := map[orgs.ID]int{}
	for _, j := range jobs {
		counts[j.t.org.ID]++
	}
	s.addInflight(counts, -1)
}

// loadKey finds the key that signs an organisation's callbacks.
func (s *Service) loadKey(ctx context.Context, t *target) {
	if t.loaded {
		return
	}
	t.loaded = true
	if t.org.CallbackVersion == orgs.CallbackV2 && !t.settings.StandardWebhooks {
		t.note = "unsigned: V2 callbacks carry no signature"
		return
	}
	if len(s.secret) == 0 {
		t.note = "unsigned: the server has no secret key (ESIMD_SECRET_KEY) to open sealed API keys"
		return
	}
	k, err := s.store.SigningKey(ctx, t.org.ID)
	if fault.Is(err, fault.NotFound) {
		t.note = "unsigned: no unrevoked API key of this organisation has a sealed copy for signing (keys issued before signing existed); seal one with 'esimd callbacks seal-key' or POST /admin/v1/organisations/{id}/callbacks/signing-key"
		return
	}
	if err != nil {
		s.log.Error("reading the callback signing key failed", "org", t.org.ID, "error", err)
		t.note = "unsigned: the signing key could not be read"
		return
	}
	raw, err := unseal(s.secret, t.org.ID, k.APIKeyID, k.Sealed)
	if err != nil {
		t.note = fmt.Sprintf("unsigned: the sealed copy of API key %d does not open with this server's secret key (was ESIMD_SECRET_KEY or the .secret file changed?); seal the key again", k.APIKeyID)
		return
	}
	t.key = raw
	var parts []string
	if t.org.CallbackVersion == orgs.CallbackV3 {
		parts = append(parts, "X-Signature-SHA256 ("+string(t.settings.SignatureEncoding)+")")
	}
	if t.settings.StandardWebhooks {
		parts = append(parts, "webhook-signature")
	}
	t.note = strings.Join(parts, " and ") + fmt.Sprintf(" with API key %d (%s)", k.APIKeyID, k.Hint)
}

// request builds the POST of a body to an endpoint with every header.
func (s *Service) request(ctx context.Context, t *target, eventID string, webhookID string, attempt int, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.org.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "esimd-callbacks/1")
	h.Set("X-Esimd-Event-Id", eventID)
	h.Set("X-Esimd-Attempt", strconv.Itoa(attempt))
	if t.key != nil && t.org.CallbackVersion == orgs.CallbackV3 {
		h.Set("X-Signature-SHA256", Signature(t.key, body, t.settings.SignatureEncoding))
	}
	if t.settings.StandardWebhooks {
		ts := s.now().Unix()
		h.Set("webhook-id", webhookID)
		h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
		if t.key != nil {
			h.Set("webhook-signature", StandardSignature(t.key, webhookID, ts, body))
		}
	}
	return req, nil
}

// post sends a request and fills the attempt's status, latency, response
// excerpt and error. ctx is not the caller's: a shutdown lets the attempt
// finish (within the attempt timeout) so that its result is recorded.
func (s *Service) post(ctx context.Context, t *target, req func(ctx context.Context) (*http.Request, error), a *Attempt) (resp *http.Response, blocked bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	r, err := req(ctx)
	if err != nil {
		a.Error = "cannot build the request: " + err.Error()
		return nil, true
	}
	start := time.Now()
	resp, err = s.client(&t.org).Do(r)
	if err != nil {
		a.Latency = time.Since(start)
		var be *BlockedError
		if errors.As(err, &be) {
			a.Error = be.Error()
			return nil, true
		}
		if errors.Is(err, context.DeadlineExceeded) {
			a.Error = fmt.Sprintf("no response within %s", s.timeout)
		} else {
			a.Error = err.Error()
		}
		return nil, false
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, responseExcerpt))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	resp.Body.Close()
	a.Latency = time.Since(start)
	a.StatusCode = resp.StatusCode
	a.Response = strings.ToValidUTF8(string(excerpt), string(utf8.RuneError))
	return resp, false
}

// send attempts a job's events in order and stops after the first that
// is not delivered or given up, when stop is closed (a shutdown), or when
// the next attempt might not be recorded before the lease ends; the
// events not attempted are released by record.
func (s *Service) send(ctx context.Context, j *job, stop <-chan struct{}) {
	for i, d := range j.chain {
		if i > 0 {
			select {
			case <-stop:
				return
			default:
			}
		}
		if s.now().Add(s.timeout + leaseSlack).After(j.until) {
			return // another node may claim the chain before this attempt is recorded
		}
		r := s.attempt(ctx, j.t, d)
		j.sent = append(j.sent, r)
		if r.state.Status == StatusPending || r.att.Outcome == OutcomeDisabled {
			return
		}
	}
}

// attempt makes one attempt at an event and decides its new state.
func (s *Service) attempt(ctx context.Context, t *target, d Due) *sent {
	ev := d.Event
	r := &sent{due: d, att: Attempt{OrgID: ev.OrgID, EventID: ev.ID, Kind: ev.Kind, Attempt: d.Attempts + 1, Replay: d.Replays,
		URL: t.org.CallbackURL, At: s.now(), Signature: t.note}}
	body, err := Render(ev.Kind, ev.Payload, t.org.CallbackVersion)
	if err != nil {
		r.att.Error = fault.MessageOf(err)
		r.permanent = true
	} else {
		resp, blocked := s.post(ctx, t, func(ctx context.Context) (*http.Request, error) {
			return s.request(ctx, t, strconv.FormatInt(ev.ID, 10), WebhookID(ev.ID), r.att.Attempt, body)
		}, &r.att)
		r.permanent = blocked
		if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
			r.retryAfter, _ = retryAfter(resp.Header.Get("Retry-After"), s.now())
		}
	}
	now := s.now()
	r.state, r.att.Outcome = s.outcome(r, now)
	if r.att.Outcome == OutcomeRetry {
		next := r.state.NextAttemptAt
		r.att.NextAttemptAt = &next
	}
	if s.observe != nil {
		// The event's date is in the organisation's time; back on the wall
		// clock it says how long the callback took to arrive.
		s.observe(r.att.Outcome, now.Sub(ev.At.Add(-t.org.ClockOffset)))
	}
	return r
}

// outcome decides what an attempt means for its event.
func (s *Service) outcome(r *sent, now time.Time) (DeliveryState, string) {
	a := &r.att
	st := DeliveryState{Attempts: a.Attempt, LastAttemptAt: &a.At, NextAttemptAt: now}
	code := a.StatusCode
	switch {
	case code >= 200 && code < 300:
		st.Status, st.DeliveredAt = StatusDelivered, &now
		return st, OutcomeDelivered
	case code == http.StatusGone:
		st.Status = StatusFailed
		st.LastError = "410 Gone: the receiver asked for no more callbacks; the endpoint is disabled until the callback URL is set again"
		return st, OutcomeDisabled
	}
	st.LastError = attemptError(a)
	if r.permanent || a.Attempt >= MaxAttempts {
		st.Status = StatusFailed
		if !r.permanent {
			st.LastError = fmt.Sprintf("gave up after %d attempts; last: %s", a.Attempt, st.LastError)
		}
		return st, OutcomeFailed
	}
	s.mu.Lock()
	wait := RetryWait(a.Attempt, r.retryAfter, s.rnd)
	s.mu.Unlock()
	st.Status, st.NextAttemptAt = StatusPending, now.Add(wait)
	return st, OutcomeRetry
}

func attemptError(a *Attempt) string {
	if a.Error != "" {
		return a.Error
	}
	if a.StatusCode >= 300 && a.StatusCode < 400 {
		return fmt.Sprintf("HTTP %d: redirects are not followed; set the final URL as the callback URL", a.StatusCode)
	}
	return fmt.Sprintf("HTTP %d", a.StatusCode)
}

// record writes the attempts of finished jobs and their events' new state
// in the transaction in ctx, releases the events of a chain that were not
// attempted, and disables endpoints that answered 410 Gone.
// The whole round goes to the store at once: a few statements, not three
// per event (each a round trip on PostgreSQL).
func (s *Service) record(ctx context.Context, jobs []*job, now time.Time) error {
	var outs []Outcome
	type endpoint struct {
		org orgs.ID
		url string
	}
	var gone []endpoint
	for _, j := range jobs {
		for _, r := range j.sent {
			outs = append(outs, Outcome{EventID: r.due.Event.ID, Token: j.token, State: r.state, Attempt: &r.att})
			if r.att.Outcome == OutcomeDisabled {
				gone = append(gone, endpoint{j.t.org.ID, r.att.URL})
			}
		}
		for _, d := range j.chain[len(j.sent):] {
			outs = append(outs, Outcome{EventID: d.Event.ID, Token: j.token, State: DeliveryState{Status: StatusPending,
				Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt, LastError: d.LastError}})
		}
	}
	if len(outs) > 0 {
		if err := s.store.RecordOutcomes(ctx, outs); err != nil {
			return err
		}
	}
	for _, g := range gone {
		if err := s.disable(ctx, g.org, g.url, now); err != nil {
			return err
		}
	}
	return nil
}

// disable turns an endpoint off after a 410 Gone.
func (s *Service) disable(ctx context.Context, org orgs.ID, url string, now time.Time) error {
	set, err := s.store.CallbackSettings(ctx, org)
	if err != nil || set.Disabled(url) {
		return err
	}
	set.DisabledAt, set.DisabledURL = &now, url
	set.DisabledReason = fmt.Sprintf("%s answered 410 Gone at %s", url, now.UTC().Format(time.RFC3339))
	s.log.Warn("callback endpoint disabled after 410 Gone", "org", org, "url", url)
	return s.store.PutCallbackSettings(ctx, org, set, now)
}

// sendAll sends jobs concurrently.
func (s *Service) sendAll(ctx context.Context, jobs []*job) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { s.send(ctx, j, nil) })
	}
	wg.Wait()
}

// DeliverDue sends an organisation's due callbacks (every organisation's
// when org is zero) and returns when none is due or in flight: each event
// is attempted once per call, the next event of a stream after the one
// before it was delivered. Retries wait for their time on the wall clock.
// The sandbox clock calls it so that a test sees its callbacks when the
// call returns.
func (s *Service) DeliverDue(ctx context.Context, org orgs.ID) error {
	var finished []*job
	for {
		jobs, skipped, err := s.cycle(ctx, finished, org, s.perOrg)
		if err != nil {
			return err
		}
		finished = nil
		if len(jobs) > 0 {
			s.sendAll(ctx, jobs)
			finished = jobs
			continue
		}
		if skipped > 0 {
			continue // more events without an endpoint may follow
		}
		// Nothing claimable: wait for what the worker has in flight, which
		// may unblock the next events of its streams.
		s.mu.Lock()
		busy := s.inflight[org] > 0 || (org == 0 && len(s.inflight) > 0)
		ch := s.changed
		s.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TestSend posts a test body to an organisation's callback URL now, with
// the headers and signature of a real delivery, and logs the attempt
// (marked as a test). kind "" sends {"alertType":"Test",…}; a notification
// kind sends a sample body of that kind. It is sent even when the endpoint
// is disabled, so that a fixed endpoint can be checked before it is
// enabled again. A failed attempt (refused address, no answer, non-2xx) is
// returned with Outcome failed, not as an error. Errors: NotFound, Invalid
// (no callback URL, unknown kind).
func (s *Service) TestSend(ctx context.Context, org orgs.ID, kind string) (Attempt, error) {
	o, err := s.org(ctx, org)
	if err != nil {
		return Attempt{}, err
	}
	if o.CallbackURL == "" {
		return Attempt{}, fault.Invalidf("organisation %d has no callback URL; set one first", org)
	}
	st, err := s.store.CallbackSettings(ctx, org)
	if err != nil {
		return Attempt{}, err
	}
	t := &target{org: o, settings: st}
	s.loadKey(ctx, t)
	var body []byte
	if kind == "" || kind == "Test" {
		kind = "Test"
		body, err = testBody(o.Now(s.now()))
	} else {
		p, ok := SamplePayload(kind)
		if !ok {
			return Attempt{}, fault.Invalidf("kind %q has no sample; use one of %s, or leave it empty for a test body", kind, strings.Join(Kinds, ", "))
		}
		body, err = Render(kind, p, o.CallbackVersion)
	}
	if err != nil {
		return Attempt{}, err
	}
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	id := "test_" + hex.EncodeToString(rb[:])
	a := Attempt{OrgID: org, Kind: kind, Attempt: 1, Test: true, URL: o.CallbackURL, At: s.now(), Signature: t.note}
	_, _ = s.post(ctx, t, func(ctx context.Context) (*http.Request, error) {
		return s.request(ctx, t, id, id, 1, body)
	}, &a)
	a.Outcome = OutcomeFailed
	if a.StatusCode >= 200 && a.StatusCode < 300 {
		a.Outcome = OutcomeDelivered
	} else if a.Error == "" {
		a.Error = attemptError(&a)
	}
	if err := s.store.InTx(context.WithoutCancel(ctx), func(ctx context.Context) error { return s.store.AddAttempt(ctx, &a) }); err != nil {
		return a, err
	}
	return a, nil
}

// testBody is the body of a test send.
func testBody(at time.Time) ([]byte, error) {
	return []byte(`{"alertType":"Test","message":"esimd test callback: your endpoint is reachable","date":"` + at.UTC().Format(callbackTime) + `"}`), nil
}
