package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/notify"
)

// TestRecordOutcomesHonoursLeases checks the batched forms of the delivery
// writes: a lease takes only pending events, an outcome is written only
// where its token still holds the lease (or with token 0), attempts of
// deleted events are left out, and a round of more rows than one statement
// takes is written whole.
func TestRecordOutcomesHonoursLeases(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	o := newOrg(t, db)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []int64
	for range 100 {
		ev := esims.Event{OrgID: o.ID, ICCID: "8999901000000000013", Kind: "Utilisation", Payload: events.Utilisation{AlertType: events.KindUtilisation, Percentage: 1}, At: at}
		if err := db.AddEvent(ctx, &ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	const mine, theirs = 111, 222
	if err := db.LeaseDeliveries(ctx, ids[:90], mine, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.LeaseDeliveries(ctx, ids[90:95], theirs, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	delivered := at.Add(time.Second)
	var outs []notify.Outcome
	for _, id := range ids[:95] {
		att := &notify.Attempt{OrgID: o.ID, EventID: id, Kind: "Utilisation", Attempt: 1, URL: "http://receiver.invalid/", At: delivered,
			StatusCode: 200, Outcome: "delivered"}
		outs = append(outs, notify.Outcome{EventID: id, Token: mine, Attempt: att,
			State: notify.DeliveryState{Status: notify.StatusDelivered, Attempts: 1, NextAttemptAt: delivered, LastAttemptAt: &delivered, DeliveredAt: &delivered}})
	}
	outs = append(outs, notify.Outcome{EventID: ids[99], Token: 0,
		State: notify.DeliveryState{Status: notify.StatusSkipped, NextAttemptAt: at, LastError: "no callback URL"}})
	if err := db.RecordOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	status := func(id int64) string {
		st, err := db.EventState(ctx, o.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		return st.Status
	}
	var got []string
	for _, i := range []int{0, 89, 90, 94, 95, 99} {
		got = append(got, status(ids[i]))
	}
	want := []string{notify.StatusDelivered, notify.StatusDelivered, notify.StatusPending, notify.StatusPending, notify.StatusPending, notify.StatusSkipped}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("states of events 0, 89, 90 (leased by another), 94, 95 (never leased), 99 (token 0) (-want +got):\n%s", diff)
	}
	atts, err := db.Attempts(ctx, o.ID, notify.AttemptQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 95 {
		t.Errorf("%d attempts logged, want 95", len(atts))
	}
	// Delivered events are no longer pending: leasing them fails.
	if err := db.LeaseDeliveries(ctx, ids[:2], mine, at.Add(time.Hour)); !fault.Is(err, fault.NotFound) {
		t.Errorf("leasing delivered events: %v, want NotFound", err)
	}
}

// TestDueDeliveriesLooksPastALongBlockedStream checks that the heads of
// streams beyond DueDeliveries' first window are still found when that
// window is filled by a stream whose head is not due (waiting for a retry).
func TestDueDeliveriesLooksPastALongBlockedStream(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	o := newOrg(t, db)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	add := func(iccid string) int64 {
		ev := esims.Event{OrgID: o.ID, ICCID: iccid, Kind: "Utilisation", Payload: events.Utilisation{AlertType: events.KindUtilisation}, At: at}
		if err := db.AddEvent(ctx, &ev); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	head := add("8999901000000000013")
	for range 40 {
		add("8999901000000000013")
	}
	other := add("8999901000000000021")
	// The long stream's head waits for a retry an hour away.
	if err := db.LeaseDeliveries(ctx, []int64{head}, 7, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var got []int64
	err := db.InTx(ctx, func(ctx context.Context) error {
		dues, err := db.DueDeliveries(ctx, time.Now(), 0, nil, 1)
		for _, d := range dues {
			got = append(got, d.Event.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{other}, got); diff != "" {
		t.Errorf("due heads with one asked for (-want +got):\n%s", diff)
	}
}
