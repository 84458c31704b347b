package store

import (
	"context"

	"github.com/esimd/esimd/internal/notify"
)

// SealedSigningKeys returns the sealed copy of every API key, of every
// organisation, in API key order (esimd callbacks reseal).
func (db *DB) SealedSigningKeys(ctx context.Context) ([]notify.SealedKey, error) {
	rows, err := db.query(ctx, `SELECT org_id, api_key_id, sealed FROM signing_keys ORDER BY api_key_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notify.SealedKey
	for rows.Next() {
		var k notify.SealedKey
		if err := rows.Scan(&k.OrgID, &k.APIKeyID, &k.Sealed); err != nil {
			return nil, db.mapErr(err)
		}
		out = append(out, k)
	}
	return out, db.mapErr(rows.Err())
}
