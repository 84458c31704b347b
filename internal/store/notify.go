package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

// The callback delivery store (package notify). Every event gets a row in
// event_deliveries from a trigger on events, in the transaction that wrote
// the event (migration 00003).

// CallbackSettings returns an organisation's callback settings, or the
// defaults when none are stored.
func (db *DB) CallbackSettings(ctx context.Context, org orgs.ID) (notify.Settings, error) {
	s := notify.DefaultSettings()
	var enc string
	var threshold int64
	var disabled sql.NullInt64
	err := db.queryRow(ctx, `SELECT signature_encoding, standard_webhooks, balance_threshold, disabled_at, disabled_url, disabled_reason
		FROM callback_settings WHERE org_id = $1`, org).Scan(&enc, &s.StandardWebhooks, &threshold, &disabled, &s.DisabledURL, &s.DisabledReason)
	if fault.Is(err, fault.NotFound) {
		return notify.DefaultSettings(), nil
	}
	if err != nil {
		return s, err
	}
	s.SignatureEncoding, s.BalanceThreshold, s.DisabledAt = notify.Encoding(enc), money.Amount(threshold), fromNullNanos(disabled)
	return s, nil
}

// PutCallbackSettings stores an organisation's callback settings.
func (db *DB) PutCallbackSettings(ctx context.Context, org orgs.ID, s notify.Settings, at time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO callback_settings (org_id, signature_encoding, standard_webhooks, balance_threshold,
		disabled_at, disabled_url, disabled_reason, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (org_id) DO UPDATE SET signature_encoding = excluded.signature_encoding,
		standard_webhooks = excluded.standard_webhooks, balance_threshold = excluded.balance_threshold,
		disabled_at = excluded.disabled_at, disabled_url = excluded.disabled_url,
		disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at`,
		org, string(s.SignatureEncoding), s.StandardWebhooks, int64(s.BalanceThreshold), nullNanos(s.DisabledAt),
		s.DisabledURL, s.DisabledReason, nanos(at))
	return err
}

const dueColumns = `d.event_id, d.attempts, d.replays, d.next_attempt_at, d.last_error, e.org_id, e.iccid, e.kind, e.payload, e.created_at`

func (db *DB) dues(ctx context.Context, query string, args ...any) ([]notify.Due, error) {
	var out []notify.Due
	err := eachRow(db, ctx, query, func(r *sql.Rows) error {
		var d notify.Due
		var payload string
		var next, at int64
		if err := r.Scan(&d.Event.ID, &d.Attempts, &d.Replays, &next, &d.LastError, &d.Event.OrgID, &d.Event.ICCID, &d.Event.Kind, &payload, &at); err != nil {
			return err
		}
		d.Event.Payload, d.Event.At, d.NextAttemptAt = json.RawMessage(payload), fromNanos(at), fromNanos(next)
		out = append(out, d)
		return nil
	}, args...)
	return out, err
}

// DueDeliveries returns pending events at the head of their stream (no
// lower pending event of the same organisation and ICCID) whose next
// attempt is due at wall, oldest due first.
//
// It looks first among the earliest due events only (dueWindow per event
// asked for): finding the heads among all pending events meant reading
// every one of them on each claim, 25–100 ms on PostgreSQL with 20,000
// pending, and the claims queued behind it. When that window holds too few
// heads (a long stream whose head waits for a retry fills it), it looks
// among all of them, as before, so no stream waits behind another.
func (db *DB) DueDeliveries(ctx context.Context, wall time.Time, org orgs.ID, exclude []orgs.ID, limit int) ([]notify.Due, error) {
	window := min(limit*dueWindow, maxDueWindow)
	var candidates []int64
	err := eachRow(db, ctx, `SELECT d.event_id FROM event_deliveries d
		WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (CAST($2 AS BIGINT) = 0 OR d.org_id = $2)
		AND NOT `+db.inJSONList("d.org_id", 3, true)+`
		ORDER BY d.next_attempt_at, d.event_id LIMIT $4`, func(r *sql.Rows) error {
		var id int64
		err := r.Scan(&id)
		candidates = append(candidates, id)
		return err
	}, nanos(wall), int64(org), jsonText(exclude), window)
	if err != nil || len(candidates) == 0 {
		return nil, err
	}
	// Among the candidates, the head test is one index probe each (the
	// lowest pending ID of the stream), which the planner cannot turn into
	// a join over every pending event as it may the NOT EXISTS form.
	dues, err := db.claimDue(ctx, wall, org, exclude, limit, `AND `+db.inJSONList("d.event_id", 5, true)+`
		AND d.event_id = (SELECT min(p.event_id) FROM event_deliveries p WHERE p.status = 'pending'
			AND p.org_id = d.org_id AND p.iccid = d.iccid)`, jsonText(candidates))
	if err != nil || len(dues) == limit || len(candidates) < window {
		return dues, err
	}
	return db.claimDue(ctx, wall, org, exclude, limit, `AND NOT EXISTS (SELECT 1 FROM event_deliveries p WHERE p.status = 'pending'
		AND p.org_id = d.org_id AND p.iccid = d.iccid AND p.event_id < d.event_id)`)
}

// dueWindow and maxDueWindow size DueDeliveries' first look: a stream's
// head and the rest of a chain sit close together in due order.
const (
	dueWindow    = 16
	maxDueWindow = 2048
)

// claimDue is DueDeliveries' query with heads, the condition that keeps
// only the heads of their streams (it may bind $5 to extra). Several nodes
// claim at once on PostgreSQL: each skips the events another has locked in
// its claiming transaction, and a stream whose head is held is blocked by
// the head condition until that lease ends.
func (db *DB) claimDue(ctx context.Context, wall time.Time, org orgs.ID, exclude []orgs.ID, limit int, heads string, extra ...any) ([]notify.Due, error) {
	skipLocked := ""
	if db.locking(ctx) {
		skipLocked = " FOR UPDATE OF d SKIP LOCKED"
	}
	args := append([]any{nanos(wall), int64(org), jsonText(exclude), limit}, extra...)
	return db.dues(ctx, `SELECT `+dueColumns+` FROM event_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (CAST($2 AS BIGINT) = 0 OR d.org_id = $2)
		AND NOT `+db.inJSONList("d.org_id", 3, true)+` `+heads+`
		ORDER BY d.next_attempt_at, d.event_id LIMIT $4`+skipLocked, args...)
}

// StreamAfter returns pending events of one stream after an event, in ID
// order.
func (db *DB) StreamAfter(ctx context.Context, org orgs.ID, iccid string, afterID int64, limit int) ([]notify.Due, error) {
	return db.dues(ctx, `SELECT `+dueColumns+` FROM event_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.status = 'pending' AND d.org_id = $1 AND d.iccid = $2 AND d.event_id > $3
		ORDER BY d.event_id LIMIT $4`, org, iccid, afterID, limit)
}

// LeaseDelivery marks an event as held by token until the given time.
func (db *DB) LeaseDelivery(ctx context.Context, eventID, token int64, until time.Time) error {
	res, err := db.exec(ctx, `UPDATE event_deliveries SET lease_token = $2, next_attempt_at = $3 WHERE event_id = $1 AND status = 'pending'`,
		eventID, token, nanos(until))
	if err != nil {
		return err
	}
	return mustAffect(res, "pending event "+itoa(eventID))
}

// SetDeliveryState records an event's new delivery state and ends its
// lease; with a non-zero token only while that token holds the event.
func (db *DB) SetDeliveryState(ctx context.Context, eventID, token int64, st notify.DeliveryState) (bool, error) {
	res, err := db.exec(ctx, `UPDATE event_deliveries SET status = $3, attempts = $4, next_attempt_at = $5,
		last_attempt_at = COALESCE($6, last_attempt_at), delivered_at = COALESCE($7, delivered_at), last_error = $8,
		lease_token = NULL WHERE event_id = $1 AND (CAST($2 AS BIGINT) = 0 OR lease_token = $2)`,
		eventID, token, st.Status, st.Attempts, nanos(st.NextAttemptAt), nullNanos(st.LastAttemptAt), nullNanos(st.DeliveredAt), st.LastError)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// AddAttempt writes one line of the delivery log and sets a.ID. It writes
// nothing (a.ID stays 0) when the event was deleted meanwhile (a sandbox
// reset deletes an organisation's events and their log).
func (db *DB) AddAttempt(ctx context.Context, a *notify.Attempt) error {
	var event sql.NullInt64
	if a.EventID != 0 {
		event = sql.NullInt64{Int64: a.EventID, Valid: true}
	}
	err := db.queryRowW(ctx, `INSERT INTO delivery_attempts (org_id, event_id, kind, attempt, replay, test, url, at, status_code,
		latency_ns, response, error, outcome, next_attempt_at, signature)
		SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS TEXT), CAST($4 AS BIGINT), CAST($5 AS BIGINT),
			CAST($6 AS BOOLEAN), CAST($7 AS TEXT), CAST($8 AS BIGINT), CAST($9 AS BIGINT), CAST($10 AS BIGINT),
			CAST($11 AS TEXT), CAST($12 AS TEXT), CAST($13 AS TEXT), CAST($14 AS BIGINT), CAST($15 AS TEXT)
		WHERE $2 IS NULL OR EXISTS (SELECT 1 FROM events WHERE id = $2) RETURNING id`,
		a.OrgID, event, a.Kind, a.Attempt, a.Replay, a.Test, a.URL, nanos(a.At), a.StatusCode, int64(a.Latency),
		a.Response, a.Error, a.Outcome, nullNanos(a.NextAttemptAt), a.Signature).Scan(&a.ID)
	if fault.Is(err, fault.NotFound) {
		return nil
	}
	return err
}

// Attempts returns an organisation's delivery log, newest first.
func (db *DB) Attempts(ctx context.Context, org orgs.ID, q notify.AttemptQuery) ([]notify.Attempt, error) {
	out := []notify.Attempt{}
	err := eachRow(db, ctx, `SELECT id, org_id, COALESCE(event_id, 0), kind, attempt, replay, test, url, at, status_code,
		latency_ns, response, error, outcome, next_attempt_at, signature FROM delivery_attempts
		WHERE org_id = $1 AND (CAST($2 AS BIGINT) = 0 OR event_id = $2) AND (CAST($3 AS BIGINT) = 0 OR id < $3) ORDER BY id DESC LIMIT $4`,
		func(r *sql.Rows) error {
			var a notify.Attempt
			var at, latency int64
			var next sql.NullInt64
			if err := r.Scan(&a.ID, &a.OrgID, &a.EventID, &a.Kind, &a.Attempt, &a.Replay, &a.Test, &a.URL, &at, &a.StatusCode,
				&latency, &a.Response, &a.Error, &a.Outcome, &next, &a.Signature); err != nil {
				return err
			}
			a.At, a.Latency, a.NextAttemptAt = fromNanos(at), time.Duration(latency), fromNullNanos(next)
			out = append(out, a)
			return nil
		}, org, q.EventID, q.BeforeID, q.Limit)
	return out, err
}

const eventStateColumns = `e.id, e.org_id, e.iccid, e.kind, e.payload, e.created_at, d.status, d.attempts,
	d.next_attempt_at, d.last_attempt_at, d.delivered_at, d.last_error, d.replays`

func scanEventState(sc interface{ Scan(...any) error }) (notify.EventState, error) {
	var e notify.EventState
	var payload string
	var at, next int64
	var last, delivered sql.NullInt64
	err := sc.Scan(&e.ID, &e.OrgID, &e.ICCID, &e.Kind, &payload, &at, &e.Status, &e.Attempts, &next, &last, &delivered, &e.LastError, &e.Replays)
	e.Payload, e.At, e.NextAttemptAt = json.RawMessage(payload), fromNanos(at), fromNanos(next)
	e.LastAttemptAt, e.DeliveredAt = fromNullNanos(last), fromNullNanos(delivered)
	return e, err
}

// EventStates returns an organisation's events with their delivery state,
// oldest first.
func (db *DB) EventStates(ctx context.Context, org orgs.ID, q notify.EventQuery) ([]notify.EventState, error) {
	out := []notify.EventState{}
	err := eachRow(db, ctx, `SELECT `+eventStateColumns+` FROM events e JOIN event_deliveries d ON d.event_id = e.id
		WHERE e.org_id = $1 AND e.id > $2 AND ($3 = '' OR d.status = $3) ORDER BY e.id LIMIT $4`,
		func(r *sql.Rows) error {
			e, err := scanEventState(r)
			out = append(out, e)
			return err
		}, org, q.AfterID, q.Status, q.Limit)
	return out, err
}

// EventState returns one event of an organisation. Errors: NotFound.
func (db *DB) EventState(ctx context.Context, org orgs.ID, eventID int64) (notify.EventState, error) {
	e, err := scanEventState(db.queryRow(ctx, `SELECT `+eventStateColumns+` FROM events e
		JOIN event_deliveries d ON d.event_id = e.id WHERE e.org_id = $1 AND e.id = $2`, org, eventID))
	return e, db.mapErr(err)
}

// Requeue makes events pending again with a fresh attempt count: one
// event, or those dated in [from, to) with one of the statuses.
func (db *DB) Requeue(ctx context.Context, org orgs.ID, eventID int64, from, to time.Time, statuses []string, at time.Time) (int, error) {
	const set = `UPDATE event_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, lease_token = NULL,
		last_error = '', replays = replays + 1 WHERE org_id = $1 AND `
	if eventID != 0 {
		res, err := db.exec(ctx, set+`event_id = $3`, org, nanos(at), eventID)
		if err != nil {
			return 0, err
		}
		if err := mustAffect(res, "event "+itoa(eventID)); err != nil {
			return 0, err
		}
		return 1, nil
	}
	res, err := db.exec(ctx, set+`event_id IN (SELECT id FROM events WHERE org_id = $1 AND created_at >= $3 AND created_at < $4)
		AND ($5 = '[]' OR `+db.inJSONList("status", 5, false)+`)`, org, nanos(at), nanos(from), nanos(to), jsonText(statuses))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// APIKeyID finds an unrevoked API key of an organisation by its hash.
// Errors: NotFound.
func (db *DB) APIKeyID(ctx context.Context, org orgs.ID, hash string) (int64, error) {
	var id int64
	err := db.queryRow(ctx, `SELECT id FROM api_keys WHERE org_id = $1 AND hash = $2 AND revoked_at IS NULL`, org, hash).Scan(&id)
	return id, err
}

// PutSigningKey stores (or replaces) the sealed copy of an API key.
func (db *DB) PutSigningKey(ctx context.Context, org orgs.ID, apiKeyID int64, sealed []byte, at time.Time) error {
	_, err := db.exec(ctx, `INSERT INTO signing_keys (api_key_id, org_id, sealed, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (api_key_id) DO UPDATE SET sealed = excluded.sealed, created_at = excluded.created_at`,
		apiKeyID, org, sealed, nanos(at))
	return err
}

// SigningKey returns the newest unrevoked API key of an organisation that
// has a sealed copy. Errors: NotFound.
func (db *DB) SigningKey(ctx context.Context, org orgs.ID) (notify.SigningKey, error) {
	var k notify.SigningKey
	err := db.queryRow(ctx, `SELECT k.id, k.hint, s.sealed FROM signing_keys s JOIN api_keys k ON k.id = s.api_key_id
		WHERE s.org_id = $1 AND k.revoked_at IS NULL ORDER BY k.id DESC LIMIT 1`, org).Scan(&k.APIKeyID, &k.Hint, &k.Sealed)
	return k, err
}

var _ notify.Store = (*DB)(nil)

// LeaseDeliveries marks pending events as held by token until the given
// time, in one statement per 64 events. Errors: NotFound unless every one
// of them was pending.
func (db *DB) LeaseDeliveries(ctx context.Context, eventIDs []int64, token int64, until time.Time) error {
	for len(eventIDs) > 0 {
		n := rowsPerStatement(len(eventIDs), 64)
		ph, _ := inList(3, n)
		args := []any{token, nanos(until)}
		for _, id := range eventIDs[:n] {
			args = append(args, id)
		}
		res, err := db.exec(ctx, `UPDATE event_deliveries SET lease_token = $1, next_attempt_at = $2
			WHERE status = 'pending' AND event_id IN (`+ph+`)`, args...)
		if err != nil {
			return err
		}
		got, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if got != int64(n) {
			return fault.NotFoundf("%d of %d events to lease were not pending", int64(n)-got, n)
		}
		eventIDs = eventIDs[n:]
	}
	return nil
}

var (
	attemptTypes = []string{"BIGINT", "BIGINT", "TEXT", "BIGINT", "BIGINT", "BOOLEAN", "TEXT", "BIGINT", "BIGINT", "BIGINT",
		"TEXT", "TEXT", "TEXT", "BIGINT", "TEXT"}
	stateTypes = []string{"BIGINT", "BIGINT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "TEXT"}
)

// RecordOutcomes writes what a round of deliveries did: the attempts in the
// delivery log (an attempt whose event was deleted meanwhile is left out,
// as AddAttempt does) and each event's new state, ending its lease where
// the outcome's token still holds it; a few statements for the round. The
// attempts' IDs are not set.
func (db *DB) RecordOutcomes(ctx context.Context, outs []notify.Outcome) error {
	var atts []*notify.Attempt
	for i := range outs {
		if outs[i].Attempt != nil {
			atts = append(atts, outs[i].Attempt)
		}
	}
	for len(atts) > 0 {
		n := rowsPerStatement(len(atts), 32)
		args := make([]any, 0, n*len(attemptTypes))
		for _, a := range atts[:n] {
			var event sql.NullInt64
			if a.EventID != 0 {
				event = sql.NullInt64{Int64: a.EventID, Valid: true}
			}
			args = append(args, a.OrgID, event, a.Kind, a.Attempt, a.Replay, a.Test, a.URL, nanos(a.At), a.StatusCode,
				int64(a.Latency), a.Response, a.Error, a.Outcome, nullNanos(a.NextAttemptAt), a.Signature)
		}
		if _, err := db.exec(ctx, `INSERT INTO delivery_attempts (org_id, event_id, kind, attempt, replay, test, url, at,
			status_code, latency_ns, response, error, outcome, next_attempt_at, signature)
			SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8, v.column9,
				v.column10, v.column11, v.column12, v.column13, v.column14, v.column15
			FROM (VALUES `+valuesRows(n, attemptTypes)+`) AS v
			WHERE v.column2 IS NULL OR EXISTS (SELECT 1 FROM events WHERE id = v.column2)`, args...); err != nil {
			return err
		}
		atts = atts[n:]
	}
	for len(outs) > 0 {
		n := rowsPerStatement(len(outs), 64)
		args := make([]any, 0, n*len(stateTypes))
		for _, o := range outs[:n] {
			st := o.State
			args = append(args, o.EventID, o.Token, st.Status, st.Attempts, nanos(st.NextAttemptAt), nullNanos(st.LastAttemptAt),
				nullNanos(st.DeliveredAt), st.LastError)
		}
		if _, err := db.exec(ctx, `UPDATE event_deliveries SET status = v.column3, attempts = v.column4,
			next_attempt_at = v.column5, last_attempt_at = COALESCE(v.column6, event_deliveries.last_attempt_at),
			delivered_at = COALESCE(v.column7, event_deliveries.delivered_at), last_error = v.column8, lease_token = NULL
			FROM (VALUES `+valuesRows(n, stateTypes)+`) AS v
			WHERE event_deliveries.event_id = v.column1 AND (v.column2 = 0 OR event_deliveries.lease_token = v.column2)`, args...); err != nil {
			return err
		}
		outs = outs[n:]
	}
	return nil
}
