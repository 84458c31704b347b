package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/store"
)

func TestSeedESIMs(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	o := newOrg(t, db)
	b := catalogue.Bundle{Name: "esim_1GB_7D_GB_V2", Description: "1 GB", Profile: "Profile 1", DataBytes: 1e9, DurationDays: 7, Autostart: true, Price: money.MustParse("1.73")}
	if err := db.SeedESIMs(ctx, o.ID, b, 1, store.SeedSize{ESIMs: 12, AssignmentsPer: 2, HistoryPer: 3}, time.Now()); err != nil {
		t.Fatal(err)
	}
	list, total, err := db.ListESIMs(ctx, o.ID, esimsQuery())
	if err != nil || total != 12 || len(list) != 10 {
		t.Fatalf("ListESIMs = %d of %d, %v", len(list), total, err)
	}
	as, err := db.AssignmentsOfESIM(ctx, list[0].ID)
	if err != nil || len(as) != 2 {
		t.Fatalf("assignments = %v, %v", as, err)
	}
	h, err := db.History(ctx, list[0].ID)
	if err != nil || len(h) != 3 {
		t.Fatalf("history = %v, %v", h, err)
	}
	if size, err := db.Size(ctx); err != nil || size < 4096 {
		t.Fatalf("Size = %d, %v", size, err)
	}
}
