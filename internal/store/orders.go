package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
)

// InsertOrder stores an order with its lines and sets the IDs.
func (db *DB) InsertOrder(ctx context.Context, o *orders.Order) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if err := db.queryRowW(ctx, `INSERT INTO orders (org_id, reference, kind, status, status_message, assigned, total,
			currency, source_ip, running_balance, profile_id, created_at, completed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			o.OrgID, o.Reference, o.Kind, o.Status, o.StatusMessage, o.Assigned, o.Total, o.Currency, o.SourceIP,
			o.RunningBalance, o.ProfileID, nanos(o.CreatedAt), nullNanos(o.CompletedAt)).Scan(&o.ID); err != nil {
			return err
		}
		for i := range o.Lines {
			l := &o.Lines[i]
			if err := db.queryRowW(ctx, `INSERT INTO order_lines (order_id, line_no, type, item, quantity, price_per_unit,
				sub_total, allow_reassign, requested) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
				o.ID, l.No, l.Type, l.Item, l.Quantity, l.PricePerUnit, l.SubTotal, l.AllowReassign, jsonText(nonNil(l.Requested))).Scan(&l.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateOrder writes an order's status and running balance.
func (db *DB) UpdateOrder(ctx context.Context, o *orders.Order) error {
	res, err := db.exec(ctx, `UPDATE orders SET status = $2, status_message = $3, completed_at = $4, running_balance = $5 WHERE id = $1`,
		o.ID, o.Status, o.StatusMessage, nullNanos(o.CompletedAt), o.RunningBalance)
	if err != nil {
		return err
	}
	return mustAffect(res, "order "+o.Reference)
}

const orderColumns = `id, org_id, reference, kind, status, status_message, assigned, total, currency, source_ip,
	running_balance, profile_id, created_at, completed_at`

func scanOrder(sc interface{ Scan(...any) error }) (orders.Order, error) {
	var o orders.Order
	var created int64
	var completed sql.NullInt64
	err := sc.Scan(&o.ID, &o.OrgID, &o.Reference, &o.Kind, &o.Status, &o.StatusMessage, &o.Assigned, &o.Total,
		&o.Currency, &o.SourceIP, &o.RunningBalance, &o.ProfileID, &created, &completed)
	o.CreatedAt, o.CompletedAt = fromNanos(created), fromNullNanos(completed)
	return o, err
}

func (db *DB) orderLines(ctx context.Context, os []orders.Order) error {
	for i := range os {
		o := &os[i]
		o.Lines = nil
		err := eachRow(db, ctx, `SELECT id, line_no, type, item, quantity, price_per_unit, sub_total, allow_reassign, requested
			FROM order_lines WHERE order_id = $1 ORDER BY line_no`, func(r *sql.Rows) error {
			var l orders.Line
			var requested string
			if err := r.Scan(&l.ID, &l.No, &l.Type, &l.Item, &l.Quantity, &l.PricePerUnit, &l.SubTotal, &l.AllowReassign, &requested); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(requested), &l.Requested); err != nil {
				return err
			}
			o.Lines = append(o.Lines, l)
			return nil
		}, o.ID)
		if err != nil {
			return err
		}
	}
	return nil
}

