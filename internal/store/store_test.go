package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, _ := storetest.New(t)
	return db
}

func TestOpenRefusesBadDSNs(t *testing.T) {
	for _, dsn := range []string{":memory:", "", "file::memory:?mode=memory", "postgres://localhost:notaport/esimd",
		"postgres://localhost/esimd?connect_timeout=abc"} {
		if _, err := store.Open(context.Background(), dsn, nil); !fault.Is(err, fault.Invalid) {
			t.Errorf("Open(%q) = %v, want an Invalid error", dsn, err)
		}
	}
}

func TestOpenUnreachablePostgresHidesPassword(t *testing.T) {
	// Port 1 on loopback refuses at once.
	_, err := store.Open(context.Background(), "postgres://esimd:hunter2@127.0.0.1:1/esimd?connect_timeout=2", nil)
	if err == nil {
		t.Fatal("Open of an unreachable PostgreSQL succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error %q: want the address without the password", err)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	db := openDB(t)
	applied, err := db.Migrate(context.Background())
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, err %v; want nothing", applied, err)
	}
	cur, latest, err := db.SchemaVersion(context.Background())
	if err != nil || cur != latest || cur < 1 {
		t.Fatalf("SchemaVersion = %d, %d, %v; want equal and ≥ 1", cur, latest, err)
	}
}

