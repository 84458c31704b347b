package store_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

// TestOutageErrorsAreUnavailable: the drivers' errors of a database that
// cannot serve (full disk, I/O error, a stopped or restarting server, a
// dropped connection) are Unavailable, so clients get 503 with
// Retry-After; a cancelled statement is the caller's cancellation; other
// errors keep their kinds.
func TestOutageErrorsAreUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: "connection refused"}}
	// pgx's own error for a server that refuses connections (nothing
	// listens on port 1).
	_, connectErr := pgconn.Connect(context.Background(), "postgres://esimd@127.0.0.1:1/esimd?connect_timeout=2")
	var ce *pgconn.ConnectError
	if !errors.As(connectErr, &ce) {
		t.Fatalf("connecting to a closed port: %v, want a *pgconn.ConnectError", connectErr)
	}
	for _, tc := range []struct {
		engine    store.Engine
		err       error
		want      fault.Kind
		cancelled bool
	}{
		{store.EngineSQLite, sqlite3.FULL, fault.Unavailable, false},
		{store.EngineSQLite, sqlite3.IOERR, fault.Unavailable, false},
		{store.EngineSQLite, sqlite3.IOERR_WRITE, fault.Unavailable, false},
		{store.EngineSQLite, sqlite3.IOERR_FSYNC, fault.Unavailable, false},
		{store.EngineSQLite, sqlite3.CANTOPEN, fault.Unavailable, false},
		{store.EngineSQLite, sqlite3.BUSY, fault.Unavailable, false},
		{store.EngineSQLite, fmt.Errorf("insert: %w", sqlite3.FULL), fault.Unavailable, false},
		{store.EngineSQLite, sqlite3.INTERRUPT, fault.Internal, true},
		{store.EngineSQLite, sqlite3.CONSTRAINT_UNIQUE, fault.Conflict, false},
		{store.EngineSQLite, sqlite3.CONSTRAINT_CHECK, fault.Internal, false},
		{store.EngineSQLite, driver.ErrBadConn, fault.Unavailable, false},
		{store.EngineSQLite, context.Canceled, fault.Internal, true},
		{store.EnginePostgres, &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, fault.Unavailable, false},
		{store.EnginePostgres, &pgconn.PgError{Code: "57P02"}, fault.Unavailable, false},
		{store.EnginePostgres, &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, fault.Unavailable, false},
		{store.EnginePostgres, &pgconn.PgError{Code: "08006"}, fault.Unavailable, false},
		{store.EnginePostgres, &pgconn.PgError{Code: "08001"}, fault.Unavailable, false},
		{store.EnginePostgres, &pgconn.PgError{Code: "53300", Message: "too many clients"}, fault.Unavailable, false},
		{store.EnginePostgres, &pgconn.PgError{Code: "53100", Message: "could not extend file: No space left on device"}, fault.Unavailable, false},
		{store.EnginePostgres, &pgconn.PgError{Code: "58030"}, fault.Unavailable, false},
		{store.EnginePostgres, fmt.Errorf("query: %w", refused), fault.Unavailable, false},
		{store.EnginePostgres, connectErr, fault.Unavailable, false},
		{store.EnginePostgres, fmt.Errorf("read: %w", syscall.ECONNRESET), fault.Unavailable, false},
		{store.EnginePostgres, driver.ErrBadConn, fault.Unavailable, false},
		{store.EnginePostgres, fmt.Errorf("begin: %w", pgconn.ErrConnClosed), fault.Unavailable, false},
		{store.EnginePostgres, &pgconn.PgError{Code: "23505"}, fault.Conflict, false},
		{store.EnginePostgres, &pgconn.PgError{Code: "22P02"}, fault.Internal, false},
		{store.EnginePostgres, &pgconn.PgError{Code: "57014"}, fault.Internal, false}, // query_canceled: ours, not an outage
		{store.EnginePostgres, fmt.Errorf("timeout: %w", context.Canceled), fault.Internal, true},
	} {
		t.Run(fmt.Sprintf("%s/%v", tc.engine, tc.err), func(t *testing.T) {
			got := store.MapErr(tc.engine, tc.err)
			if k := fault.KindOf(got); k != tc.want {
				t.Errorf("kind %v, want %v (%v)", k, tc.want, got)
			}
			if c := errors.Is(got, context.Canceled); c != tc.cancelled {
				t.Errorf("cancelled = %v, want %v (%v)", c, tc.cancelled, got)
			}
			if tc.want == fault.Unavailable && !strings.Contains(fault.MessageOf(got), "retry") {
				t.Errorf("message %q does not say to retry", fault.MessageOf(got))
			}
		})
	}
}

