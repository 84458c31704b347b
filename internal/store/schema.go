package store

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Schema is what the migrations built, as the engine reports it: enough to
// compare the two engines' trees (SchemaParity test), not a full catalogue.
type Schema struct {
	Tables []Table
}

// Table is one table of the schema.
type Table struct {
	Name       string
	Columns    []Column   // in name order
	PrimaryKey []string   // in key order
	Unique     [][]string // UNIQUE constraints' columns, sorted
	Indexes    []Index    // indexes made by CREATE INDEX, in name order
}

// Column is one column; a primary-key column counts as NOT NULL (SQLite
// reports it nullable unless declared otherwise; PostgreSQL never does).
type Column struct {
	Name    string
	NotNull bool
}

// Index is one explicitly created index. Columns holds column names, or
// "<expr>" for an expression.
type Index struct {
	Name    string
	Unique  bool
	Partial bool
	Columns []string
}

// MigrationFiles lists the migration files of an engine's tree.
func MigrationFiles(e Engine) ([]string, error) {
	entries, err := fs.ReadDir(migrations, "migrations/"+string(e))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range entries {
		out = append(out, d.Name())
	}
	return out, nil
}

// Schema introspects the tables the migrations made (goose's own table
// left out).
func (db *DB) Schema(ctx context.Context) (Schema, error) {
	names, err := db.strings(ctx, db.pick(
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY name`,
		`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
		 AND table_name <> 'goose_db_version' ORDER BY table_name`))
	if err != nil {
		return Schema{}, err
	}
	var s Schema
	for _, name := range names {
		t, err := db.table(ctx, name)
		if err != nil {
			return Schema{}, fmt.Errorf("table %s: %w", name, err)
		}
		s.Tables = append(s.Tables, t)
	}
	return s, nil
}

func (db *DB) pick(sqlite, postgres string) string {
	if db.engine == EnginePostgres {
		return postgres
	}
	return sqlite
}

func (db *DB) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, db.sql(query), args...)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (db *DB) table(ctx context.Context, name string) (Table, error) {
	t := Table{Name: name}
	if db.engine == EnginePostgres {
		return db.pgTable(ctx, t)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT name, "notnull", pk FROM pragma_table_info(?1)`, name)
	if err != nil {
		return t, err
	}
	type pkCol struct {
		name string
		pos  int
	}
	var pks []pkCol
	for rows.Next() {
		var c Column
		var pk int
		if err := rows.Scan(&c.Name, &c.NotNull, &pk); err != nil {
			rows.Close()
			return t, err
		}
		if pk > 0 {
			c.NotNull = true
			pks = append(pks, pkCol{c.Name, pk})
		}
		t.Columns = append(t.Columns, c)
	}
	rows.Close()
	slices.SortFunc(pks, func(a, b pkCol) int { return a.pos - b.pos })
	for _, p := range pks {
		t.PrimaryKey = append(t.PrimaryKey, p.name)
	}
	idx, err := db.read.QueryContext(ctx, `SELECT name, "unique", origin, partial FROM pragma_index_list(?1)`, name)
	if err != nil {
		return t, err
	}
	type listed struct {
		Index
		origin string
	}
	var all []listed
	for idx.Next() {
		var l listed
		if err := idx.Scan(&l.Name, &l.Unique, &l.origin, &l.Partial); err != nil {
			idx.Close()
			return t, err
		}
		all = append(all, l)
	}
	idx.Close()
	for _, l := range all {
		cols, err := db.sqliteIndexColumns(ctx, l.Name)
		if err != nil {
			return t, err
		}
		switch l.origin {
		case "c":
			l.Index.Columns = cols
			t.Indexes = append(t.Indexes, l.Index)
		case "u":
			t.Unique = append(t.Unique, cols)
		}
	}
	return normalise(t), nil
}

func (db *DB) sqliteIndexColumns(ctx context.Context, index string) ([]string, error) {
	return db.strings(ctx, `SELECT coalesce(name, '<expr>') FROM pragma_index_info($1) ORDER BY seqno`, index)
}

func (db *DB) pgTable(ctx context.Context, t Table) (Table, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT column_name, is_nullable = 'NO' FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, t.Name)
	if err != nil {
		return t, err
	}
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.NotNull); err != nil {
			rows.Close()
			return t, err
		}
		t.Columns = append(t.Columns, c)
	}
	rows.Close()
	// The primary key, then UNIQUE constraints, with columns in key order.
	cons, err := db.read.QueryContext(ctx, `SELECT c.contype, a.attname FROM pg_constraint c
		JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
		CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.attnum
		WHERE n.nspname = current_schema() AND r.relname = $1 AND c.contype = 'p'
		ORDER BY k.ord`, t.Name)
	if err != nil {
		return t, err
	}
	for cons.Next() {
		var kind, col string
		if err := cons.Scan(&kind, &col); err != nil {
			cons.Close()
			return t, err
		}
		t.PrimaryKey = append(t.PrimaryKey, col)
	}
	cons.Close()
	uniq, err := db.read.QueryContext(ctx, `SELECT c.conname, a.attname FROM pg_constraint c
		JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
		CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.attnum
		WHERE n.nspname = current_schema() AND r.relname = $1 AND c.contype = 'u'
		ORDER BY c.conname, k.ord`, t.Name)
	if err != nil {
		return t, err
	}
	var cur string
	for uniq.Next() {
		var name, col string
		if err := uniq.Scan(&name, &col); err != nil {
			uniq.Close()
			return t, err
		}
		if name != cur || len(t.Unique) == 0 {
			t.Unique = append(t.Unique, nil)
			cur = name
		}
		t.Unique[len(t.Unique)-1] = append(t.Unique[len(t.Unique)-1], col)
	}
	uniq.Close()
	idx, err := db.read.QueryContext(ctx, `SELECT i.relname, ix.indisunique, ix.indpred IS NOT NULL, k.ord,
		coalesce(a.attname, '<expr>')
		FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class r ON r.oid = ix.indrelid
		JOIN pg_namespace n ON n.oid = r.relnamespace
		CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
		LEFT JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum = k.attnum AND k.attnum > 0
		WHERE n.nspname = current_schema() AND r.relname = $1
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)
		ORDER BY i.relname, k.ord`, t.Name)
	if err != nil {
		return t, err
	}
	defer idx.Close()
	for idx.Next() {
		var ix Index
		var ord int
		var col string
		if err := idx.Scan(&ix.Name, &ix.Unique, &ix.Partial, &ord, &col); err != nil {
			return t, err
		}
		if n := len(t.Indexes); n > 0 && t.Indexes[n-1].Name == ix.Name {
			t.Indexes[n-1].Columns = append(t.Indexes[n-1].Columns, col)
			continue
		}
		ix.Columns = []string{col}
		t.Indexes = append(t.Indexes, ix)
	}
	if err := idx.Err(); err != nil {
		return t, err
	}
	for i, c := range t.Columns {
		if slices.Contains(t.PrimaryKey, c.Name) {
			t.Columns[i].NotNull = true
		}
	}
	return normalise(t), nil
}

// normalise orders what has no order of its own.
func normalise(t Table) Table {
	slices.SortFunc(t.Columns, func(a, b Column) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(t.Indexes, func(a, b Index) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(t.Unique, func(a, b []string) int { return slices.Compare(a, b) })
	return t
}
