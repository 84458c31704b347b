package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/orgs"
)

// The set-based reads and writes of a usage ingest batch: a few statements
// for a whole batch instead of several per record.

// inChunk bounds the values of one IN list or multi-row insert, under every
// engine's limit on bound parameters.
const inChunk = 512

// inList returns "$from, $from+1, …" for n values, n rounded up to a power
// of two: padded lists (the last value repeated) keep the number of
// distinct statement texts, each prepared and cached, to a handful.
func inList(from, n int) (string, int) {
	size := 1
	for size < n {
		size *= 2
	}
	var b strings.Builder
	for i := range size {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(itoa(int64(from + i)))
	}
	return b.String(), size
}

// padded returns vals extended to size by repeating the last one.
func padded[T any](vals []T, size int) []any {
	out := make([]any, 0, size)
	for _, v := range vals {
		out = append(out, v)
	}
	for len(out) < size {
		out = append(out, vals[len(vals)-1])
	}
	return out
}

// inChunks calls fn with the placeholders and arguments of each chunk of
// vals, numbered from $from (1 unless the statement binds others first).
func inChunks[T any](vals []T, fn func(placeholders string, args []any) error, from ...int) error {
	first := 1
	if len(from) > 0 {
		first = from[0]
	}
	for len(vals) > 0 {
		n := min(len(vals), inChunk)
		ph, size := inList(first, n)
		if err := fn(ph, padded(vals[:n], size)); err != nil {
			return err
		}
		vals = vals[n:]
	}
	return nil
}

// ESIMsByICCIDs returns the eSIMs with these ICCIDs, whoever owns them,
// lowest ID first; unknown ICCIDs are left out. In a PostgreSQL write
// transaction the rows are locked, in ID order as every locker takes them.
func (db *DB) ESIMsByICCIDs(ctx context.Context, iccids []string) ([]esims.ESIM, error) {
	var out []esims.ESIM
	err := inChunks(iccids, func(ph string, args []any) error {
		return eachRow(db, ctx, `SELECT `+esimColumns+` FROM esims WHERE iccid IN (`+ph+`) ORDER BY id`+db.forUpdate(ctx),
			func(r *sql.Rows) error {
				e, err := scanESIM(r)
				out = append(out, e)
				return err
			}, args...)
	})
	return out, err
}

// assignmentColumnsNoICCID is assignmentColumns without the join to the
// eSIM for its ICCID, which a caller holding the eSIMs fills in itself.
var assignmentColumnsNoICCID = strings.Replace(assignmentColumns, "e.iccid", "''", 1)

// AssignmentsOfESIMs returns the assignments of these eSIMs, oldest first,
// without their ICCID (the caller has the eSIMs). On PostgreSQL the caller
// has locked the eSIMs (ESIMsByICCIDs).
func (db *DB) AssignmentsOfESIMs(ctx context.Context, esimIDs []int64) ([]esims.Assignment, error) {
	var out []esims.Assignment
	err := inChunks(esimIDs, func(ph string, args []any) error {
		return eachRow(db, ctx, `SELECT `+assignmentColumnsNoICCID+` FROM assignments a WHERE a.esim_id IN (`+ph+`) ORDER BY a.id`,
			func(r *sql.Rows) error {
				a, err := scanAssignment(r)
				out = append(out, a)
				return err
			}, args...)
	})
	return out, err
}

// UsageRecordsApplied returns which of these record IDs the organisation
// has had applied.
func (db *DB) UsageRecordsApplied(ctx context.Context, org orgs.ID, recordIDs []string) ([]string, error) {
	var out []string
	err := inChunks(recordIDs, func(ph string, args []any) error {
		return eachRow(db, ctx, `SELECT record_id FROM usage_records WHERE org_id = $1 AND record_id IN (`+ph+`)`,
			func(r *sql.Rows) error {
				var id string
				err := r.Scan(&id)
				out = append(out, id)
				return err
			}, append([]any{org}, args...)...)
	}, 2)
	return out, err
}

// usageRecordColumns is how many values one usage_records row binds, and
// usageRowsPerInsert how many rows one statement inserts at most.
const (
	usageRecordColumns = 6
	usageRowsPerInsert = 64
)

// RecordUsages marks usage records as applied, many rows per statement.
// A record ID applied meanwhile by another transaction (another node on
// PostgreSQL) makes the whole transaction run again, so that the batch
// sees it and reports it as a duplicate. Errors: Conflict when the caller
// gave a record twice.
func (db *DB) RecordUsages(ctx context.Context, recs []esims.AppliedUsage) error {
	for len(recs) > 0 {
		n := 1 // a power of two: a handful of statement texts to prepare
		for n*2 <= min(len(recs), usageRowsPerInsert) {
			n *= 2
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO usage_records (org_id, record_id, iccid, bytes, used_at, applied_at) VALUES `)
		args := make([]any, 0, n*usageRecordColumns)
		for i, r := range recs[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			p := i * usageRecordColumns
			b.WriteString("($" + itoa(int64(p+1)) + ", $" + itoa(int64(p+2)) + ", $" + itoa(int64(p+3)) + ", $" + itoa(int64(p+4)) + ", $" + itoa(int64(p+5)) + ", $" + itoa(int64(p+6)) + ")")
			args = append(args, r.Org, r.RecordID, r.ICCID, r.Bytes, nanos(r.UsedAt), nanos(r.AppliedAt))
		}
		if _, err := db.exec(ctx, b.String(), args...); err != nil {
			if db.engine == EnginePostgres && errors.Is(err, errUnique) {
				return errRetry
			}
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// lazySavepoint names OpenSavepoint's savepoints.
const lazySavepoint = "lazy"

// OpenSavepoint starts a savepoint in the write transaction in ctx and
// returns the function that ends it: end(true) undoes what was written
// since, end(false) keeps it. Savepoint is the closure form; this form is
// for callers that open one only when they first write.
func (db *DB) OpenSavepoint(ctx context.Context) (end func(undo bool) error, err error) {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok || st.db != db || !st.write {
		return nil, errors.New("store: OpenSavepoint outside a write transaction")
	}
	if _, err := st.tx.ExecContext(ctx, "SAVEPOINT "+lazySavepoint); err != nil {
		return nil, db.mapErr(err)
	}
	return func(undo bool) error {
		if undo {
			if _, err := st.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+lazySavepoint); err != nil {
				return db.mapErr(err)
			}
		}
		_, err := st.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+lazySavepoint)
		return db.mapErr(err)
	}, nil
}
