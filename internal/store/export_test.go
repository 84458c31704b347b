package store

import (
	"context"
	"io/fs"
	"time"
)

// GroupStats reports how many commit groups SQLite's writer has run and how
// many use cases they held; zeros on PostgreSQL.
func GroupStats(db *DB) (groups, members int64) {
	if db.group == nil {
		return 0, 0
	}
	return db.group.groups.Load(), db.group.members.Load()
}

// TxPrepared reports how many statements the transaction in ctx prepared
// for itself (shared within its commit group) and how many it noted to
// prepare on its pool afterwards.
func TxPrepared(ctx context.Context) (local, missed int) {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok {
		return 0, 0
	}
	return len(st.local), len(st.missed)
}

// MapErr is the store's translation of a driver error on engine e.
func MapErr(e Engine, err error) error { return (&DB{engine: e}).mapErr(err) }

// LimitSQLitePages caps the SQLite writer's file at its current size, so
// that the next write needing a page fails with SQLITE_FULL as on a full
// disk; 0 lifts the cap.
func LimitSQLitePages(ctx context.Context, db *DB, on bool) error {
	n := "2147483646"
	var pages int64
	if err := db.write.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return err
	}
	if on {
		n = itoa(pages)
	}
	_, err := db.write.ExecContext(ctx, "PRAGMA max_page_count = "+n)
	return err
}

// AgeOutage moves the last recorded outage d into the past.
func AgeOutage(db *DB, d time.Duration) {
	if o := db.lastOutage.Load(); o != nil {
		db.lastOutage.Store(&outageRecord{at: o.at.Add(-d), err: o.err})
	}
}

// QueryInt runs a one-integer query through the store's reader path, with
// its error translation.
func QueryInt(ctx context.Context, db *DB, query string) (int64, error) {
	var n int64
	err := db.queryRow(ctx, query).Scan(&n)
	return n, err
}

// MigrateTo applies the migrations up to version only, as an older
// release left the database.
func MigrateTo(ctx context.Context, db *DB, version int64) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.engine))
	if err != nil {
		return err
	}
	p, err := db.migrator(sub)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// ExecForTest runs a statement on the writer, for tests that set up rows of
// an older schema the store's methods no longer write.
func ExecForTest(ctx context.Context, db *DB, query string, args ...any) error {
	_, err := db.write.ExecContext(ctx, db.sql(query), args...)
	return err
}
