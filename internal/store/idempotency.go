package store

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/idempotency"
	"github.com/esimd/esimd/internal/orgs"
)

// ClaimIdempotencyKey inserts an in-progress record for the key, replacing
// an expired one, or returns the unexpired record that holds the key.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, org orgs.ID, key, hash string, now, expires time.Time) (*idempotency.Record, error) {
	var out *idempotency.Record
	err := db.InTx(ctx, func(ctx context.Context) error {
		var rec idempotency.Record
		var header string
		var exp int64
		err := db.queryRow(ctx, `SELECT request_hash, status, header, body, expires_at FROM idempotency_keys WHERE org_id = $1 AND key = $2`,
			org, key).Scan(&rec.RequestHash, &rec.Status, &header, &rec.Body, &exp)
		switch {
		case err == nil && exp > nanos(now):
			if err := json.Unmarshal([]byte(header), &rec.Header); err != nil {
				return err
			}
			out = &rec
			return nil
		case err == nil:
			if _, err := db.exec(ctx, `DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2`, org, key); err != nil {
				return err
			}
		case !fault.Is(err, fault.NotFound):
			return err
		}
		_, err = db.exec(ctx, `INSERT INTO idempotency_keys (org_id, key, request_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			org, key, hash, nanos(now), nanos(expires))
		return err
	})
	if errors.Is(err, errUnique) {
		return nil, fault.Conflictf("a request with Idempotency-Key %q is still being processed; retry in a moment to get its answer", key)
	}
	return out, err
}

// FinishIdempotencyKey stores the answer of the request holding the key.
func (db *DB) FinishIdempotencyKey(ctx context.Context, org orgs.ID, key string, status int, header http.Header, body []byte) error {
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	_, err = db.exec(ctx, `UPDATE idempotency_keys SET status = $3, header = $4, body = $5 WHERE org_id = $1 AND key = $2`,
		org, key, status, string(h), body)
	return err
}

// ReleaseIdempotencyKey forgets a key.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, org orgs.ID, key string) error {
	_, err := db.exec(ctx, `DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2`, org, key)
	return err
}

var _ idempotency.Store = (*DB)(nil)
