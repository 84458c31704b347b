package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/esimd/esimd/internal/fault"
)

// CopiedTable is one table copied by CopyToPostgres.
type CopiedTable struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// CopyToPostgres copies every row of a SQLite database into an empty
// PostgreSQL database, both migrated to the same schema version. It reads
// one snapshot of the source and writes the target in one transaction
// (COPY per table, parents before children), so the target ends up with
// all of the source or, on any error, nothing. Identity sequences are moved
// past the copied IDs so new rows continue where the source stopped.
func CopyToPostgres(ctx context.Context, src, dst *DB, progress func(CopiedTable)) ([]CopiedTable, error) {
	if src.engine != EngineSQLite || dst.engine != EnginePostgres {
		return nil, fault.Invalidf("copy reads a SQLite database and writes a PostgreSQL one (got %s → %s)", src.engine, dst.engine)
	}
	srcVer, srcLatest, err := src.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	dstVer, _, err := dst.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if srcVer != srcLatest || dstVer != srcVer {
		return nil, fault.Invalidf("both databases must be migrated to the same version first (esimd migrate): SQLite is at %d, PostgreSQL at %d, this esimd knows %d", srcVer, dstVer, srcLatest)
	}

	read, err := src.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer read.Rollback()
	tables, err := sqliteTablesParentsFirst(ctx, read)
	if err != nil {
		return nil, fmt.Errorf("list the SQLite tables: %w", err)
	}

	conn, err := dst.write.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var copied []CopiedTable
	err = conn.Raw(func(driverConn any) error {
		pg := driverConn.(*stdlib.Conn).Conn()
		tx, err := pg.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		for _, t := range tables {
			var nonEmpty bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{t}.Sanitize()+`)`).Scan(&nonEmpty); err != nil {
				return fmt.Errorf("table %s in PostgreSQL: %w", t, err)
			}
			if nonEmpty {
				return fault.Conflictf("the PostgreSQL database already holds data (table %s has rows); copy into an empty database", t)
			}
		}
		// The copy carries derived rows too (event_deliveries): triggers
		// that would derive them again are off for this transaction only.
		for _, t := range tables {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{t}.Sanitize()+` DISABLE TRIGGER USER`); err != nil {
				return fmt.Errorf("table %s in PostgreSQL: %w", t, err)
			}
		}
		for _, t := range tables {
			n, err := copyTable(ctx, read, tx, t)
			if err != nil {
				return fmt.Errorf("copy table %s: %w", t, err)
			}
			ct := CopiedTable{Name: t, Rows: n}
			copied = append(copied, ct)
			if progress != nil {
				progress(ct)
			}
		}
		for _, t := range tables {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{t}.Sanitize()+` ENABLE TRIGGER USER`); err != nil {
				return err
			}
		}
		if err := advanceIdentities(ctx, tx); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return nil, err
	}
	return copied, nil
}

// sqliteTablesParentsFirst lists the application's tables (not SQLite's
// own, not goose's) ordered so that every table comes after the tables its
// foreign keys point to.
func sqliteTablesParentsFirst(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	parents := map[string][]string{}
	for _, n := range names {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, n)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return nil, err
			}
			if p != n {
				parents[n] = append(parents[n], p)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	var ordered []string
	done := map[string]bool{}
	for len(ordered) < len(names) {
		progressed := false
		for _, n := range names {
			if done[n] || slices.ContainsFunc(parents[n], func(p string) bool { return !done[p] }) {
				continue
			}
			done[n], progressed = true, true
			ordered = append(ordered, n)
		}
		if !progressed {
			return nil, errors.New("the foreign keys between tables form a cycle")
		}
	}
	return ordered, nil
}

// copyTable streams one table from SQLite into PostgreSQL with COPY,
// converting SQLite's storage classes to the PostgreSQL column types
// (0/1 integers to booleans, text to bytes and back).
func copyTable(ctx context.Context, read *sql.Tx, tx pgx.Tx, table string) (int64, error) {
	types := map[string]string{}
	rows, err := tx.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, table)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return 0, err
		}
		types[name] = typ
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(types) == 0 {
		return 0, fmt.Errorf("PostgreSQL has no table %s: are both databases at the same schema version?", table)
	}

	src, err := read.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	columns, err := src.Columns()
	if err != nil {
		return 0, err
	}
	colTypes := make([]string, len(columns))
	for i, c := range columns {
		t, ok := types[c]
		if !ok {
			return 0, fmt.Errorf("PostgreSQL table %s has no column %s: are both databases at the same schema version?", table, c)
		}
		colTypes[i] = t
	}
	values := make([]any, len(columns))
	ptrs := make([]any, len(columns))
	for i := range values {
		ptrs[i] = &values[i]
	}
	next := func() ([]any, error) {
		if !src.Next() {
			return nil, src.Err()
		}
		if err := src.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(values))
		for i, v := range values {
			c, err := toPostgres(v, colTypes[i])
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", columns[i], err)
			}
			out[i] = c
		}
		return out, nil
	}
	// COPY writes explicit values into identity columns as given, which is
	// what keeps every ID (and so every reference to it) unchanged.
	return tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromFunc(next))
}

// toPostgres converts one SQLite value for a PostgreSQL column of type typ
// (information_schema's data_type).
func toPostgres(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "boolean":
		switch b := v.(type) {
		case int64:
			return b != 0, nil
		case bool:
			return b, nil
		}
	case "bigint", "integer", "smallint":
		if n, ok := v.(int64); ok {
			return n, nil
		}
	case "bytea":
		switch b := v.(type) {
		case []byte:
			return b, nil
		case string:
			return []byte(b), nil
		}
	case "text":
		switch s := v.(type) {
		case string:
			return s, nil
		case []byte:
			return string(s), nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("SQLite value %v (%T) does not fit a PostgreSQL %s", v, v, typ)
}

// advanceIdentities moves every identity sequence past the largest ID its
// column holds.
func advanceIdentities(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name`)
	if err != nil {
		return err
	}
	type col struct{ table, column string }
	var cols []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.column); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cols {
		t, k := pgx.Identifier{c.table}.Sanitize(), pgx.Identifier{c.column}.Sanitize()
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(`+k+`) FROM `+t+`), 0) + 1, false)`,
			t, c.column); err != nil {
			return fmt.Errorf("advance the identity of %s.%s: %w", c.table, c.column, err)
		}
	}
	return nil
}
