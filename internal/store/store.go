// Package store keeps esimd's state in SQL: SQLite (the embedded default)
// or PostgreSQL (through pgx, for several nodes on one database), each with
// its own embedded migrations and no difference visible to the domain
// packages.
//
// SQL is written once with $n placeholders and rewritten to ?n for SQLite
// (the ?n form binds the same argument positions on every SQLite driver).
// Times are stored as integer nanoseconds since the Unix epoch, money as
// integer ten-thousandths (see package money) and lists as JSON text, so the
// same statements run unchanged on both engines.
//
// A use case runs in one transaction: InTx puts the transaction in the
// context, and every store method called with that context joins it. Outside
// InTx, reads go to a pool of reader connections and writes to a single
// writer connection (SQLite allows one writer at a time; queueing in Go is
// cheaper than spinning on SQLITE_BUSY). On SQLite, write transactions
// that queue for the writer commit in groups, each in its own savepoint
// (group.go): one fsync for many use cases, each still all or nothing.
//
// On PostgreSQL, transactions run at READ COMMITTED on one pool. What a
// single SQLite writer gives for free is made explicit there (postgres.go):
// a write transaction locks the eSIM rows it reads before it changes them,
// claims of shared work skip rows another node holds, and a transaction
// that loses a deadlock or serialization race is run again from the start.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

//go:embed migrations
var migrations embed.FS

// Engine names a database engine.
type Engine string

// The engines.
const (
	EngineSQLite   Engine = "sqlite" // the embedded default
	EnginePostgres Engine = "postgres"
)

// DB is an open database.
type DB struct {
	engine Engine
	write  *sql.DB
	read   *sql.DB
	// side is PostgreSQL's pool for statements that commit on their own
	// while a transaction of the main pool is open (NextCounter). It is
	// separate so that those statements never wait for a connection that
	// a waiting transaction holds. Nil on SQLite.
	side *sql.DB
	log  *slog.Logger

	// group runs SQLite's write transactions in groups with one commit
	// (group.go); nil on PostgreSQL, where transactions run side by side.
	group *committer
	// gates are PostgreSQL's node-local gates (Gate), by name.
	gates sync.Map // string → *sync.Mutex

	rewritten sync.Map // SQL text with $n → SQL text for this engine
	// Prepared statements per pool, keyed by SQL text: parsing SQL was a
	// third of the CPU time of a small request before they were cached.
	readStmts, writeStmts sync.Map

	// lastOutage is the database's last failure of its own (mapErr), which
	// Ping reports for a while.
	lastOutage atomic.Pointer[outageRecord]
}

// Open opens the database named by dsn: a file path or "file:" URI for
// SQLite (":memory:" is refused: readers and the writer need one shared
// file). It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn, log)
	}
	path := strings.TrimPrefix(dsn, "file:")
	if path == "" || path == ":memory:" || strings.Contains(path, "mode=memory") {
		return nil, fault.Invalidf("--db must name a SQLite file (an in-memory database cannot be shared by the reader and writer pools)")
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	// busy_timeout first, as the driver asks; synchronous=FULL because the
	// database holds money.
	const pragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=foreign_keys(1)&_pragma=synchronous(full)"
	base := "file:" + path + "?" + pragmas
	// The writer keeps its temporary files in memory: every use case of a
	// commit group runs in a savepoint, whose sub-journal copies each page
	// the use case first touches; on a temporary file that was a write
	// system call per page and a fifth of an order's time.
	write, err := sql.Open("sqlite3", base+"&_txlock=immediate&_pragma=temp_store(memory)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite writer: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite3", base+"&_txlock=deferred&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0)*2)
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	db := &DB{engine: EngineSQLite, write: write, read: read, log: log}
	// Touch the writer now so that a bad path fails here, not on first use.
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite database %q: %w", path, err)
	}
	db.group = newCommitter(db)
	return db, nil
}

// Engine reports which engine this database runs on.
func (db *DB) Engine() Engine { return db.engine }

// Close closes both pools and their prepared statements.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.stop()
	}
	var errs []error
	for _, cache := range []*sync.Map{&db.readStmts, &db.writeStmts} {
		cache.Range(func(_, v any) bool {
			errs = append(errs, v.(*sql.Stmt).Close())
			return true
		})
	}
	if db.side != nil {
		errs = append(errs, db.side.Close())
	}
	if db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	return errors.Join(append(errs, db.write.Close())...)
}