// OrderByReference returns an organisation's order with its lines.
// Errors: NotFound (also for another organisation's).
func (db *DB) OrderByReference(ctx context.Context, org orgs.ID, ref string) (orders.Order, error) {
	o, err := scanOrder(db.queryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE reference = $1 AND org_id = $2`, strings.ToLower(ref), org))
	if err != nil {
		return o, err
	}
	os := []orders.Order{o}
	err = db.orderLines(ctx, os)
	return os[0], err
}

// OrderByID returns an order with its lines. Errors: NotFound.
func (db *DB) OrderByID(ctx context.Context, id int64) (orders.Order, error) {
	o, err := scanOrder(db.queryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, id))
	if err != nil {
		return o, err
	}
	os := []orders.Order{o}
	err = db.orderLines(ctx, os)
	return os[0], err
}

// ListOrders returns a page of an organisation's orders, newest first, with
// their lines, and the number that match.
func (db *DB) ListOrders(ctx context.Context, org orgs.ID, q orders.Query) ([]orders.Order, int, error) {
	where := `org_id = $1`
	args := []any{org}
	for _, f := range q.CreatedAt {
		op := map[string]string{"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[f.Op]
		if op == "" {
			return nil, 0, fault.Invalidf("createdAt operator %q is not one of eq, lt, lte, gt, gte", f.Op)
		}
		args = append(args, nanos(f.At))
		where += ` AND created_at ` + op + ` $` + itoa(int64(len(args)))
	}
	var total int
	if err := db.queryRow(ctx, `SELECT count(*) FROM orders WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	n := len(args)
	args = append(args, q.Limit, (q.Page-1)*q.Limit)
	var out []orders.Order
	err := eachRow(db, ctx, `SELECT `+orderColumns+` FROM orders WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT $`+
		itoa(int64(n+1))+` OFFSET $`+itoa(int64(n+2)), func(r *sql.Rows) error {
		o, err := scanOrder(r)
		out = append(out, o)
		return err
	}, args...)
	if err != nil {
		return nil, 0, err
	}
	return out, total, db.orderLines(ctx, out)
}

// InsertBatch stores an inventory batch and sets b.ID.
func (db *DB) InsertBatch(ctx context.Context, b *orders.Batch) error {
	return db.queryRowW(ctx, `INSERT INTO inventory_batches (org_id, bundle_name, order_id, total, remaining, price,
		purchased_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, b.OrgID, b.BundleName, b.OrderID,
		b.Total, b.Remaining, b.Price, nanos(b.PurchasedAt), nanos(b.ExpiresAt)).Scan(&b.ID)
}

const batchColumns = `id, org_id, bundle_name, order_id, total, remaining, price, purchased_at, expires_at`

func scanBatch(sc interface{ Scan(...any) error }) (orders.Batch, error) {
	var b orders.Batch
	var purchased, expires int64
	err := sc.Scan(&b.ID, &b.OrgID, &b.BundleName, &b.OrderID, &b.Total, &b.Remaining, &b.Price, &purchased, &expires)
	b.PurchasedAt, b.ExpiresAt = fromNanos(purchased), fromNanos(expires)
	return b, err
}

// Batch returns one batch. Errors: NotFound.
func (db *DB) Batch(ctx context.Context, id int64) (orders.Batch, error) {
	return scanBatch(db.queryRow(ctx, `SELECT `+batchColumns+` FROM inventory_batches WHERE id = $1`+db.forUpdate(ctx), id))
}

// Batches lists batches with units left that have not expired at now,
// oldest first. It locks nothing: AdjustBatch's conditional update is what
// keeps a unit from being drawn twice.
func (db *DB) Batches(ctx context.Context, org orgs.ID, bundle string, now time.Time) ([]orders.Batch, error) {
	var out []orders.Batch
	err := eachRow(db, ctx, `SELECT `+batchColumns+` FROM inventory_batches
		WHERE org_id = $1 AND ($2 = '' OR bundle_name = $2) AND remaining > 0 AND expires_at > $3
		ORDER BY purchased_at, id`, func(r *sql.Rows) error {
		b, err := scanBatch(r)
		out = append(out, b)
		return err
	}, org, bundle, nanos(now))
	return out, err
}

// AdjustBatch adds delta to a batch's remaining units within 0…total.
// Errors: Invalid when that would leave the range.
func (db *DB) AdjustBatch(ctx context.Context, id int64, delta int) error {
	res, err := db.exec(ctx, `UPDATE inventory_batches SET remaining = remaining + $2
		WHERE id = $1 AND remaining + $2 >= 0 AND remaining + $2 <= total`, id, delta)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if delta < 0 && db.locking(ctx) {
			// On PostgreSQL the caller planned from figures another node
			// may have drawn on since: run its transaction again.
			return fmt.Errorf("%w: inventory batch %d was drawn on meanwhile", errRetry, id)
		}
		return fault.Invalidf("inventory batch %d cannot change by %d units", id, delta)
	}
	return nil
}

// TopupsSince sums an organisation's API top-ups (top-up orders, not
// operator credits) since a time.
func (db *DB) TopupsSince(ctx context.Context, org orgs.ID, since time.Time) (money.Amount, error) {
	var sum sql.NullInt64
	err := db.queryRow(ctx, `SELECT CAST(sum(total) AS BIGINT) FROM orders WHERE org_id = $1 AND kind = 'topup' AND created_at >= $2`,
		org, nanos(since)).Scan(&sum)
	return money.Amount(sum.Int64), err
}

var _ orders.Store = (*DB)(nil)
