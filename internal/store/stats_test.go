package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/jobs"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
)

// TestQueueStats: the backlog /metrics reports counts what is due now —
// callbacks, live organisations' due work by kind, queued jobs by kind
// with their failed ones — and leaves out what is scheduled later and a
// sandbox organisation's due work (its clock drains it).
func TestQueueStats(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mk := func(name string, sandbox bool) orgs.Organisation {
		o := orgs.Organisation{Name: name, Currency: "USD", Sandbox: sandbox, CallbackVersion: "V3", RefundWindowDays: 60, CreatedAt: now, UpdatedAt: now}
		if err := db.InTx(ctx, func(ctx context.Context) error { return db.InsertOrganisation(ctx, &o) }); err != nil {
			t.Fatal(err)
		}
		return o
	}
	live, sandbox := mk("Live", false), mk("Sandbox", true)
	err := db.InTx(ctx, func(ctx context.Context) error {
		for _, d := range []esims.DueItem{
			{OrgID: live.ID, Kind: esims.DueBundleExpiry, SubjectID: 1, DueAt: now.Add(-time.Hour)},
			{OrgID: live.ID, Kind: esims.DueBundleExpiry, SubjectID: 2, DueAt: now.Add(-time.Minute)},
			{OrgID: live.ID, Kind: esims.DueBundleLapse, SubjectID: 3, DueAt: now.Add(time.Hour)}, // not yet due
			{OrgID: sandbox.ID, Kind: esims.DueBundleExpiry, SubjectID: 4, DueAt: now.Add(-time.Hour)},
		} {
			if err := db.ScheduleDue(ctx, d); err != nil {
				return err
			}
		}
		ev := esims.Event{OrgID: live.ID, ICCID: "8999901000000000013", Kind: events.KindFirstAttachment,
			Payload: events.FirstAttachment{AlertType: events.KindFirstAttachment, ICCID: "8999901000000000013"}, At: now}
		if err := db.AddEvent(ctx, &ev); err != nil {
			return err
		}
		for _, j := range []jobs.Job{
			{Kind: "provision", State: jobs.StatePending, RunAt: now.Add(-30 * time.Second), Payload: json.RawMessage("{}"), CreatedAt: now},
			{Kind: "provision", State: jobs.StatePending, RunAt: now.Add(time.Hour), Payload: json.RawMessage("{}"), CreatedAt: now},
		} {
			if err := db.InsertJob(ctx, &j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// One provisioning job failed for good.
	if err := db.InTx(ctx, func(ctx context.Context) error {
		failed := jobs.Job{Kind: "provision", State: jobs.StatePending, RunAt: now.Add(-time.Hour), Payload: json.RawMessage("{}"), CreatedAt: now}
		if err := db.InsertJob(ctx, &failed); err != nil {
			return err
		}
		claimed, err := db.ClaimJobs(ctx, "provision", now, 1, 7, now.Add(time.Minute))
		if err != nil || len(claimed) != 1 || claimed[0].ID != failed.ID {
			t.Fatalf("claim %+v, %v", claimed, err)
		}
		_, err = db.FailJob(ctx, failed.ID, 7, now, "gave up")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	stats, err := db.QueueStats(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.QueueStat{}
	for _, q := range stats {
		got[q.Kind] = q
	}
	want := map[string]store.QueueStat{
		// Written just now and never attempted: due, and waiting since it
		// was written (not since the epoch its next_attempt_at 0 says).
		"callback":            {Kind: "callback", Due: 1, Oldest: 0},
		esims.DueBundleExpiry: {Kind: esims.DueBundleExpiry, Due: 2, Oldest: time.Hour},
		"job:provision":       {Kind: "job:provision", Due: 1, Oldest: 30 * time.Second, Failed: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queue stats (-want +got):\n%s", diff)
	}
}
