package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

const orgColumns = `id, name, currency, sandbox, balance, callback_url, callback_version,
	refunds_enabled, refund_window_days, groups, tax_liable, addr1, addr2, city, country,
	postcode, business_type, website, product_description, notes, clock_offset_ns,
	created_at, updated_at, ip_allow_list`

func scanOrg(sc interface{ Scan(...any) error }) (orgs.Organisation, error) {
	var o orgs.Organisation
	var groups, allow string
	var offset, created, updated int64
	err := sc.Scan(&o.ID, &o.Name, &o.Currency, &o.Sandbox, &o.Balance, &o.CallbackURL, &o.CallbackVersion,
		&o.RefundsEnabled, &o.RefundWindowDays, &groups, &o.Profile.TaxLiable, &o.Profile.Addr1, &o.Profile.Addr2,
		&o.Profile.City, &o.Profile.Country, &o.Profile.Postcode, &o.Profile.BusinessType, &o.Profile.Website,
		&o.Profile.ProductDescription, &o.Profile.Notes, &offset, &created, &updated, &allow)
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal([]byte(groups), &o.Groups); err != nil {
		return o, err
	}
	if o.IPAllowList, err = scanAllowList(allow); err != nil {
		return o, err
	}
	o.ClockOffset = time.Duration(offset)
	o.CreatedAt, o.UpdatedAt = fromNanos(created), fromNanos(updated)
	return o, nil
}