// Migrate brings the schema up to date. It is safe to call on every start.
func (db *DB) Migrate(ctx context.Context) (applied []string, err error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.engine))
	if err != nil {
		return nil, err
	}
	p, err := db.migrator(sub)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	for _, r := range res {
		applied = append(applied, r.Source.Path)
	}
	if err != nil {
		return applied, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// SchemaVersion returns the newest applied migration and the newest known.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.engine))
	if err != nil {
		return 0, 0, err
	}
	p, err := db.migrator(sub)
	if err != nil {
		return 0, 0, err
	}
	return p.GetVersions(ctx)
}

// migrator returns goose's provider for this engine. On PostgreSQL it holds
// an advisory lock while it works, so nodes starting together migrate once.
func (db *DB) migrator(sub fs.FS) (*goose.Provider, error) {
	if db.engine == EnginePostgres {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		return goose.NewProvider(goose.DialectPostgres, db.write, sub, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(goose.DialectSQLite3, db.write, sub)
}

// Ping checks that the database answers and has not failed a statement
// for want of disk, I/O or a server within the last outageWindow (a full
// disk leaves reads working while every write fails). Errors: Unavailable.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		if e := db.mapErr(err); fault.Is(e, fault.Unavailable) {
			return e
		}
		return fault.Wrap(fault.Unavailable, err, unavailableMessage)
	}
	if o := db.lastOutage.Load(); o != nil {
		if ago := time.Since(o.at); ago < outageWindow {
			return fault.Wrap(fault.Unavailable, o.err, "the database failed a statement %s ago", ago.Round(time.Millisecond))
		}
	}
	return nil
}

type txKey struct{}

type txState struct {
	tx    *sql.Tx
	db    *DB
	write bool // on the writer pool
	// missed holds statements the transaction had to prepare for itself:
	// its pool's connection may be the only one, so preparing on the pool
	// inside the transaction could wait forever. They are prepared on the
	// pool once the transaction has given its connection back.
	missed []string
	// local holds those statements for the rest of the transaction (shared
	// by the members of a commit group): prepared once, not once per call,
	// since each prepared statement holds memory in the connection until
	// the transaction ends (a 65,000-row seeding transaction preparing per
	// call grew SQLite's memory to 250 MB).
	local map[string]*sql.Stmt
	// ended runs when the transaction has committed or rolled back.
	ended []func()
	// savepoints makes a nested InTx a savepoint (InRequestTx).
	savepoints bool
}

// AfterTx arranges for fn to run once the write transaction in ctx has
// ended, committed or rolled back, and before InTx runs it again after a
// lost race; with no transaction in ctx, fn runs at once. It is for
// releasing what a use case took for the length of its transaction and
// must not keep while waiting for the next one.
func (db *DB) AfterTx(ctx context.Context, fn func()) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.db == db {
		st.ended = append(st.ended, fn)
		return
	}
	fn()
}

// Gate waits for the node-local gate called name and holds it until the
// write transaction in ctx ends, like AfterTx. On PostgreSQL, transactions
// queued on one hot row all wake at every commit and try again, and
// throughput falls as the queue grows; a gate lets one use case per name
// and node at a time queue for such rows while the others wait cheaply in
// Go. On SQLite it returns at once: one writer already runs one
// transaction at a time, and a use case waiting inside a commit group for
// a gate another member holds until the group ends would wait forever.
func (db *DB) Gate(ctx context.Context, name string) {
	if db.group != nil {
		return
	}
	g, _ := db.gates.LoadOrStore(name, new(sync.Mutex))
	gate := g.(*sync.Mutex)
	gate.Lock()
	db.AfterTx(ctx, gate.Unlock)
}

// prepareMissed caches what a finished transaction could not, in the
// background: the caller must not wait for a pool connection after its
// transaction, since what it holds meanwhile (a lock of its own, the
// orders' debit gate) may be what the connections' holders wait for.
func (db *DB) prepareMissed(ctx context.Context, st *txState) {
	if len(st.missed) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	go func() {
		for _, q := range st.missed {
			if _, err := db.stmt(ctx, q, st.write); err != nil {
				return // best effort (the database may be closing): a miss only costs a re-parse later
			}
		}
	}()
}

