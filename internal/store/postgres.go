package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/esimd/esimd/internal/fault"
)

// IsPostgres reports whether dsn names a PostgreSQL database (a postgres://
// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openPostgres opens one pool for reads and writes: PostgreSQL runs
// writers concurrently, so there is no single-writer queue to keep.
func openPostgres(ctx context.Context, dsn string, log *slog.Logger) (*DB, error) {
	cfg, err := pgconnConfig(dsn)
	if err != nil {
		return nil, err
	}
	pool := stdlib.OpenDB(*cfg)
	conns := max(8, runtime.GOMAXPROCS(0)*4)
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	side := stdlib.OpenDB(*cfg)
	side.SetMaxOpenConns(2)
	side.SetMaxIdleConns(2)
	side.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{engine: EnginePostgres, write: pool, read: pool, side: side, log: log}
	if err := pool.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres database %s: %w", redactDSN(dsn), err)
	}
	return db, nil
}

// RedactDSN hides the password of a PostgreSQL connection URL (in the user
// part or a password parameter) so that it can be printed or logged; a
// SQLite path comes back unchanged.
func RedactDSN(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "***")
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", "***")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return "postgres://(unreadable connection URL)"
}

func redactDSN(dsn string) string { return RedactDSN(dsn) }

func pgconnConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fault.Invalidf("--db: %v", err)
	}
	return cfg, nil
}

// mapPostgresErr maps PostgreSQL's SQLSTATE codes to fault kinds and to
// errRetry; other errors pass through.
func mapPostgresErr(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23505": // unique_violation
		return fault.Wrap(fault.Conflict, fmt.Errorf("%w: %w", errUnique, err), "already exists")
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return fmt.Errorf("%w: %w", errRetry, err)
	}
	return err
}

// postgresOutage reports whether err says PostgreSQL cannot serve: it
// refuses connections (stopped, starting, too many clients), shut the
// session down (57P01 admin_shutdown after pg_terminate_backend or a
// fast shutdown, 57P02, 57P03 cannot_connect_now), lost the connection
// (class 08), or ran out of disk, memory or I/O (classes 53 and 58).
func postgresOutage(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "58"),
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", pe.Code == "57P05":
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	// A connection that broke mid-statement: the socket's error, or the
	// stream ending early.
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// retryPause waits a little, more after each lost race, with jitter so
// that the transactions that collided do not collide again.
func retryPause(attempt int) {
	limit := time.Millisecond << min(attempt, 7) // up to 128 ms
	time.Sleep(time.Duration(rand.Int64N(int64(limit))) + time.Millisecond)
}

// locking reports whether reads in ctx must lock what they read: inside a
// write transaction on PostgreSQL. On SQLite the single writer already
// keeps write transactions apart.
func (db *DB) locking(ctx context.Context) bool {
	if db.engine != EnginePostgres {
		return false
	}
	st, ok := ctx.Value(txKey{}).(*txState)
	return ok && st.db == db && st.write
}

// forUpdate is " FOR UPDATE" when reads in ctx must lock, else "".
func (db *DB) forUpdate(ctx context.Context) string {
	if db.locking(ctx) {
		return " FOR UPDATE"
	}
	return ""
}

// lockESIMs locks the eSIM rows whose IDs the subquery selects, lowest ID
// first, when reads in ctx must lock. Everything that changes an eSIM or
// its assignments locks the eSIM first, so two nodes never interleave
// changes to one eSIM; the fixed order keeps lockers from deadlocking.
func (db *DB) lockESIMs(ctx context.Context, idQuery string, args ...any) error {
	if !db.locking(ctx) {
		return nil
	}
	rows, err := db.query(ctx, `SELECT id FROM esims WHERE id IN (`+idQuery+`) ORDER BY id FOR UPDATE`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return db.mapErr(rows.Err())
}

// inJSONList is a condition that column is one of the values of a JSON
// array passed as parameter n (an empty array matches nothing).
func (db *DB) inJSONList(column string, n int, integer bool) string {
	p := "$" + itoa(int64(n))
	if db.engine == EnginePostgres {
		if integer {
			return column + ` IN (SELECT CAST(v AS BIGINT) FROM jsonb_array_elements_text(CAST(` + p + ` AS JSONB)) AS v)`
		}
		return column + ` IN (SELECT v FROM jsonb_array_elements_text(CAST(` + p + ` AS JSONB)) AS v)`
	}
	return column + ` IN (SELECT value FROM json_each(` + p + `))`
}

// like is the case-insensitive LIKE of this engine (SQLite's LIKE already
// ignores ASCII case; PostgreSQL's does not).
func (db *DB) like() string {
	if db.engine == EnginePostgres {
		return "ILIKE"
	}
	return "LIKE"
}