// allowListText is the stored form of an IP allow-list: canonical
// prefixes, comma-separated.
func allowListText(list []netip.Prefix) string {
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// scanAllowList reads allowListText back; a stored entry that does not
// parse is corruption and an error.
func scanAllowList(s string) ([]netip.Prefix, error) {
	if s == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("stored IP allow-list entry %q: %w", part, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// InsertOrganisation stores a new organisation and sets o.ID. The balance
// starts at zero; credit it through AddLedgerEntry.
func (db *DB) InsertOrganisation(ctx context.Context, o *orgs.Organisation) error {
	groups, err := json.Marshal(nonNil(o.Groups))
	if err != nil {
		return err
	}
	p := o.Profile
	err = db.queryRowW(ctx, `INSERT INTO organisations (name, currency, sandbox, balance, callback_url,
		callback_version, refunds_enabled, refund_window_days, groups, tax_liable, addr1, addr2, city,
		country, postcode, business_type, website, product_description, notes, clock_offset_ns,
		created_at, updated_at, ip_allow_list)
		VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
		RETURNING id`,
		o.Name, o.Currency, o.Sandbox, o.CallbackURL, o.CallbackVersion, o.RefundsEnabled, o.RefundWindowDays,
		string(groups), p.TaxLiable, p.Addr1, p.Addr2, p.City, p.Country, p.Postcode, p.BusinessType, p.Website,
		p.ProductDescription, p.Notes, int64(o.ClockOffset), nanos(o.CreatedAt), nanos(o.UpdatedAt),
		allowListText(o.IPAllowList)).Scan(&o.ID)
	o.Balance = 0
	return db.mapErr(err)
}

// UpdateOrganisation writes every setting of o except its balance, which
// only the ledger changes.
func (db *DB) UpdateOrganisation(ctx context.Context, o *orgs.Organisation) error {
	groups, err := json.Marshal(nonNil(o.Groups))
	if err != nil {
		return err
	}
	p := o.Profile
	res, err := db.exec(ctx, `UPDATE organisations SET name = $2, currency = $3, sandbox = $4, callback_url = $5,
		callback_version = $6, refunds_enabled = $7, refund_window_days = $8, groups = $9, tax_liable = $10,
		addr1 = $11, addr2 = $12, city = $13, country = $14, postcode = $15, business_type = $16, website = $17,
		product_description = $18, notes = $19, clock_offset_ns = $20, updated_at = $21, ip_allow_list = $22 WHERE id = $1`,
		o.ID, o.Name, o.Currency, o.Sandbox, o.CallbackURL, o.CallbackVersion, o.RefundsEnabled,
		o.RefundWindowDays, string(groups), p.TaxLiable, p.Addr1, p.Addr2, p.City, p.Country, p.Postcode,
		p.BusinessType, p.Website, p.ProductDescription, p.Notes, int64(o.ClockOffset), nanos(o.UpdatedAt),
		allowListText(o.IPAllowList))
	if err != nil {
		return err
	}
	return mustAffect(res, "organisation "+itoa(int64(o.ID)))
}

// Organisation returns one organisation. Errors: NotFound.
func (db *DB) Organisation(ctx context.Context, id orgs.ID) (orgs.Organisation, error) {
	o, err := scanOrg(db.queryRow(ctx, `SELECT `+orgColumns+` FROM organisations WHERE id = $1`, id))
	return o, db.mapErr(err)
}

// Organisations returns every organisation by ID.
func (db *DB) Organisations(ctx context.Context) ([]orgs.Organisation, error) {
	rows, err := db.query(ctx, `SELECT `+orgColumns+` FROM organisations ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgs.Organisation
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, db.mapErr(rows.Err())
}

// InsertAPIKey stores a key's hash and sets k.ID. Errors: Conflict when the
// hash exists.
func (db *DB) InsertAPIKey(ctx context.Context, k *orgs.APIKey, hash string) error {
	err := db.queryRowW(ctx, `INSERT INTO api_keys (org_id, hash, hint, label, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, k.OrgID, hash, k.Hint, k.Label, nanos(k.CreatedAt)).Scan(&k.ID)
	return db.mapErr(err)
}

// APIKeyByHash finds a key by its hash and returns the stored hash too.
// Errors: NotFound.
func (db *DB) APIKeyByHash(ctx context.Context, hash string) (orgs.APIKey, string, error) {
	var k orgs.APIKey
	var stored string
	var created int64
	var revoked sql.NullInt64
	err := db.queryRow(ctx, `SELECT id, org_id, hash, hint, label, created_at, revoked_at FROM api_keys WHERE hash = $1`, hash).
		Scan(&k.ID, &k.OrgID, &stored, &k.Hint, &k.Label, &created, &revoked)
	if err != nil {
		return k, "", db.mapErr(err)
	}
	k.CreatedAt, k.RevokedAt = fromNanos(created), fromNullNanos(revoked)
	return k, stored, nil
}

// OrganisationByKeyHash finds a key by its hash together with its
// organisation. Errors: NotFound.
func (db *DB) OrganisationByKeyHash(ctx context.Context, hash string) (orgs.Organisation, orgs.APIKey, string, error) {
	var k orgs.APIKey
	var stored string
	var created int64
	var revoked sql.NullInt64
	var o orgs.Organisation
	row := db.queryRow(ctx, `SELECT k.id, k.org_id, k.hash, k.hint, k.label, k.created_at, k.revoked_at, `+
		prefixed("o.", orgColumns)+` FROM api_keys k JOIN organisations o ON o.id = k.org_id WHERE k.hash = $1`, hash)
	o, err := scanOrg(scanPrefix{row, []any{&k.ID, &k.OrgID, &stored, &k.Hint, &k.Label, &created, &revoked}})
	if err != nil {
		return o, k, "", db.mapErr(err)
	}
	k.CreatedAt, k.RevokedAt = fromNanos(created), fromNullNanos(revoked)
	return o, k, stored, nil
}

// scanPrefix scans leading columns into prefix before the ones a scan
// function asks for.
type scanPrefix struct {
	sc     interface{ Scan(...any) error }
	prefix []any
}

func (s scanPrefix) Scan(dest ...any) error { return s.sc.Scan(append(s.prefix, dest...)...) }

// prefixed qualifies each column of a comma-separated list.
func prefixed(p, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// RevokeAPIKey marks a key revoked. Errors: NotFound (no such key in that
// organisation, or already revoked).
func (db *DB) RevokeAPIKey(ctx context.Context, org orgs.ID, keyID int64, at time.Time) error {
	res, err := db.exec(ctx, `UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL`,
		keyID, org, nanos(at))
	if err != nil {
		return err
	}
	return mustAffect(res, "active API key "+itoa(keyID)+" of organisation "+itoa(int64(org)))
}

// APIKeys lists an organisation's keys, oldest first.
func (db *DB) APIKeys(ctx context.Context, org orgs.ID) ([]orgs.APIKey, error) {
	rows, err := db.query(ctx, `SELECT id, org_id, hint, label, created_at, revoked_at FROM api_keys WHERE org_id = $1 ORDER BY id`, org)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []orgs.APIKey
	for rows.Next() {
		var k orgs.APIKey
		var created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&k.ID, &k.OrgID, &k.Hint, &k.Label, &created, &revoked); err != nil {
			return nil, err
		}
		k.CreatedAt, k.RevokedAt = fromNanos(created), fromNullNanos(revoked)
		out = append(out, k)
	}
	return out, db.mapErr(rows.Err())
}

// AddLedgerEntry changes the balance by e.Amount only if it stays at or
// above zero (one conditional UPDATE, so concurrent debits can never
// overspend), then records the entry. It must run inside InTx so that the
// entry and the balance change commit together with the use case.
// Errors: Invalid when the balance is insufficient, NotFound for an unknown
// organisation.
func (db *DB) AddLedgerEntry(ctx context.Context, e *orgs.LedgerEntry) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		var after money.Amount
		err := db.queryRowW(ctx, `UPDATE organisations SET balance = balance + $2
			WHERE id = $1 AND balance + $2 >= 0 RETURNING balance`, e.OrgID, e.Amount).Scan(&after)
		if errors.Is(err, sql.ErrNoRows) {
			var balance money.Amount
			if err := db.queryRow(ctx, `SELECT balance FROM organisations WHERE id = $1`, e.OrgID).Scan(&balance); err != nil {
				return db.mapErr(err)
			}
			return fault.Invalidf("insufficient balance: %s needed, %s available", -e.Amount, balance)
		}
		if err != nil {
			return db.mapErr(err)
		}
		e.BalanceAfter = after
		return db.mapErr(db.queryRowW(ctx, `INSERT INTO ledger_entries (org_id, kind, amount, balance_after, reference, description, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			e.OrgID, string(e.Kind), e.Amount, e.BalanceAfter, e.Reference, e.Description, nanos(e.CreatedAt)).Scan(&e.ID))
	})
}

// LedgerEntries returns up to limit entries with IDs above afterID, oldest first.
func (db *DB) LedgerEntries(ctx context.Context, org orgs.ID, afterID int64, limit int) ([]orgs.LedgerEntry, error) {
	rows, err := db.query(ctx, `SELECT id, org_id, kind, amount, balance_after, reference, description, created_at
		FROM ledger_entries WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`, org, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []orgs.LedgerEntry{}
	for rows.Next() {
		var e orgs.LedgerEntry
		var kind string
		var created int64
		if err := rows.Scan(&e.ID, &e.OrgID, &kind, &e.Amount, &e.BalanceAfter, &e.Reference, &e.Description, &created); err != nil {
			return nil, err
		}
		e.Kind, e.CreatedAt = orgs.LedgerKind(kind), fromNanos(created)
		out = append(out, e)
	}
	return out, db.mapErr(rows.Err())
}

func mustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fault.NotFoundf("%s does not exist", what)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// LatestLedgerID returns the ID of an organisation's newest positive ledger
// entry of one of the kinds, 0 when it has none.
func (db *DB) LatestLedgerID(ctx context.Context, org orgs.ID, kinds ...orgs.LedgerKind) (int64, error) {
	var newest int64
	for _, k := range kinds {
		var id sql.NullInt64
		if err := db.queryRow(ctx, `SELECT max(id) FROM ledger_entries WHERE org_id = $1 AND kind = $2 AND amount > 0`,
			org, string(k)).Scan(&id); err != nil {
			return 0, db.mapErr(err)
		}
		newest = max(newest, id.Int64)
	}
	return newest, nil
}

// CountInsufficientBalance counts one more InsufficientBalance refusal in
// the organisation's running episode and returns its count there, 1 for
// the first. An episode belongs to a ledger mark (the newest top-up when
// it began): a newer mark starts a new episode at 1. One statement, so
// that concurrent refusals count one by one on both engines.
func (db *DB) CountInsufficientBalance(ctx context.Context, org orgs.ID, mark int64) (int, error) {
	var n int
	err := db.queryRowW(ctx, `INSERT INTO insufficient_balance_episodes (org_id, sent, since_ledger_id) VALUES ($1, 1, $2)
		ON CONFLICT (org_id) DO UPDATE SET
			sent = CASE WHEN excluded.since_ledger_id > insufficient_balance_episodes.since_ledger_id THEN 1
				ELSE insufficient_balance_episodes.sent + 1 END,
			since_ledger_id = CASE WHEN excluded.since_ledger_id > insufficient_balance_episodes.since_ledger_id
				THEN excluded.since_ledger_id ELSE insufficient_balance_episodes.since_ledger_id END
		RETURNING sent`, org, mark).Scan(&n)
	return n, db.mapErr(err)
}
