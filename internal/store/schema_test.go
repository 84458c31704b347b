package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

// TestSchemaParity holds the two migration trees together: the same files,
// and, migrated, the same tables, columns, keys and indexes. The engine
// comparison needs both engines, so it runs where ESIMD_TEST_POSTGRES is set
// (CI's PostgreSQL pass); the file comparison always runs.
func TestSchemaParity(t *testing.T) {
	sqliteFiles, err := store.MigrationFiles(store.EngineSQLite)
	if err != nil {
		t.Fatal(err)
	}
	pgFiles, err := store.MigrationFiles(store.EnginePostgres)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sqliteFiles, pgFiles); diff != "" {
		t.Errorf("the migration trees hold different files (-sqlite +postgres):\n%s", diff)
	}

	ctx := context.Background()
	lite, err := store.Open(ctx, filepath.Join(t.TempDir(), "parity.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if _, err := lite.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	liteSchema, err := lite.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(liteSchema.Tables) < 10 {
		t.Fatalf("SQLite schema has %d tables; introspection is broken", len(liteSchema.Tables))
	}
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Logf("%s is not set: compared the migration files only, not the migrated schemas", storetest.PostgresEnv)
		return
	}
	pg, _ := storetest.New(t)
	pgSchema, err := pg.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Indexes one engine has on purpose. PostgreSQL checks a foreign key
	// on the referenced side's changes through an index on the referencing
	// column; SQLite never changes those parent rows (batches and orders
	// are not deleted but with their organisation), so the index would only
	// slow its single writer.
	postgresOnly := map[string]bool{"assignments_batch": true, "inventory_batches_order": true}
	for i, tbl := range pgSchema.Tables {
		kept := tbl.Indexes[:0:0]
		for _, ix := range tbl.Indexes {
			if !postgresOnly[ix.Name] {
				kept = append(kept, ix)
			}
			delete(postgresOnly, ix.Name)
		}
		pgSchema.Tables[i].Indexes = kept
	}
	for name := range postgresOnly {
		t.Errorf("index %s is listed as PostgreSQL-only but PostgreSQL has no such index: update the list", name)
	}
	if diff := cmp.Diff(liteSchema, pgSchema); diff != "" {
		t.Errorf("the engines' schemas differ (-sqlite +postgres):\n%s", diff)
	}
}