// InTx runs fn in one write transaction. Every store method given the
// context fn receives joins the transaction. Nested calls join the outer
// transaction (in a savepoint of it under InRequestTx). If fn returns an
// error or panics, nothing is written.
//
// On PostgreSQL a transaction that loses a deadlock or a serialization
// race is rolled back and fn runs again, up to maxAttempts times: fn must
// keep its effects inside the transaction (or repeat them harmlessly).
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.db == db {
		if st.savepoints {
			return db.Savepoint(ctx, fn)
		}
		return fn(ctx)
	}
	for attempt := 1; ; attempt++ {
		err := db.runTx(ctx, fn)
		if err == nil || !errors.Is(err, errRetry) || attempt == maxAttempts || ctx.Err() != nil {
			return err
		}
		retryPause(attempt)
	}
}

// maxAttempts bounds how often InTx runs a transaction that keeps losing races.
const maxAttempts = 20

func (db *DB) runTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if db.group != nil {
		return db.group.run(ctx, fn)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return db.mapErr(err)
	}
	st := &txState{tx: tx, db: db, write: true}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			for _, fn := range st.ended {
				fn()
			}
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
		for _, fn := range st.ended {
			fn()
		}
		db.prepareMissed(ctx, st)
	}()
	if err = fn(context.WithValue(ctx, txKey{}, st)); err != nil {
		return err
	}
	return db.mapErr(tx.Commit())
}

// sql returns query in this engine's placeholder style.
func (db *DB) sql(query string) string {
	if db.engine != EngineSQLite {
		return query
	}
	if v, ok := db.rewritten.Load(query); ok {
		return v.(string)
	}
	out := rewritePlaceholders(query)
	db.rewritten.Store(query, out)
	return out
}

// rewritePlaceholders turns $1 into ?1 outside quoted strings.
func rewritePlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query))
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
		case c == '$' && !inQuote && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			c = '?'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// stmt returns the prepared form of query for the transaction in ctx or
// for the pool a call outside a transaction uses. Statements are prepared
// once per pool; database/sql re-prepares them per connection as needed and
// Tx.StmtContext reuses a connection's copy inside a transaction.
func (db *DB) stmt(ctx context.Context, query string, write bool) (*sql.Stmt, error) {
	st, inTx := ctx.Value(txKey{}).(*txState)
	inTx = inTx && st.db == db
	pool, cache := db.read, &db.readStmts
	if write || (inTx && st.write) {
		pool, cache = db.write, &db.writeStmts
	}
	var ps *sql.Stmt
	if v, ok := cache.Load(query); ok {
		ps = v.(*sql.Stmt)
	} else if inTx {
		if p, ok := st.local[query]; ok {
			return p, nil
		}
		p, err := st.tx.PrepareContext(ctx, db.sql(query))
		if err != nil {
			return nil, db.mapErr(err)
		}
		if st.local == nil {
			st.local = map[string]*sql.Stmt{}
		}
		st.local[query] = p
		st.missed = append(st.missed, query)
		return p, nil // closed with the transaction
	} else {
		p, err := pool.PrepareContext(ctx, db.sql(query))
		if err != nil {
			return nil, db.mapErr(err)
		}
		if v, loaded := cache.LoadOrStore(query, p); loaded {
			p.Close()
			ps = v.(*sql.Stmt)
		} else {
			ps = p
		}
	}
	if inTx {
		return st.tx.StmtContext(ctx, ps), nil
	}
	return ps, nil
}

func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ps, err := db.stmt(ctx, query, true)
	if err != nil {
		return nil, err
	}
	res, err := ps.ExecContext(ctx, args...)
	return res, db.mapErr(err)
}

func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ps, err := db.stmt(ctx, query, false)
	if err != nil {
		return nil, err
	}
	rows, err := ps.QueryContext(ctx, args...)
	return rows, db.mapErr(err)
}

// row is a single-row result whose preparation may have failed.
type row struct {
	db  *DB
	r   *sql.Row
	err error
}

// Scan scans the row and maps driver errors to fault kinds (no rows is
// NotFound; errors.Is(err, sql.ErrNoRows) still holds).
func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.db.mapErr(r.r.Scan(dest...))
}

func (db *DB) queryRow(ctx context.Context, query string, args ...any) row {
	ps, err := db.stmt(ctx, query, false)
	if err != nil {
		return row{err: err}
	}
	return row{db: db, r: ps.QueryRowContext(ctx, args...)}
}

// queryRowW is queryRow on the writer, for INSERT … RETURNING outside InTx.
func (db *DB) queryRowW(ctx context.Context, query string, args ...any) row {
	ps, err := db.stmt(ctx, query, true)
	if err != nil {
		return row{err: err}
	}
	return row{db: db, r: ps.QueryRowContext(ctx, args...)}
}

