package store

import (
	"context"
	"fmt"
	"time"

	"github.com/esimd/esimd/esimid"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/orgs"
)

// SeedSize says how much SeedESIMs writes.
type SeedSize struct {
	ESIMs          int // eSIMs
	AssignmentsPer int // queued assignments of the bundle on each
	HistoryPer     int // history rows on each
}

// SeedESIMs bulk-writes sandbox eSIMs for scale measurements (esimd-bench
// --scale): ICCIDs from serial firstSerial on, each with queued assignments
// and history rows, under one seed order, in transactions of 5,000 eSIMs.
// It bypasses the use cases on purpose — it writes rows, not business
// events — and is not for serving organisations.
func (db *DB) SeedESIMs(ctx context.Context, org orgs.ID, b catalogue.Bundle, firstSerial int64, size SeedSize, at time.Time) error {
	var orderID int64
	if err := db.queryRowW(ctx, `INSERT INTO orders (org_id, reference, kind, status, status_message, assigned, total, currency,
		running_balance, created_at, completed_at) VALUES ($1, $2, 'order', 'completed', 'Seeded', TRUE, 0, 'USD', 0, $3, $3) RETURNING id`,
		org, fmt.Sprintf("00000000-0000-4000-8000-%012d", firstSerial), nanos(at)).Scan(&orderID); err != nil {
		return err
	}
	const chunk = 5000
	for start := 0; start < size.ESIMs; start += chunk {
		err := db.InTx(ctx, func(ctx context.Context) error {
			for i := start; i < min(start+chunk, size.ESIMs); i++ {
				iccid, err := esimid.NewICCID(fmt.Sprintf("8999901%011d", firstSerial+int64(i)))
				if err != nil {
					return err
				}
				var id int64
				if err := db.queryRowW(ctx, `INSERT INTO esims (org_id, iccid, matching_id, smdp_address, pin, puk, profile,
					profile_status, state, last_action, last_action_at, assigned_at, last_activity_at)
					VALUES ($1, $2, $3, 'smdp.sandbox.esimd.invalid', '1234', '12345678', $4, 'Released', 'active', 'Bundle Applied', $5, $5, $5)
					RETURNING id`, org, iccid.String(), fmt.Sprintf("SEED-%012d", i), b.Profile, nanos(at)).Scan(&id); err != nil {
					return err
				}
				for k := range size.AssignmentsPer {
					if _, err := db.exec(ctx, `INSERT INTO assignments (org_id, esim_id, order_id, reference, bundle_name, description,
						profile, state, unlimited, initial_bytes, remaining_bytes, duration_days, autostart, price, assigned_at, lapses_at)
						VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $9, $9, $10, $11, $12, $13, $14)`,
						org, id, orderID, fmt.Sprintf("seed-%d-%d", firstSerial+int64(i), k), b.Name, b.Description, b.Profile,
						b.Unlimited, b.DataBytes, b.DurationDays, b.Autostart, b.Price, nanos(at), nanos(esims.LapsesAt(at))); err != nil {
						return err
					}
				}
				for k := range size.HistoryPer {
					if _, err := db.exec(ctx, `INSERT INTO esim_history (esim_id, name, bundle_name, alert_type, at) VALUES ($1, 'Bundle Applied', $2, '', $3)`,
						id, b.Name, nanos(at.Add(time.Duration(k)*time.Second))); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Size is the database's size on disk in bytes: on SQLite the file's pages,
// on PostgreSQL the current schema's tables and indexes.
func (db *DB) Size(ctx context.Context) (int64, error) {
	if db.engine == EnginePostgres {
		var size int64
		// The schema's tables with their indexes and TOAST, not the whole
		// database: several esimd deployments may share one.
		err := db.queryRow(ctx, `SELECT CAST(coalesce(sum(pg_total_relation_size(c.oid)), 0) AS BIGINT) FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')`).Scan(&size)
		return size, err
	}
	var pages, pageSize int64
	if err := db.queryRow(ctx, `SELECT page_count FROM pragma_page_count()`).Scan(&pages); err != nil {
		return 0, err
	}
	if err := db.queryRow(ctx, `SELECT page_size FROM pragma_page_size()`).Scan(&pageSize); err != nil {
		return 0, err
	}
	return pages * pageSize, nil
}