// TestFullDiskIsUnavailableAndUnhealthy: on SQLite, writes to a full
// database fail as Unavailable and Ping reports the database as unable
// to write while reads still work, until the window has passed.
func TestFullDiskIsUnavailableAndUnhealthy(t *testing.T) {
	if storetest.Engine() != store.EngineSQLite {
		t.Skip("SQLite's disk full; TestPostgresOutageIsUnavailable covers PostgreSQL")
	}
	ctx := context.Background()
	db := openDB(t)
	o := newOrg(t, db)
	if err := store.LimitSQLitePages(ctx, db, true); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		n := orgs.Organisation{Name: "Acme " + strings.Repeat("x", 190), Profile: orgs.Profile{Notes: strings.Repeat("n", 2000)}, Currency: "USD", CallbackVersion: "V3", CreatedAt: o.CreatedAt, UpdatedAt: o.CreatedAt}
		err = db.InTx(ctx, func(ctx context.Context) error { return db.InsertOrganisation(ctx, &n) })
	}
	if !fault.Is(err, fault.Unavailable) || !errors.Is(err, sqlite3.FULL) {
		t.Fatalf("writing to a full database: %v (kind %v), want Unavailable", err, fault.KindOf(err))
	}
	if _, err := db.Organisation(ctx, o.ID); err != nil {
		t.Fatalf("reads fail on a full database: %v", err)
	}
	if err := db.Ping(ctx); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("Ping after a failed write = %v, want Unavailable", err)
	}
	if err := store.LimitSQLitePages(ctx, db, false); err != nil {
		t.Fatal(err)
	}
	store.AgeOutage(db, time.Minute)
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping a minute after the last failure = %v, want healthy", err)
	}
}

// TestPostgresOutageIsUnavailable: with the server gone (its port closed,
// its connections dropped), reads and writes fail as Unavailable and Ping
// says so.
func TestPostgresOutageIsUnavailable(t *testing.T) {
	if storetest.Engine() != store.EnginePostgres {
		t.Skip("PostgreSQL's outage; TestFullDiskIsUnavailableAndUnhealthy covers SQLite")
	}
	ctx := context.Background()
	dsn := storetest.DSN(t)
	storetest.Open(t, dsn) // migrate
	proxy, via := storetest.NewProxy(t, dsn)
	db, err := store.Open(ctx, via, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	o := newOrg(t, db)
	proxy.Close()
	if _, err := db.Organisation(ctx, o.ID); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("read with the server gone: %v (kind %v), want Unavailable", err, fault.KindOf(err))
	}
	err = db.InTx(ctx, func(ctx context.Context) error { return db.UpdateOrganisation(ctx, &o) })
	if !fault.Is(err, fault.Unavailable) {
		t.Fatalf("write with the server gone: %v (kind %v), want Unavailable", err, fault.KindOf(err))
	}
	if err := db.Ping(ctx); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("Ping with the server gone = %v, want Unavailable", err)
	}
}

// TestInterruptedStatementIsCancellation: a statement stopped because its
// context was cancelled (the client went away) reports context.Canceled
// on both engines, whatever the driver says, and is no outage.
func TestInterruptedStatementIsCancellation(t *testing.T) {
	db := openDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	// Counts forever: only the cancellation stops it.
	_, err := store.QueryInt(ctx, db, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c`)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled statement: %v (kind %v), want context.Canceled", err, fault.KindOf(err))
	}
	if err := db.Ping(context.Background()); err != nil {
		t.Fatalf("Ping after a cancellation = %v, want healthy", err)
	}
}