// errUnique marks a unique-constraint violation; mapErr wraps it in a
// Conflict so callers can tell "already exists" from a failure of ours.
var errUnique = errors.New("unique constraint violated")

// errRetry marks an error after which the whole transaction should run
// again (a PostgreSQL deadlock or serialization failure).
var errRetry = errors.New("transaction lost a race with another; retry it")

// mapErr turns driver errors into fault kinds.
func (db *DB) mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fault.Wrap(fault.NotFound, err, "not found")
	}
	var fe *fault.Error
	if errors.Is(err, errUnique) || errors.Is(err, errRetry) || errors.As(err, &fe) {
		return err // mapped already
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // the caller's context ended: not the database's failure
	}
	var code sqlite3.ErrorCode
	if errors.As(err, &code) {
		switch code {
		case sqlite3.CONSTRAINT:
			var x sqlite3.ExtendedErrorCode
			if errors.As(err, &x) && (x == sqlite3.CONSTRAINT_UNIQUE || x == sqlite3.CONSTRAINT_PRIMARYKEY) {
				return fault.Wrap(fault.Conflict, fmt.Errorf("%w: %w", errUnique, err), "already exists")
			}
		case sqlite3.INTERRUPT:
			// SQLite interrupts a statement only when its context is done:
			// the caller went away.
			return fmt.Errorf("%w: %w", context.Canceled, err)
		case sqlite3.FULL, sqlite3.IOERR, sqlite3.CANTOPEN:
			return db.outage(err)
		case sqlite3.BUSY:
			// Another process held the file past busy_timeout.
			return fault.Wrap(fault.Unavailable, err, unavailableMessage)
		}
		return err
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, pgconn.ErrConnClosed) {
		// A connection that broke: database/sql already retried on fresh
		// ones where it could. Not recorded for Ping: an earlier statement
		// cancelled mid-flight closes its connection too, and a server
		// that is really gone also refuses the next connection, which is.
		return fault.Wrap(fault.Unavailable, err, unavailableMessage)
	}
	if db.engine == EnginePostgres && postgresOutage(err) {
		return db.outage(err)
	}
	return mapPostgresErr(err)
}

// unavailableMessage is what a client is told when the database cannot
// serve: a 503 with Retry-After, which clients (our SDK among them) retry.
const unavailableMessage = "the service's database is temporarily unavailable; retry in a few seconds"

// outageWindow is how long Ping reports a database that failed to write
// (a full disk, an I/O error, a lost server): long enough for a load
// balancer's health check to see it and stop sending writes, short enough
// that a recovered database is back in service soon. A write that succeeds
// does not end it early: on a full disk some writes still fit where others
// fail.
const outageWindow = 15 * time.Second

// outage records that the database failed (Ping reports it for
// outageWindow) and returns err as Unavailable.
func (db *DB) outage(err error) error {
	db.lastOutage.Store(&outageRecord{at: time.Now(), err: err})
	return fault.Wrap(fault.Unavailable, err, unavailableMessage)
}

// outageRecord is the last failure of the database itself.
type outageRecord struct {
	at  time.Time
	err error
}

// nanos and fromNanos convert times to and from the stored integer form.
func nanos(t time.Time) int64 { return t.UTC().UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func nullNanos(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: nanos(*t), Valid: true}
}

func fromNullNanos(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

// itoa is strconv.FormatInt for IDs in messages.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Savepoint runs fn inside a savepoint of the transaction in ctx: if fn
// fails, only its own writes are undone and the transaction goes on. It
// lets a batch commit once (one fsync) while each record succeeds or fails
// alone.
func (db *DB) Savepoint(ctx context.Context, fn func(ctx context.Context) error) error {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok || st.db != db || !st.write {
		return db.InTx(ctx, fn)
	}
	end, err := db.OpenSavepoint(ctx)
	if err != nil {
		return err
	}
	if err := fn(ctx); err != nil {
		if errors.Is(err, errRetry) {
			return err // the whole transaction runs again; undoing this part would hide that
		}
		return errors.Join(err, end(true))
	}
	return end(false)
}

// RecordUsage marks a usage record as applied. Errors: Conflict when the
// organisation already sent a record with that ID.
func (db *DB) RecordUsage(ctx context.Context, org orgs.ID, recordID, iccid string, bytes int64, usedAt, appliedAt time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO usage_records (org_id, record_id, iccid, bytes, used_at, applied_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		org, recordID, iccid, bytes, nanos(usedAt), nanos(appliedAt))
	return err
}
