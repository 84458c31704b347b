package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

// TestMigrationShortensKeyHints: hints stored before keys were hinted by
// their last four characters only (the first six and the last four) keep
// just their tail after migrating, on both engines.
func TestMigrationShortensKeyHints(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := store.MigrateTo(ctx, db, 10); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// The organisation as the schema at version 10 holds it: the store's
	// InsertOrganisation writes the columns of the latest schema.
	o := orgs.Organisation{ID: 1}
	if err := store.ExecForTest(ctx, db, `INSERT INTO organisations (id, name, currency, sandbox, created_at, updated_at)
		VALUES (1, 'Acme', 'USD', FALSE, $1, $1)`, now.UnixNano()); err != nil {
		t.Fatal(err)
	}
	for i, h := range []string{"esimd_…0001", "abcdef…mnop", "…"} {
		k := orgs.APIKey{OrgID: o.ID, Hint: h, CreatedAt: now}
		if err := db.InsertAPIKey(ctx, &k, orgs.HashKey(h+string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := db.APIKeys(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.Hint)
	}
	if diff := cmp.Diff([]string{"…0001", "…mnop", "…"}, got); diff != "" {
		t.Fatalf("hints after migrating (-want +got):\n%s", diff)
	}
}
