package store

import (
	"context"
	"database/sql"
	"time"
)

// QueueStat is the backlog of one kind of background work: items due now
// and how long the oldest of them has waited.
type QueueStat struct {
	Kind   string
	Due    int64
	Oldest time.Duration // 0 when nothing is due
	Failed int64         // given up, for the general queue's kinds
}

// QueueStats reports the backlog of callback deliveries, of each kind of
// due work and of each kind of the general job queue ("job:" and its
// kind), as of now (wall clock). Only live organisations' due work
// counts: a sandbox organisation's work runs on its own clock, when the
// clock is advanced, so its items are no backlog. Both queries walk the
// index on the due time from its start and stop at now, so they cost what
// is overdue, not what is scheduled.
func (db *DB) QueueStats(ctx context.Context, now time.Time) ([]QueueStat, error) {
	n := nanos(now)
	var out []QueueStat
	var callbacks QueueStat
	var oldest sql.NullInt64
	callbacks.Kind = "callback"
	// A delivery never attempted has next_attempt_at 0: it has waited
	// since its event was written.
	if err := db.queryRow(ctx, `SELECT COUNT(*), MIN(CASE WHEN d.next_attempt_at > 0 THEN d.next_attempt_at ELSE e.created_at END)
		FROM event_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.status = 'pending' AND d.next_attempt_at <= $1`, n).Scan(&callbacks.Due, &oldest); err != nil {
		return nil, err
	}
	if oldest.Valid {
		callbacks.Oldest = max(0, time.Duration(n-oldest.Int64))
	}
	out = append(out, callbacks)
	rows, err := db.query(ctx, `SELECT d.kind, COUNT(*), MIN(d.due_at) FROM due_work d
		JOIN organisations o ON o.id = d.org_id
		WHERE d.due_at <= $1 AND o.sandbox = FALSE GROUP BY d.kind ORDER BY d.kind`, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var q QueueStat
		var min int64
		if err := rows.Scan(&q.Kind, &q.Due, &min); err != nil {
			return nil, db.mapErr(err)
		}
		q.Oldest = max(0, time.Duration(n-min))
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, db.mapErr(err)
	}
	rows.Close()
	// The general queue: jobs due (or whose lease ended) by kind, and the
	// failed ones waiting for an operator.
	qrows, err := db.query(ctx, `SELECT kind, SUM(CASE WHEN state <> 'failed' AND run_at <= $1 THEN 1 ELSE 0 END),
		MIN(CASE WHEN state <> 'failed' AND run_at <= $1 THEN run_at END), SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END)
		FROM jobs GROUP BY kind ORDER BY kind`, n)
	if err != nil {
		return nil, err
	}
	defer qrows.Close()
	for qrows.Next() {
		q := QueueStat{}
		var min sql.NullInt64
		if err := qrows.Scan(&q.Kind, &q.Due, &min, &q.Failed); err != nil {
			return nil, db.mapErr(err)
		}
		if min.Valid {
			q.Oldest = max(0, time.Duration(n-min.Int64))
		}
		q.Kind = "job:" + q.Kind
		out = append(out, q)
	}
	return out, db.mapErr(qrows.Err())
}

// PoolStats are the connection pools' statistics by name: SQLite's writer
// and readers; PostgreSQL's main pool and its side pool.
func (db *DB) PoolStats() map[string]sql.DBStats {
	if db.engine == EnginePostgres {
		return map[string]sql.DBStats{"main": db.write.Stats(), "side": db.side.Stats()}
	}
	out := map[string]sql.DBStats{"write": db.write.Stats(), "read": db.read.Stats()}
	if db.side != nil {
		out["side"] = db.side.Stats()
	}
	return out
}
