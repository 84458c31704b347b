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

// usageRecordTypes are the six values one usage_records row binds, bare:
// the INSERT's columns type them.
var usageRecordTypes = make([]string, 6)

// RecordUsages marks usage records as applied, many rows per statement.
// A record ID applied meanwhile by another transaction (another node on
// PostgreSQL) makes the whole transaction run again, so that the batch
// sees it and reports it as a duplicate. Errors: Conflict when the caller
// gave a record twice.
func (db *DB) RecordUsages(ctx context.Context, recs []esims.AppliedUsage) error {
	for len(recs) > 0 {
		n := rowsPerStatement(len(recs), 64)
		args := make([]any, 0, n*len(usageRecordTypes))
		for _, r := range recs[:n] {
			args = append(args, r.Org, r.RecordID, r.ICCID, r.Bytes, nanos(r.UsedAt), nanos(r.AppliedAt))
		}
		_, err := db.exec(ctx, `INSERT INTO usage_records (org_id, record_id, iccid, bytes, used_at, applied_at) VALUES `+
			valuesRows(n, usageRecordTypes), args...)
		if db.engine == EnginePostgres && errors.Is(err, errUnique) {
			return errRetry
		}
		if err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// savepointName names the savepoints of OpenSavepoint and Savepoint; nested
// ones may share it, since ROLLBACK TO and RELEASE take the innermost.
const savepointName = "usecase_part"

// OpenSavepoint starts a savepoint in the write transaction in ctx and
// returns the function that ends it: end(true) undoes what was written
// since, end(false) keeps it. Savepoint is the closure form; this form is
// for callers that open one only when they first write.
func (db *DB) OpenSavepoint(ctx context.Context) (end func(undo bool) error, err error) {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok || st.db != db || !st.write {
		return nil, errors.New("store: OpenSavepoint outside a write transaction")
	}
	if _, err := st.tx.ExecContext(ctx, "SAVEPOINT "+savepointName); err != nil {
		return nil, db.mapErr(err)
	}
	return func(undo bool) error {
		if undo {
			if _, err := st.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+savepointName); err != nil {
				return db.mapErr(err)
			}
		}
		_, err := st.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+savepointName)
		return db.mapErr(err)
	}, nil
}