func newOrg(t testing.TB, db *store.DB) orgs.Organisation {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	o := orgs.Organisation{Name: "Acme", Currency: "USD", CallbackVersion: "V3", RefundWindowDays: 60, Groups: []string{"Standard Fixed"}, CreatedAt: now, UpdatedAt: now}
	if err := db.InsertOrganisation(context.Background(), &o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOrganisationRoundTrip(t *testing.T) {
	db := openDB(t)
	o := newOrg(t, db)
	got, err := db.Organisation(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(o, got); diff != "" {
		t.Fatalf("stored organisation differs (-want +got):\n%s", diff)
	}
	if _, err := db.Organisation(context.Background(), o.ID+100); !fault.Is(err, fault.NotFound) {
		t.Fatalf("unknown organisation: err = %v, want NotFound", err)
	}
}

func TestLedgerNeverOverspends(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	o := newOrg(t, db)
	credit := orgs.LedgerEntry{OrgID: o.ID, Kind: orgs.LedgerCredit, Amount: money.MustParse("10"), CreatedAt: time.Now()}
	if err := db.AddLedgerEntry(ctx, &credit); err != nil {
		t.Fatal(err)
	}
	// 32 clients each try to spend 1.25 four times: 160 in all against 10.
	var wg sync.WaitGroup
	var mu sync.Mutex
	spent := money.Amount(0)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				e := orgs.LedgerEntry{OrgID: o.ID, Kind: orgs.LedgerOrder, Amount: -money.MustParse("1.25"), CreatedAt: time.Now()}
				err := db.AddLedgerEntry(ctx, &e)
				switch {
				case err == nil:
					mu.Lock()
					spent += 125 * money.Scale / 100
					mu.Unlock()
				case fault.Is(err, fault.Invalid):
				default:
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got, err := db.Organisation(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Balance != 0 || spent != money.MustParse("10") {
		t.Fatalf("balance %s after spending %s; want 0 after exactly 10", got.Balance, spent)
	}
	entries, err := db.LedgerEntries(ctx, o.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var sum money.Amount
	for _, e := range entries {
		sum += e.Amount
		if e.BalanceAfter < 0 {
			t.Errorf("entry %d left balance %s", e.ID, e.BalanceAfter)
		}
	}
	if sum != got.Balance || len(entries) != 1+8 {
		t.Fatalf("ledger sums to %s over %d entries; want balance %s over 9 entries", sum, len(entries), got.Balance)
	}
}

func TestInTxRollsBackOnError(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	o := newOrg(t, db)
	boom := errors.New("boom")
	err := db.InTx(ctx, func(ctx context.Context) error {
		e := orgs.LedgerEntry{OrgID: o.ID, Kind: orgs.LedgerCredit, Amount: 5 * money.Scale, CreatedAt: time.Now()}
		if err := db.AddLedgerEntry(ctx, &e); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	got, _ := db.Organisation(ctx, o.ID)
	entries, _ := db.LedgerEntries(ctx, o.ID, 0, 10)
	if got.Balance != 0 || len(entries) != 0 {
		t.Fatalf("after rollback: balance %s, %d entries; want nothing written", got.Balance, len(entries))
	}
}

func TestAPIKeyUniqueAndRevoke(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	o := newOrg(t, db)
	hash := orgs.HashKey("k-0123456789abcdef")
	k := orgs.APIKey{OrgID: o.ID, Hint: "k-0…cdef", CreatedAt: time.Now()}
	if err := db.InsertAPIKey(ctx, &k, hash); err != nil {
		t.Fatal(err)
	}
	dup := orgs.APIKey{OrgID: o.ID, Hint: "x", CreatedAt: time.Now()}
	if err := db.InsertAPIKey(ctx, &dup, hash); !fault.Is(err, fault.Conflict) {
		t.Fatalf("duplicate hash: err = %v, want Conflict", err)
	}
	if err := db.RevokeAPIKey(ctx, o.ID, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeAPIKey(ctx, o.ID, k.ID, time.Now()); !fault.Is(err, fault.NotFound) {
		t.Fatalf("second revoke: err = %v, want NotFound", err)
	}
	got, stored, err := db.APIKeyByHash(ctx, hash)
	if err != nil || stored != hash || got.RevokedAt == nil {
		t.Fatalf("APIKeyByHash = %+v, %q, %v; want the revoked key", got, stored, err)
	}
}

func TestCatalogueRoundTrip(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	d, v, err := db.Catalogue(ctx)
	if err != nil || v != "" || len(d.Bundles) != 0 {
		t.Fatalf("empty database: %d bundles, version %q, err %v", len(d.Bundles), v, err)
	}
	want := catalogue.Data{
		Currency:  "USD",
		Countries: []catalogue.Country{{ISO: "FR", Name: "France", Region: "Europe"}, {ISO: "GB", Name: "United Kingdom", Region: "Europe"}},
		Regions:   []catalogue.Region{{Name: "Europe Lite", Profile: "Profile 1", Countries: []string{"FR", "GB"}}},
		Bundles: []catalogue.Bundle{{
			Name: "esim_1GB_7D_GB_V2", Description: "eSIM, 1GB, 7 Days, United Kingdom, V2", Groups: []string{"Standard Fixed"},
			Countries: []string{"GB"}, Roaming: []string{"FR"}, DataBytes: 1_000_000_000, DurationDays: 7, Autostart: true,
			Speeds: []string{"4G", "5G"}, Profile: "Profile 1", Price: money.MustParse("1.73"), BillingType: "FixedCost",
			Allowances: []catalogue.Allowance{{Type: "DATA", Service: "STANDARD", Description: "1GB", Amount: 1_000_000_000}},
		}},
		Networks: []catalogue.Network{{CountryISO: "GB", Profile: "Profile 1", Name: "EE", Brand: "EE", MCC: "234", MNC: "30", TADIG: "GBRME", Speeds: []string{"4G"}}},
	}
	v1, err := db.ReplaceCatalogue(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	got, v2, err := db.Catalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1 == "" || v1 != v2 {
		t.Fatalf("version after import %q, loaded %q", v1, v2)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("catalogue round trip (-want +got):\n%s", diff)
	}
	v3, err := db.ReplaceCatalogue(ctx, want)
	if err != nil || v3 == v1 {
		t.Fatalf("re-import gave version %q (before %q), err %v; want a new version", v3, v1, err)
	}
}

func esimsQuery() esims.ListQuery { return esims.ListQuery{Page: 1, PerPage: 10} }

// TestDueItemsFollowEachOrganisationsClock schedules work for two
// organisations, one whose sandbox clock runs 30 days ahead, and checks
// that DueItems returns what is due by each one's own clock, earliest
// first across both, within the limit and for one organisation on request.
func TestDueItemsFollowEachOrganisationsClock(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	wall := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	now, ahead := newOrg(t, db), newOrg(t, db)
	ahead.ClockOffset = 30 * 24 * time.Hour
	if err := db.UpdateOrganisation(ctx, &ahead); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	for i, d := range []struct {
		org orgs.ID
		at  time.Duration // from wall
	}{
		{now.ID, -2 * day}, {now.ID, 0}, {now.ID, day}, {now.ID, 40 * day},
		{ahead.ID, -day}, {ahead.ID, 20 * day}, {ahead.ID, 30 * day}, {ahead.ID, 31 * day},
	} {
		if err := db.ScheduleDue(ctx, esims.DueItem{OrgID: d.org, Kind: esims.DueBundleExpiry, SubjectID: int64(i + 1), DueAt: wall.Add(d.at)}); err != nil {
			t.Fatal(err)
		}
	}
	subjects := func(org orgs.ID, limit int) []int64 {
		t.Helper()
		items, err := db.DueItems(ctx, wall, org, limit)
		if err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, it := range items {
			out = append(out, it.SubjectID)
		}
		return out
	}
	for _, c := range []struct {
		name  string
		org   orgs.ID
		limit int
		want  []int64
	}{
		{"both clocks, earliest first", 0, 100, []int64{1, 5, 2, 6, 7}},
		{"limit", 0, 3, []int64{1, 5, 2}},
		{"one organisation", ahead.ID, 100, []int64{5, 6, 7}},
		{"the other", now.ID, 100, []int64{1, 2}},
	} {
		if diff := cmp.Diff(c.want, subjects(c.org, c.limit)); diff != "" {
			t.Errorf("%s: due subjects (-want +got):\n%s", c.name, diff)
		}
	}
}

// TestAfterTx checks that AfterTx runs its functions once the transaction
// has ended, whether it committed or rolled back, and at once outside one.
func TestAfterTx(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	var ran []string
	note := func(s string) func() { return func() { ran = append(ran, s) } }
	_ = db.InTx(ctx, func(ctx context.Context) error {
		db.AfterTx(ctx, note("committed"))
		if len(ran) != 0 {
			t.Errorf("ran inside the transaction: %q", ran)
		}
		return nil
	})
	failed := errors.New("roll back")
	if err := db.InTx(ctx, func(ctx context.Context) error {
		db.AfterTx(ctx, note("rolled back"))
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("InTx = %v", err)
	}
	db.AfterTx(ctx, note("no transaction"))
	if diff := cmp.Diff([]string{"committed", "rolled back", "no transaction"}, ran); diff != "" {
		t.Errorf("AfterTx order (-want +got):\n%s", diff)
	}
}

func TestRedactDSNHidesPasswords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"esimd.db", "esimd.db"},
		{"postgres://esimd@db:5432/esimd?sslmode=disable", "postgres://esimd@db:5432/esimd?sslmode=disable"},
		{"postgres://esimd:s3cr%40t@db/esimd", "postgres://esimd:%2A%2A%2A@db/esimd"},
		{"postgresql://u:pw@db/x?password=other&sslmode=require", "postgresql://u:%2A%2A%2A@db/x?password=%2A%2A%2A&sslmode=require"},
	} {
		got := store.RedactDSN(tc.in)
		if got != tc.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3cr") || strings.Contains(got, ":pw@") || strings.Contains(got, "other") {
			t.Errorf("RedactDSN(%q) = %q still shows the password", tc.in, got)
		}
	}
}
