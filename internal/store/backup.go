package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strings"

	"github.com/esimd/esimd/internal/fault"
)

// BackupInto writes a consistent copy of the SQLite database to path,
// which must not exist, with VACUUM INTO: one read transaction, so the copy
// is a snapshot of one moment while writers (this process's or a serving
// one's) carry on in the WAL. Errors: Invalid on PostgreSQL.
func (db *DB) BackupInto(ctx context.Context, path string) error {
	if db.engine != EngineSQLite {
		return fault.Invalidf("only SQLite databases are backed up by esimd; back up PostgreSQL with pg_dump")
	}
	// On the writer connection: the readers are query_only. VACUUM INTO
	// takes no write lock on this database, only a read snapshot.
	_, err := db.write.ExecContext(ctx, `VACUUM INTO ?1`, path)
	return db.mapErr(err)
}

// requiredTables are tables every esimd schema has; a file without them is
// not an esimd database, whatever its goose version table says.
var requiredTables = []string{"organisations", "ledger_entries", "orders", "esims", "idempotency_keys"}

// InspectSQLiteFile checks that the file at path is an intact esimd SQLite
// database and returns its schema version and the newest this build
// knows. It reads the file but does not migrate it. Errors: Invalid when
// the file is not a SQLite database, not esimd's, damaged, or from a newer
// esimd.
func InspectSQLiteFile(ctx context.Context, path string) (version, latest int64, err error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(EngineSQLite))
	if err != nil {
		return 0, 0, err
	}
	known, err := fs.Glob(sub, "*.sql")
	if err != nil || len(known) == 0 {
		return 0, 0, fmt.Errorf("embedded migrations: %v", err)
	}
	if _, err := fmt.Sscanf(known[len(known)-1], "%d_", &latest); err != nil {
		return 0, 0, fmt.Errorf("embedded migration %s: %w", known[len(known)-1], err)
	}
	conn, err := sql.Open("sqlite3", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		return 0, latest, err
	}
	defer conn.Close()
	var check string
	if err := conn.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return 0, latest, fault.Invalidf("%s is not a SQLite database: %v", path, err)
	}
	if check != "ok" {
		return 0, latest, fault.Invalidf("%s is damaged (integrity check: %s)", path, check)
	}
	var v sql.NullInt64
	err = conn.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, latest, fault.Invalidf("%s is a SQLite database but not esimd's: it has no schema version", path)
	}
	if err != nil {
		return 0, latest, err
	}
	for _, table := range requiredTables {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1`, table).Scan(&n); err != nil {
			return 0, latest, err
		}
		if n == 0 {
			return 0, latest, fault.Invalidf("%s is not an esimd database: it has no %s table", path, table)
		}
	}
	switch {
	case !v.Valid || v.Int64 < 1:
		return 0, latest, fault.Invalidf("%s is not an esimd database: no migration was applied to it", path)
	case v.Int64 > latest:
		return v.Int64, latest, fault.Invalidf("%s has schema version %d, newer than this esimd knows (%d): restore it with a newer esimd", path, v.Int64, latest)
	}
	return v.Int64, latest, nil
}
