package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/jobs"
)

// Retryable reports whether err makes InTx run its transaction again (a
// lost race, or a use case asking for it): such an error must reach InTx
// unchanged, not be handled inside the transaction.
func (db *DB) Retryable(err error) bool { return errors.Is(err, errRetry) }

// RequireTx returns an Internal error naming what when ctx holds no write
// transaction of db: for use cases that must join their caller's
// transaction (the outbox and the job queue are written with the change
// that needs them).
func (db *DB) RequireTx(ctx context.Context, what string) error {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.db == db && st.write {
		return nil
	}
	return fault.E(fault.Internal, "%s must be called in a transaction", what)
}

const jobColumns = `id, kind, job_key, org_id, payload, state, attempts, run_at, last_error, created_at, failed_at`

func scanJob(r interface{ Scan(...any) error }) (jobs.Job, error) {
	var j jobs.Job
	var org sql.NullInt64
	var payload string
	var runAt, created int64
	var failed sql.NullInt64
	if err := r.Scan(&j.ID, &j.Kind, &j.Key, &org, &payload, &j.State, &j.Attempts, &runAt, &j.LastError, &created, &failed); err != nil {
		return j, err
	}
	j.OrgID = org.Int64
	j.Payload = json.RawMessage(payload)
	j.RunAt, j.CreatedAt, j.FailedAt = fromNanos(runAt), fromNanos(created), fromNullNanos(failed)
	return j, nil
}

// InsertJob adds a job in the transaction in ctx and sets j.ID.
func (db *DB) InsertJob(ctx context.Context, j *jobs.Job) error {
	if err := db.RequireTx(ctx, "InsertJob"); err != nil {
		return err
	}
	org := sql.NullInt64{Int64: j.OrgID, Valid: j.OrgID != 0}
	return db.mapErr(db.queryRowW(ctx, `INSERT INTO jobs (kind, job_key, org_id, payload, state, attempts, run_at, created_at)
		VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING id`,
		j.Kind, j.Key, org, string(j.Payload), j.State, nanos(j.RunAt), nanos(j.CreatedAt)).Scan(&j.ID))
}

// ClaimJobs leases up to limit due jobs of a kind, oldest due first: each
// pending job due by now, or running job whose lease has ended, that is the
// oldest unfinished job of its key. On PostgreSQL several nodes claim at
// once: each skips the jobs another's claim holds locked, and the key
// condition keeps a key's later jobs waiting while its head is claimed.
func (db *DB) ClaimJobs(ctx context.Context, kind string, now time.Time, limit int, token int64, leaseUntil time.Time) ([]jobs.Job, error) {
	skipLocked := ""
	if db.locking(ctx) {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := db.query(ctx, `SELECT `+jobColumns+` FROM jobs j
		WHERE j.kind = $1 AND j.state <> 'failed' AND j.run_at <= $2
		AND (j.job_key = '' OR NOT EXISTS (SELECT 1 FROM jobs p WHERE p.kind = j.kind AND p.job_key = j.job_key
			AND p.state <> 'failed' AND p.id < j.id))
		ORDER BY j.run_at, j.id LIMIT $3`+skipLocked, kind, nanos(now), limit)
	if err != nil {
		return nil, err
	}
	var out []jobs.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return nil, db.mapErr(err)
		}
		out = append(out, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, db.mapErr(err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(out))
	for i := range out {
		ids[i] = out[i].ID
	}
	err = inChunks(ids, func(ph string, args []any) error {
		_, err := db.exec(ctx, `UPDATE jobs SET state = 'running', attempts = attempts + 1, run_at = $1, lease_token = $2
			WHERE id IN (`+ph+`)`, append([]any{nanos(leaseUntil), token}, args...)...)
		return err
	}, 3)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].State, out[i].Attempts, out[i].RunAt = jobs.StateRunning, out[i].Attempts+1, leaseUntil
	}
	return out, nil
}

func affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteJob removes a finished job while token holds it.
func (db *DB) DeleteJob(ctx context.Context, id, token int64) (bool, error) {
	return affected(db.exec(ctx, `DELETE FROM jobs WHERE id = $1 AND lease_token = $2 AND state = 'running'`, id, token))
}

// RescheduleJob makes a job pending again at runAt while token holds it.
func (db *DB) RescheduleJob(ctx context.Context, id, token int64, runAt time.Time, lastError string) (bool, error) {
	return affected(db.exec(ctx, `UPDATE jobs SET state = 'pending', run_at = $3, last_error = $4, lease_token = NULL
		WHERE id = $1 AND lease_token = $2 AND state = 'running'`, id, token, nanos(runAt), lastError))
}

// FailJob gives a job up while token holds it.
func (db *DB) FailJob(ctx context.Context, id, token int64, at time.Time, lastError string) (bool, error) {
	return affected(db.exec(ctx, `UPDATE jobs SET state = 'failed', failed_at = $3, last_error = $4, lease_token = NULL
		WHERE id = $1 AND lease_token = $2 AND state = 'running'`, id, token, nanos(at), lastError))
}

// Jobs lists a kind's jobs in one state ("": every state), oldest first.
func (db *DB) Jobs(ctx context.Context, kind, state string, limit int) ([]jobs.Job, error) {
	rows, err := db.query(ctx, `SELECT `+jobColumns+` FROM jobs WHERE kind = $1 AND ($2 = '' OR state = $2)
		ORDER BY id LIMIT $3`, kind, state, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jobs.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, db.mapErr(err)
		}
		out = append(out, j)
	}
	return out, db.mapErr(rows.Err())
}

// RetryJob makes a failed job pending again at runAt with its attempts
// reset. Errors: NotFound when no failed job has that ID.
func (db *DB) RetryJob(ctx context.Context, id int64, runAt time.Time) error {
	res, err := db.exec(ctx, `UPDATE jobs SET state = 'pending', attempts = 0, run_at = $2, failed_at = NULL
		WHERE id = $1 AND state = 'failed'`, id, nanos(runAt))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fault.NotFoundf("no failed job has ID %d", id)
	}
	return nil
}
