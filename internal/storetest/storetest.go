// Package storetest opens real databases for tests: a fresh, migrated
// SQLite file per test, closed when the test ends. Every test package opens
// its store here, so that the engine the suite runs on is chosen in one
// place.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/esimd/esimd/internal/store"
)

// New returns a fresh migrated database and the path it lives at (to open
// it again, as a restarted process would).
func New(tb testing.TB) (*store.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "esimd.db")
	return Open(tb, path), path
}

// Open opens (creating and migrating if needed) the database at path and
// closes it when the test ends.
func Open(tb testing.TB, path string) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}
