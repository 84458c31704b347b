package notify_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

// TestDeadNodesLeaseIsShort: events a node claimed and never recorded
// (it died mid-delivery) are sent again by another node within half a
// minute (2 attempt timeouts + 10 s), not after the chain's length in
// timeouts plus a minute (about 3 minutes with the defaults).
func TestDeadNodesLeaseIsShort(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.cfg.AttemptTimeout = 5 * time.Second
	dead := e.restart()
	hung, release := make(chan struct{}), make(chan struct{})
	rc := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		if n == 1 {
			// The dead node's attempt: answered (with a failure) only after
			// the other node delivered.
			hung <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	o, _ := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	var ids []int64
	for range 16 {
		ids = append(ids, e.simple(o.ID, "8999901000000000013"))
	}
	done := make(chan error, 1)
	go func() { done <- dead.DeliverDue(e.ctx, o.ID) }()
	<-hung
	st := e.state(o.ID, ids[0])
	if lease := st.NextAttemptAt.Sub(t0); lease > 20*time.Second {
		t.Fatalf("a chain of 16 is leased for %s, want at most 2 × 5 s + 10 s", lease)
	}
	// Another node, once the lease has run out, delivers the whole chain.
	e.clock.Advance(21 * time.Second)
	live := e.restart()
	if err := live.DeliverDue(e.ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	if got := byICCID(t, rc.all())["8999901000000000013"]; !slices.Equal(got[1:], ids) {
		t.Fatalf("after the dead node's lease: received %v, want the chain %v", got[1:], ids)
	}
	// The dead node's late result does not undo the delivery.
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := e.state(o.ID, ids[0]); st.Status != notify.StatusDelivered {
		t.Fatalf("after the dead node's attempt ended: %+v", st.DeliveryState)
	}
}

// TestLiveNodeNeverSendsPastItsLease: a slow receiver (4 s an answer,
// with a 5 s timeout) makes a live node stop a long chain while its lease
// still covers recording, so no other node could claim an event the live
// node is sending; every event arrives once, in order.
func TestLiveNodeNeverSendsPastItsLease(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.cfg.AttemptTimeout = 5 * time.Second
	e.restart()
	const iccid = "8999901000000000013"
	var o orgs.Organisation
	rc := newReceiver(t, func(n int, r *http.Request, w http.ResponseWriter) {
		e.clock.Advance(4 * time.Second) // the receiver takes 4 s
		// At the end of this attempt, with margin to record it, no event of
		// the stream is claimable by another node.
		dues, err := e.db.DueDeliveries(r.Context(), e.clock.Now().Add(5*time.Second), o.ID, nil, 100)
		if err != nil {
			t.Error(err)
		}
		for _, d := range dues {
			if d.Event.ICCID == iccid {
				t.Errorf("request %d: event %d is claimable by another node while this one sends the stream", n, d.Event.ID)
			}
		}
		w.WriteHeader(http.StatusOK)
	})
	o, _ = e.org("Acme", true, rc.URL, orgs.CallbackV3)
	var ids []int64
	for range 8 {
		ids = append(ids, e.simple(o.ID, iccid))
	}
	e.deliver(o.ID)
	if got := byICCID(t, rc.all())[iccid]; !slices.Equal(got, ids) {
		t.Fatalf("received %v, want each once in order %v", got, ids)
	}
}
