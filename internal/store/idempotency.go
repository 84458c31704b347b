package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/esimd/esimd/internal/idempotency"
	"github.com/esimd/esimd/internal/orgs"
)

// InRequestTx runs fn in one write transaction in which every InTx that fn
// reaches runs in a savepoint of its own: each use case of the request is
// still all or nothing, and the request's writes (its use cases, its
// Idempotency-Key and stored answer) commit together or not at all.
func (db *DB) InRequestTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		st := ctx.Value(txKey{}).(*txState)
		was := st.savepoints
		st.savepoints = true
		defer func() { st.savepoints = was }()
		return fn(ctx)
	})
}

// IdempotencyKey returns the record of a key unexpired at now.
func (db *DB) IdempotencyKey(ctx context.Context, org orgs.ID, key string, now time.Time) (idempotency.Record, error) {
	var rec idempotency.Record
	var header string
	var lease int64
	err := db.queryRow(ctx, `SELECT request_hash, holder, status, lease_until, header, body FROM idempotency_keys
		WHERE org_id = $1 AND key = $2 AND expires_at > $3`, org, key, nanos(now)).
		Scan(&rec.RequestHash, &rec.Holder, &rec.Status, &lease, &header, &rec.Body)
	if err != nil {
		return rec, err
	}
	rec.LeaseUntil = time.Unix(0, lease).UTC()
	if err := json.Unmarshal([]byte(header), &rec.Header); err != nil {
		return rec, fmt.Errorf("idempotency key %q: stored header: %w", key, err)
	}
	return rec, nil
}

// ClaimIdempotencyKey inserts a claim for the key, replacing a record that
// expired or a claim that lapsed without an answer. Errors: ErrHeld.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, org orgs.ID, key, hash, holder string, now, leaseUntil, expires time.Time) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if _, err := db.exec(ctx, `DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2
			AND (expires_at <= $3 OR (status = 0 AND lease_until <= $3))`, org, key, nanos(now)); err != nil {
			return err
		}
		_, err := db.exec(ctx, `INSERT INTO idempotency_keys (org_id, key, request_hash, holder, lease_until, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, org, key, hash, holder, nanos(leaseUntil), nanos(now), nanos(expires))
		if errors.Is(err, errUnique) {
			return idempotency.ErrHeld
		}
		return err
	})
}

// RenewIdempotencyLease extends holder's unanswered claim.
func (db *DB) RenewIdempotencyLease(ctx context.Context, org orgs.ID, key, holder string, leaseUntil time.Time) error {
	return db.heldBy(db.exec(ctx, `UPDATE idempotency_keys SET lease_until = $4 WHERE org_id = $1 AND key = $2 AND holder = $3 AND status = 0`,
		org, key, holder, nanos(leaseUntil)))
}

// FinishIdempotencyKey stores the answer of holder's request.
func (db *DB) FinishIdempotencyKey(ctx context.Context, org orgs.ID, key, holder string, a idempotency.Answer) error {
	h, err := json.Marshal(a.Header)
	if err != nil {
		return err
	}
	return db.heldBy(db.exec(ctx, `UPDATE idempotency_keys SET status = $4, header = $5, body = $6 WHERE org_id = $1 AND key = $2 AND holder = $3 AND status = 0`,
		org, key, holder, a.Status, string(h), a.Body))
}

// ReleaseIdempotencyKey forgets holder's unanswered claim.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, org orgs.ID, key, holder string) error {
	_, err := db.exec(ctx, `DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2 AND holder = $3 AND status = 0`, org, key, holder)
	return err
}

// heldBy turns an UPDATE of a claim that matched no row into ErrHeld.
func (db *DB) heldBy(res interface{ RowsAffected() (int64, error) }, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.mapErr(err)
	}
	if n == 0 {
		return idempotency.ErrHeld
	}
	return nil
}

var _ idempotency.Store = (*DB)(nil)
