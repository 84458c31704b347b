package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// NextCounter reserves n consecutive values of a named counter and returns
// the first. The counter row is created on first use.
//
// On PostgreSQL the reservation commits at once, outside any transaction
// in ctx, as a sequence would: the counter row is then locked for one
// statement instead of until the caller's transaction ends, which would
// queue every order of every node behind it. A transaction that rolls
// back leaves its values unused (a gap in ICCIDs, never a duplicate). On
// SQLite the single writer makes holding the row free, and the
// reservation joins the caller's transaction.
func (db *DB) NextCounter(ctx context.Context, name string, n int64) (int64, error) {
	var last int64
	if db.engine == EnginePostgres {
		err := db.side.QueryRowContext(ctx, `INSERT INTO counters (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value`, name, n).Scan(&last)
		return last - n + 1, db.mapErr(err)
	}
	err := db.InTx(ctx, func(ctx context.Context) error {
		return db.queryRowW(ctx, `INSERT INTO counters (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value`, name, n).Scan(&last)
	})
	return last - n + 1, db.mapErr(err)
}

// ClaimPoolProfiles takes up to n profiles of a network profile out of the
// pool, oldest ICCID first.
func (db *DB) ClaimPoolProfiles(ctx context.Context, profile string, n int) ([]esims.PoolProfile, error) {
	var out []esims.PoolProfile
	err := db.InTx(ctx, func(ctx context.Context) error {
		out = nil // a retried transaction starts again
		// Nodes claiming at once on PostgreSQL take different profiles.
		skipLocked := ""
		if db.engine == EnginePostgres {
			skipLocked = " FOR UPDATE SKIP LOCKED"
		}
		if err := eachRow(db, ctx, `SELECT iccid, matching_id, smdp_address, pin, puk, profile FROM profile_pool
			WHERE profile = $1 ORDER BY iccid LIMIT $2`+skipLocked, func(r *sql.Rows) error {
			var p esims.PoolProfile
			if err := r.Scan(&p.ICCID, &p.MatchingID, &p.SMDPAddress, &p.PIN, &p.PUK, &p.Profile); err != nil {
				return err
			}
			out = append(out, p)
			return nil
		}, profile, n); err != nil {
			return err
		}
		for _, p := range out {
			if _, err := db.exec(ctx, `DELETE FROM profile_pool WHERE iccid = $1`, p.ICCID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// InsertPoolProfiles adds profiles to the pool, skipping ICCIDs already in
// the pool or issued, and reports how many were added.
func (db *DB) InsertPoolProfiles(ctx context.Context, ps []esims.PoolProfile, at time.Time) (int, error) {
	added := 0
	err := db.InTx(ctx, func(ctx context.Context) error {
		added = 0 // a retried transaction starts again
		for _, p := range ps {
			res, err := db.exec(ctx, `INSERT INTO profile_pool (iccid, matching_id, smdp_address, pin, puk, profile, imported_at)
				SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS TEXT),
					CAST($6 AS TEXT), CAST($7 AS BIGINT) WHERE NOT EXISTS (SELECT 1 FROM esims WHERE iccid = $1)
				ON CONFLICT (iccid) DO NOTHING`, p.ICCID, p.MatchingID, p.SMDPAddress, p.PIN, p.PUK, p.Profile, nanos(at))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			added += int(n)
		}
		return nil
	})
	return added, err
}

const esimColumns = `id, org_id, iccid, matching_id, smdp_address, pin, puk, profile, profile_status, state,
	customer_ref, msisdn, eid, branding_id, first_installed_at, first_attached_at, last_action, last_action_at,
	assigned_at, country, mcc, mnc, tadig, network_name, network_brand, last_seen_at, countries_seen,
	last_activity_at, deletion_due_at, returned_at`

func scanESIM(sc interface{ Scan(...any) error }) (esims.ESIM, error) {
	var e esims.ESIM
	var installed, attached, seen, deletion, returned sql.NullInt64
	var lastAction, assigned, activity int64
	var countries string
	err := sc.Scan(&e.ID, &e.OrgID, &e.ICCID, &e.MatchingID, &e.SMDPAddress, &e.PIN, &e.PUK, &e.Profile, &e.ProfileStatus,
		&e.State, &e.CustomerRef, &e.MSISDN, &e.EID, &e.BrandingID, &installed, &attached, &e.LastAction, &lastAction,
		&assigned, &e.Location.Country, &e.Location.MCC, &e.Location.MNC, &e.Location.TADIG, &e.Location.NetworkName,
		&e.Location.Brand, &seen, &countries, &activity, &deletion, &returned)
	if err != nil {
		return e, err
	}
	e.FirstInstalledAt, e.FirstAttachedAt = fromNullNanos(installed), fromNullNanos(attached)
	e.LastActionAt, e.AssignedAt, e.LastActivityAt = fromNanos(lastAction), fromNanos(assigned), fromNanos(activity)
	e.Location.LastSeen, e.DeletionDueAt, e.ReturnedAt = fromNullNanos(seen), fromNullNanos(deletion), fromNullNanos(returned)
	var raw map[string]int64
	if err := json.Unmarshal([]byte(countries), &raw); err != nil {
		return e, err
	}
	e.CountriesSeen = make(map[string]time.Time, len(raw))
	for k, v := range raw {
		e.CountriesSeen[k] = fromNanos(v)
	}
	return e, nil
}

func countriesText(m map[string]time.Time) string {
	raw := make(map[string]int64, len(m))
	for k, v := range m {
		raw[k] = nanos(v)
	}
	b, _ := json.Marshal(raw)
	return string(b)
}

func esimArgs(e *esims.ESIM) []any {
	return []any{e.OrgID, e.ICCID, e.MatchingID, e.SMDPAddress, e.PIN, e.PUK, e.Profile, e.ProfileStatus, e.State,
		e.CustomerRef, e.MSISDN, e.EID, e.BrandingID, nullNanos(e.FirstInstalledAt), nullNanos(e.FirstAttachedAt),
		e.LastAction, nanos(e.LastActionAt), nanos(e.AssignedAt), e.Location.Country, e.Location.MCC, e.Location.MNC,
		e.Location.TADIG, e.Location.NetworkName, e.Location.Brand, nullNanos(e.Location.LastSeen),
		countriesText(e.CountriesSeen), nanos(e.LastActivityAt), nullNanos(e.DeletionDueAt), nullNanos(e.ReturnedAt)}
}

// InsertESIM stores a new eSIM and sets e.ID. Errors: Conflict for an
// ICCID already issued.
func (db *DB) InsertESIM(ctx context.Context, e *esims.ESIM) error {
	return db.queryRowW(ctx, `INSERT INTO esims (org_id, iccid, matching_id, smdp_address, pin, puk, profile,
		profile_status, state, customer_ref, msisdn, eid, branding_id, first_installed_at, first_attached_at, last_action,
		last_action_at, assigned_at, country, mcc, mnc, tadig, network_name, network_brand, last_seen_at, countries_seen,
		last_activity_at, deletion_due_at, returned_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
		$24, $25, $26, $27, $28, $29) RETURNING id`, esimArgs(e)...).Scan(&e.ID)
}

// UpdateESIM writes every field of e.
func (db *DB) UpdateESIM(ctx context.Context, e *esims.ESIM) error {
	// An eSIM's organisation and ICCID never change: leaving them out of
	// SET spares rewriting the three indexes on them (a third of the cost
	// of the statement).
	res, err := db.exec(ctx, `UPDATE esims SET matching_id = $3, smdp_address = $4, pin = $5,
		puk = $6, profile = $7, profile_status = $8, state = $9, customer_ref = $10, msisdn = $11, eid = $12,
		branding_id = $13, first_installed_at = $14, first_attached_at = $15, last_action = $16, last_action_at = $17,
		assigned_at = $18, country = $19, mcc = $20, mnc = $21, tadig = $22, network_name = $23, network_brand = $24,
		last_seen_at = $25, countries_seen = $26, last_activity_at = $27, deletion_due_at = $28, returned_at = $29
		WHERE id = $30 AND org_id = $1 AND iccid = $2`,
		append(esimArgs(e), e.ID)...)
	if err != nil {
		return err
	}
	return mustAffect(res, "eSIM "+e.ICCID)
}

// UpdateESIMActivity writes only where an eSIM was last seen and when it
// was last active: what most usage records change. It touches no indexed
// column, so it costs a row rewrite and no index maintenance.
func (db *DB) UpdateESIMActivity(ctx context.Context, e *esims.ESIM) error {
	res, err := db.exec(ctx, `UPDATE esims SET country = $1, mcc = $2, mnc = $3, tadig = $4, network_name = $5,
		network_brand = $6, last_seen_at = $7, last_activity_at = $8 WHERE id = $9`,
		e.Location.Country, e.Location.MCC, e.Location.MNC, e.Location.TADIG, e.Location.NetworkName, e.Location.Brand,
		nullNanos(e.Location.LastSeen), nanos(e.LastActivityAt), e.ID)
	if err != nil {
		return err
	}
	return mustAffect(res, "eSIM "+e.ICCID)
}

// ESIMByICCID returns an organisation's eSIM. Errors: NotFound (also for
// another organisation's).
func (db *DB) ESIMByICCID(ctx context.Context, org orgs.ID, iccid string) (esims.ESIM, error) {
	e, err := scanESIM(db.queryRow(ctx, `SELECT `+esimColumns+` FROM esims WHERE iccid = $1 AND org_id = $2`+db.forUpdate(ctx), iccid, org))
	return e, db.mapErr(err)
}

// ESIMByICCIDAnyOrg returns an eSIM whoever owns it (network ingest).
func (db *DB) ESIMByICCIDAnyOrg(ctx context.Context, iccid string) (esims.ESIM, error) {
	e, err := scanESIM(db.queryRow(ctx, `SELECT `+esimColumns+` FROM esims WHERE iccid = $1`+db.forUpdate(ctx), iccid))
	return e, db.mapErr(err)
}

// ESIMByID returns an eSIM by its row ID.
func (db *DB) ESIMByID(ctx context.Context, id int64) (esims.ESIM, error) {
	e, err := scanESIM(db.queryRow(ctx, `SELECT `+esimColumns+` FROM esims WHERE id = $1`+db.forUpdate(ctx), id))
	return e, db.mapErr(err)
}

// ListESIMs returns a page of an organisation's eSIMs ordered by ICCID and
// the number that match.
func (db *DB) ListESIMs(ctx context.Context, org orgs.ID, q esims.ListQuery) ([]esims.ESIM, int, error) {
	where := `org_id = $1 AND returned_at IS NULL`
	args := []any{org}
	if q.FilterBy != "" {
		col := map[string]string{"iccid": "iccid", "customerRef": "customer_ref", "lastAction": "last_action",
			"actionDate": "last_action_at", "assignedDate": "assigned_at"}[q.FilterBy]
		if col == "" {
			return nil, 0, fault.Invalidf("filterBy %q is not a field", q.FilterBy)
		}
		op := map[string]string{"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[q.Op]
		switch {
		case strings.HasSuffix(col, "_at"):
			if op == "" {
				op = "="
			}
			args = append(args, nanos(q.TimeValue))
		case (q.Op == "like" || q.Op == "") && col == "iccid" && db.engine == EngineSQLite:
			// ICCIDs are digits: a plain substring test is LIKE's answer at
			// a fraction of its cost per row.
			args = append(args, q.Value)
			where += ` AND instr(iccid, $2) > 0`
			col = ""
		case q.Op == "like" || q.Op == "":
			op = db.like()
			args = append(args, "%"+escapeLike(q.Value)+"%")
			where += ` AND ` + col + ` ` + op + ` $2 ESCAPE '\'`
			col = ""
		default:
			args = append(args, q.Value)
		}
		if col != "" {
			where += ` AND ` + col + ` ` + op + ` $2`
		}
	}
	var total int
	if err := db.queryRow(ctx, `SELECT count(*) FROM esims WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, db.mapErr(err)
	}
	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	n := len(args)
	args = append(args, q.PerPage, (max(q.Page, 1)-1)*q.PerPage)
	var out []esims.ESIM
	err := eachRow(db, ctx, `SELECT `+esimColumns+` FROM esims WHERE `+where+` ORDER BY iccid `+dir+
		` LIMIT $`+itoa(int64(n+1))+` OFFSET $`+itoa(int64(n+2)), func(r *sql.Rows) error {
		e, err := scanESIM(r)
		out = append(out, e)
		return err
	}, args...)
	return out, total, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

const assignmentColumns = `a.id, a.org_id, a.esim_id, e.iccid, a.order_id, a.reference, a.bundle_name, a.description,
	a.profile, a.state, a.unlimited, a.initial_bytes, a.remaining_bytes, a.duration_days, a.autostart, a.price,
	a.batch_id, a.assigned_at, a.started_at, a.ends_at, a.lapses_at, a.ended_at, a.used, a.alerts_sent,
	a.initial_minutes, a.remaining_minutes, a.initial_sms, a.remaining_sms, a.start_at`

func scanAssignment(sc interface{ Scan(...any) error }) (esims.Assignment, error) {
	var a esims.Assignment
	var state string
	var batch, started, ends, ended, startAt sql.NullInt64
	var assigned, lapses int64
	err := sc.Scan(&a.ID, &a.OrgID, &a.ESIMID, &a.ICCID, &a.OrderID, &a.Reference, &a.BundleName, &a.Description,
		&a.Profile, &state, &a.Unlimited, &a.InitialBytes, &a.RemainingBytes, &a.DurationDays, &a.Autostart, &a.Price,
		&batch, &assigned, &started, &ends, &lapses, &ended, &a.Used, &a.AlertsSent,
		&a.InitialMinutes, &a.RemainingMinutes, &a.InitialSMS, &a.RemainingSMS, &startAt)
	if err != nil {
		return a, err
	}
	a.State = esims.BundleState(state)
	if batch.Valid {
		a.BatchID = &batch.Int64
	}
	a.AssignedAt, a.LapsesAt = fromNanos(assigned), fromNanos(lapses)
	a.StartedAt, a.EndsAt, a.EndedAt = fromNullNanos(started), fromNullNanos(ends), fromNullNanos(ended)
	a.StartAt = fromNullNanos(startAt)
	return a, nil
}

func nullInt(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

// InsertAssignment stores a new assignment and sets a.ID.
func (db *DB) InsertAssignment(ctx context.Context, a *esims.Assignment) error {
	return db.queryRowW(ctx, `INSERT INTO assignments (org_id, esim_id, order_id, reference, bundle_name, description,
		profile, state, unlimited, initial_bytes, remaining_bytes, duration_days, autostart, price, batch_id,
		assigned_at, started_at, ends_at, lapses_at, ended_at, used, alerts_sent, initial_minutes, remaining_minutes,
		initial_sms, remaining_sms, start_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
		$23, $24, $25, $26, $27) RETURNING id`, a.OrgID, a.ESIMID, a.OrderID, a.Reference, a.BundleName, a.Description, a.Profile, string(a.State),
		a.Unlimited, a.InitialBytes, a.RemainingBytes, a.DurationDays, a.Autostart, a.Price, nullInt(a.BatchID),
		nanos(a.AssignedAt), nullNanos(a.StartedAt), nullNanos(a.EndsAt), nanos(a.LapsesAt), nullNanos(a.EndedAt),
		a.Used, a.AlertsSent, a.InitialMinutes, a.RemainingMinutes, a.InitialSMS, a.RemainingSMS, nullNanos(a.StartAt)).Scan(&a.ID)
}

// UpdateAssignment writes the mutable fields of a.
func (db *DB) UpdateAssignment(ctx context.Context, a *esims.Assignment) error {
	res, err := db.exec(ctx, `UPDATE assignments SET state = $2, remaining_bytes = $3, started_at = $4, ends_at = $5,
		ended_at = $6, used = $7, alerts_sent = $8, remaining_minutes = $9, remaining_sms = $10 WHERE id = $1`,
		a.ID, string(a.State), a.RemainingBytes, nullNanos(a.StartedAt), nullNanos(a.EndsAt), nullNanos(a.EndedAt), a.Used,
		a.AlertsSent, a.RemainingMinutes, a.RemainingSMS)
	if err != nil {
		return err
	}
	return mustAffect(res, "assignment "+itoa(a.ID))
}

// UpdateAssignmentUsage writes only what charging usage changes while an
// assignment stays in its state: what is left, whether it was used and
// the alerts sent. It spares the index maintenance of the state column.
func (db *DB) UpdateAssignmentUsage(ctx context.Context, a *esims.Assignment) error {
	res, err := db.exec(ctx, `UPDATE assignments SET remaining_bytes = $2, used = $3, alerts_sent = $4,
		remaining_minutes = $5, remaining_sms = $6 WHERE id = $1`,
		a.ID, a.RemainingBytes, a.Used, a.AlertsSent, a.RemainingMinutes, a.RemainingSMS)
	if err != nil {
		return err
	}
	return mustAffect(res, "assignment "+itoa(a.ID))
}

// Assignment returns one assignment. Errors: NotFound.
func (db *DB) Assignment(ctx context.Context, id int64) (esims.Assignment, error) {
	if err := db.lockESIMs(ctx, `SELECT esim_id FROM assignments WHERE id = $1`, id); err != nil {
		return esims.Assignment{}, err
	}
	a, err := scanAssignment(db.queryRow(ctx, `SELECT `+assignmentColumns+` FROM assignments a JOIN esims e ON e.id = a.esim_id WHERE a.id = $1`, id))
	return a, db.mapErr(err)
}

func (db *DB) assignments(ctx context.Context, where string, arg any) ([]esims.Assignment, error) {
	var out []esims.Assignment
	err := eachRow(db, ctx, `SELECT `+assignmentColumns+` FROM assignments a JOIN esims e ON e.id = a.esim_id WHERE `+where+` ORDER BY a.id`,
		func(r *sql.Rows) error {
			a, err := scanAssignment(r)
			out = append(out, a)
			return err
		}, arg)
	return out, err
}

// AssignmentsOfESIM returns an eSIM's assignments, oldest first.
func (db *DB) AssignmentsOfESIM(ctx context.Context, esimID int64) ([]esims.Assignment, error) {
	if err := db.lockESIMs(ctx, `$1`, esimID); err != nil {
		return nil, err
	}
	return db.assignments(ctx, `a.esim_id = $1`, esimID)
}

// AssignmentsOfOrder returns an order's assignments in order.
func (db *DB) AssignmentsOfOrder(ctx context.Context, orderID int64) ([]esims.Assignment, error) {
	if err := db.lockESIMs(ctx, `SELECT esim_id FROM assignments WHERE order_id = $1`, orderID); err != nil {
		return nil, err
	}
	return db.assignments(ctx, `a.order_id = $1`, orderID)
}

// AddHistory appends to an eSIM's history.
func (db *DB) AddHistory(ctx context.Context, esimID int64, h esims.HistoryEntry) error {
	_, err := db.exec(ctx, `INSERT INTO esim_history (esim_id, name, bundle_name, alert_type, at) VALUES ($1, $2, $3, $4, $5)`,
		esimID, h.Name, h.BundleName, h.AlertType, nanos(h.At))
	return err
}

// History returns an eSIM's history, oldest first.
func (db *DB) History(ctx context.Context, esimID int64) ([]esims.HistoryEntry, error) {
	out := []esims.HistoryEntry{}
	err := eachRow(db, ctx, `SELECT name, bundle_name, alert_type, at FROM esim_history WHERE esim_id = $1 ORDER BY id`, func(r *sql.Rows) error {
		var h esims.HistoryEntry
		var at int64
		if err := r.Scan(&h.Name, &h.BundleName, &h.AlertType, &at); err != nil {
			return err
		}
		h.At = fromNanos(at)
		out = append(out, h)
		return nil
	}, esimID)
	return out, err
}

// AddEvent writes a notification to the outbox and sets e.ID.
func (db *DB) AddEvent(ctx context.Context, e *esims.Event) error {
	payload, err := json.Marshal(e.Payload)
	if err != nil {
		return err
	}
	return db.queryRowW(ctx, `INSERT INTO events (org_id, iccid, kind, payload, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		e.OrgID, e.ICCID, e.Kind, string(payload), nanos(e.At)).Scan(&e.ID)
}

// Events returns an organisation's notifications after an ID, oldest first.
func (db *DB) Events(ctx context.Context, org orgs.ID, afterID int64, limit int) ([]esims.Event, error) {
	out := []esims.Event{}
	err := eachRow(db, ctx, `SELECT id, org_id, iccid, kind, payload, created_at FROM events WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		func(r *sql.Rows) error {
			var e esims.Event
			var payload string
			var at int64
			if err := r.Scan(&e.ID, &e.OrgID, &e.ICCID, &e.Kind, &payload, &at); err != nil {
				return err
			}
			e.At = fromNanos(at)
			p, err := events.Decode(e.Kind, []byte(payload))
			if err != nil {
				// A row of another shape (written by hand or by another
				// tool) is listed as it is; rendering it says what is wrong.
				p = events.Other{Name: e.Kind, Fields: json.RawMessage(payload)}
			}
			e.Payload = p
			out = append(out, e)
			return nil
		}, org, afterID, limit)
	return out, err
}

// ScheduleDue adds due work, or moves it if that kind and subject exist.
func (db *DB) ScheduleDue(ctx context.Context, d esims.DueItem) error {
	_, err := db.exec(ctx, `INSERT INTO due_work (org_id, kind, subject_id, due_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, subject_id) DO UPDATE SET due_at = excluded.due_at, org_id = excluded.org_id`,
		d.OrgID, d.Kind, d.SubjectID, nanos(d.DueAt))
	return err
}

// CancelDue drops due work if it exists.
func (db *DB) CancelDue(ctx context.Context, kind string, subjectID int64) error {
	_, err := db.exec(ctx, `DELETE FROM due_work WHERE kind = $1 AND subject_id = $2`, kind, subjectID)
	return err
}

// DueItems returns work due by each organisation's clock at wall time
// (wall plus its sandbox offset), earliest first; one organisation only
// when org is non-zero.
func (db *DB) DueItems(ctx context.Context, wall time.Time, org orgs.ID, limit int) ([]esims.DueItem, error) {
	var out []esims.DueItem
	// Each organisation has its own clock, so "due" is a range per
	// organisation: walk the organisations and, for each, the (org_id,
	// due_at) index up to its time. A single scan of due_at would read
	// every future row whenever little is due, and most rows lie months
	// ahead (expiry, lapse). SQLite's CROSS JOIN fixes the loop order;
	// PostgreSQL says it with LATERAL.
	query := `SELECT d.id, d.org_id, d.kind, d.subject_id, d.due_at FROM organisations o CROSS JOIN due_work d
		WHERE d.org_id = o.id AND d.due_at <= $1 + o.clock_offset_ns AND (CAST($2 AS BIGINT) = 0 OR o.id = $2)
		ORDER BY d.due_at, d.id LIMIT $3`
	if db.engine == EnginePostgres {
		query = `SELECT d.id, d.org_id, d.kind, d.subject_id, d.due_at FROM organisations o
		CROSS JOIN LATERAL (SELECT id, org_id, kind, subject_id, due_at FROM due_work
			WHERE org_id = o.id AND due_at <= $1 + o.clock_offset_ns ORDER BY due_at, id LIMIT $3) d
		WHERE CAST($2 AS BIGINT) = 0 OR o.id = $2
		ORDER BY d.due_at, d.id LIMIT $3`
	}
	err := eachRow(db, ctx, query, func(r *sql.Rows) error {
		var d esims.DueItem
		var at int64
		if err := r.Scan(&d.ID, &d.OrgID, &d.Kind, &d.SubjectID, &at); err != nil {
			return err
		}
		d.DueAt = fromNanos(at)
		out = append(out, d)
		return nil
	}, nanos(wall), org, limit)
	return out, err
}

// DeleteDue removes one item. Errors: NotFound when it is already gone.
func (db *DB) DeleteDue(ctx context.Context, id int64) error {
	res, err := db.exec(ctx, `DELETE FROM due_work WHERE id = $1`, id)
	if err != nil {
		return err
	}
	return mustAffect(res, "due work "+itoa(id))
}

// AddSMS stores a message sent to an eSIM.
func (db *DB) AddSMS(ctx context.Context, esimID int64, s *esims.SMS) error {
	return db.queryRowW(ctx, `INSERT INTO sms (esim_id, sender, message, at) VALUES ($1, $2, $3, $4) RETURNING id`,
		esimID, s.Sender, s.Message, nanos(s.At)).Scan(&s.ID)
}

// SMSOf lists the messages an eSIM received, oldest first.
func (db *DB) SMSOf(ctx context.Context, esimID int64) ([]esims.SMS, error) {
	out := []esims.SMS{}
	err := eachRow(db, ctx, `SELECT id, sender, message, at FROM sms WHERE esim_id = $1 ORDER BY id`, func(r *sql.Rows) error {
		var s esims.SMS
		var at int64
		if err := r.Scan(&s.ID, &s.Sender, &s.Message, &at); err != nil {
			return err
		}
		s.At = fromNanos(at)
		out = append(out, s)
		return nil
	}, esimID)
	return out, err
}

var _ esims.Store = (*DB)(nil)
