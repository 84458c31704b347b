// Package storetest opens real databases for tests: a fresh, migrated
// database per test, closed when the test ends. Every test package opens
// its store here, so that the engine the suite runs on is chosen in one
// place:
//
//   - by default, a SQLite file in the test's temporary directory;
//   - with ESIMD_TEST_POSTGRES set to a PostgreSQL URL, a schema of its
//     own in that database (dropped when the test ends), so tests run in
//     parallel without seeing each other's rows.
//
// .ci/run runs the whole suite once per engine.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"       // registers "pgx"
	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3"

	"github.com/esimd/esimd/internal/store"
)

// PostgresEnv names the variable that switches the suite to PostgreSQL.
const PostgresEnv = "ESIMD_TEST_POSTGRES"

// Engine is the engine the suite runs on.
func Engine() store.Engine {
	if os.Getenv(PostgresEnv) != "" {
		return store.EnginePostgres
	}
	return store.EngineSQLite
}

// New returns a fresh migrated database and its DSN (to open it again, as
// a restarted process or another node would).
func New(tb testing.TB) (*store.DB, string) {
	tb.Helper()
	dsn := DSN(tb)
	return Open(tb, dsn), dsn
}

// DSN returns where a fresh, empty database for this test lives: a SQLite
// file path, or a PostgreSQL URL whose search_path is a new schema. The
// database is not migrated; the schema is dropped when the test ends.
func DSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		return filepath.Join(tb.TempDir(), "esimd.db")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		tb.Fatalf("%s=%s: %v", PostgresEnv, base, err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			tb.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			tb.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens (creating and migrating if needed) the database at dsn and
// closes it when the test ends.
func Open(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// Raw is a second connection to a test database, independent of the
// store, for assertions that count rows behind the store's back. Queries
// use ? placeholders on both engines.
type Raw struct {
	db       *sql.DB
	postgres bool
}

// OpenRaw opens a Raw connection to the database at dsn (read-only on
// SQLite) and closes it when the test ends.
func OpenRaw(tb testing.TB, dsn string) *Raw {
	tb.Helper()
	r := &Raw{postgres: store.IsPostgres(dsn)}
	var err error
	if r.postgres {
		r.db, err = sql.Open("pgx", dsn)
	} else {
		r.db, err = sql.Open("sqlite3", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.db.Close() })
	return r
}

// Int runs a query that returns one integer (a count, a sum) and fails the
// test on error.
func (r *Raw) Int(tb testing.TB, query string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := r.db.QueryRowContext(context.Background(), r.rebind(query), args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// rebind turns ? placeholders into PostgreSQL's $1, $2, … (the queries
// here have no ? inside string literals).
func (r *Raw) rebind(query string) string {
	if !r.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Proxy is a TCP relay in front of a PostgreSQL server, so that a test
// can take the database away from a store as a stopped server would:
// Close drops every relayed connection and closes the port, after which
// connecting is refused.
type Proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  bool
}

// NewProxy starts a relay to the server of the PostgreSQL URL dsn and
// returns it with dsn pointed at the relay. It is closed when the test
// ends.
func NewProxy(tb testing.TB, dsn string) (*Proxy, string) {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{ln: ln}
	go p.serve(target)
	tb.Cleanup(p.Close)
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *Proxy) serve(target string) {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.done {
			p.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(s, c); s.Close(); c.Close() }()
		go func() { _, _ = io.Copy(c, s); s.Close(); c.Close() }()
	}
}

// Close drops every connection and stops listening.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}
