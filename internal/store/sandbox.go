package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/esimd/esimd/internal/orgs"
)

// ResetOrganisation deletes everything an organisation did and leaves one
// ledger credit of its starting balance (the sum of its credit entries),
// with the clock back on the wall clock, in one transaction.
func (db *DB) ResetOrganisation(ctx context.Context, org orgs.ID, at time.Time) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		var start sql.NullInt64
		if err := db.queryRow(ctx, `SELECT CAST(sum(amount) AS BIGINT) FROM ledger_entries WHERE org_id = $1 AND kind = 'credit'`, org).Scan(&start); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM assignments WHERE org_id = $1`,
			`DELETE FROM esims WHERE org_id = $1`,
			`DELETE FROM inventory_batches WHERE org_id = $1`,
			`DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE org_id = $1)`,
			`DELETE FROM orders WHERE org_id = $1`,
			`DELETE FROM events WHERE org_id = $1`,
			`DELETE FROM due_work WHERE org_id = $1`,
			`DELETE FROM sandbox_settings WHERE org_id = $1`,
			`DELETE FROM idempotency_keys WHERE org_id = $1`,
			`DELETE FROM ledger_entries WHERE org_id = $1`,
			`UPDATE organisations SET balance = 0, clock_offset_ns = 0 WHERE id = $1`,
		} {
			if _, err := db.exec(ctx, q, org); err != nil {
				return err
			}
		}
		if start.Int64 <= 0 {
			return nil
		}
		if _, err := db.exec(ctx, `UPDATE organisations SET balance = $2 WHERE id = $1`, org, start.Int64); err != nil {
			return err
		}
		_, err := db.exec(ctx, `INSERT INTO ledger_entries (org_id, kind, amount, balance_after, reference, description, created_at)
			VALUES ($1, 'credit', $2, $2, '', 'Starting balance (sandbox reset)', $3)`, org, start.Int64, nanos(at))
		return err
	})
}

// ProvisioningDelay returns how long the built-in SM-DP+ takes to
// provision an organisation's assignments: zero unless set.
func (db *DB) ProvisioningDelay(ctx context.Context, org orgs.ID) (time.Duration, error) {
	var ns int64
	err := db.queryRow(ctx, `SELECT provisioning_delay_ns FROM sandbox_settings WHERE org_id = $1`, org).Scan(&ns)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return time.Duration(ns), db.mapErr(err)
}

// SetProvisioningDelay stores an organisation's provisioning delay (the
// schema bounds it to 0–10 minutes).
func (db *DB) SetProvisioningDelay(ctx context.Context, org orgs.ID, d time.Duration) error {
	_, err := db.exec(ctx, `INSERT INTO sandbox_settings (org_id, provisioning_delay_ns) VALUES ($1, $2)
		ON CONFLICT (org_id) DO UPDATE SET provisioning_delay_ns = excluded.provisioning_delay_ns`, org, int64(d))
	return db.mapErr(err)
}
