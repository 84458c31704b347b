package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/esimd/esimd/internal/catalogue"
)

// ReplaceCatalogue swaps the whole catalogue (countries, regions, bundles,
// networks) in one transaction and records a new version.
func (db *DB) ReplaceCatalogue(ctx context.Context, d catalogue.Data) (string, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	version := hex.EncodeToString(b[:])
	err := db.InTx(ctx, func(ctx context.Context) error {
		for _, table := range []string{"networks", "bundles", "regions", "countries"} {
			if _, err := db.exec(ctx, `DELETE FROM `+table); err != nil {
				return err
			}
		}
		for _, c := range d.Countries {
			if _, err := db.exec(ctx, `INSERT INTO countries (iso, name, region) VALUES ($1, $2, $3)`, c.ISO, c.Name, c.Region); err != nil {
				return fmt.Errorf("country %s: %w", c.ISO, err)
			}
		}
		for _, r := range d.Regions {
			if _, err := db.exec(ctx, `INSERT INTO regions (name, profile, countries) VALUES ($1, $2, $3)`, r.Name, r.Profile, jsonText(r.Countries)); err != nil {
				return fmt.Errorf("region %s: %w", r.Name, err)
			}
		}
		for _, x := range d.Bundles {
			_, err := db.exec(ctx, `INSERT INTO bundles (name, description, groups, countries, roaming, data_bytes,
				unlimited, duration_days, autostart, speeds, profile, price, billing_type, allowances,
				daily_high_speed_bytes, throttle_kbps)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
				x.Name, x.Description, jsonText(x.Groups), jsonText(x.Countries), jsonText(x.Roaming), x.DataBytes,
				x.Unlimited, x.DurationDays, x.Autostart, jsonText(x.Speeds), x.Profile, x.Price, x.BillingType,
				jsonText(x.Allowances), x.DailyHighSpeedBytes, x.ThrottleKbps)
			if err != nil {
				return fmt.Errorf("bundle %s: %w", x.Name, err)
			}
		}
		for _, n := range d.Networks {
			_, err := db.exec(ctx, `INSERT INTO networks (country_iso, profile, name, brand, mcc, mnc, tadig, speeds)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, n.CountryISO, n.Profile, n.Name, n.Brand, n.MCC, n.MNC, n.TADIG, jsonText(n.Speeds))
			if err != nil {
				return fmt.Errorf("network %s %s%s: %w", n.CountryISO, n.MCC, n.MNC, err)
			}
		}
		if err := db.setSetting(ctx, "catalogue_currency", d.Currency); err != nil {
			return err
		}
		return db.setSetting(ctx, "catalogue_version", version)
	})
	return version, err
}

// Catalogue loads the whole catalogue and its version.
func (db *DB) Catalogue(ctx context.Context) (catalogue.Data, string, error) {
	var d catalogue.Data
	var version string
	err := db.readTx(ctx, func(ctx context.Context) error {
		var err error
		if version, err = db.setting(ctx, "catalogue_version"); err != nil {
			return err
		}
		if d.Currency, err = db.setting(ctx, "catalogue_currency"); err != nil {
			return err
		}
		if err := eachRow(db, ctx, `SELECT iso, name, region FROM countries ORDER BY iso`, func(r *sql.Rows) error {
			var c catalogue.Country
			if err := r.Scan(&c.ISO, &c.Name, &c.Region); err != nil {
				return err
			}
			d.Countries = append(d.Countries, c)
			return nil
		}); err != nil {
			return err
		}
		if err := eachRow(db, ctx, `SELECT name, profile, countries FROM regions ORDER BY name`, func(r *sql.Rows) error {
			var x catalogue.Region
			var countries string
			if err := r.Scan(&x.Name, &x.Profile, &countries); err != nil {
				return err
			}
			d.Regions = append(d.Regions, x)
			return json.Unmarshal([]byte(countries), &d.Regions[len(d.Regions)-1].Countries)
		}); err != nil {
			return err
		}
		if err := eachRow(db, ctx, `SELECT name, description, groups, countries, roaming, data_bytes, unlimited,
			duration_days, autostart, speeds, profile, price, billing_type, allowances, daily_high_speed_bytes,
			throttle_kbps FROM bundles ORDER BY name`, func(r *sql.Rows) error {
			var x catalogue.Bundle
			var groups, countries, roaming, speeds, allowances string
			if err := r.Scan(&x.Name, &x.Description, &groups, &countries, &roaming, &x.DataBytes, &x.Unlimited,
				&x.DurationDays, &x.Autostart, &speeds, &x.Profile, &x.Price, &x.BillingType, &allowances,
				&x.DailyHighSpeedBytes, &x.ThrottleKbps); err != nil {
				return err
			}
			for _, f := range []struct {
				text string
				dst  any
			}{{groups, &x.Groups}, {countries, &x.Countries}, {roaming, &x.Roaming}, {speeds, &x.Speeds}, {allowances, &x.Allowances}} {
				if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
					return fmt.Errorf("bundle %s: %w", x.Name, err)
				}
			}
			d.Bundles = append(d.Bundles, x)
			return nil
		}); err != nil {
			return err
		}
		return eachRow(db, ctx, `SELECT country_iso, profile, name, brand, mcc, mnc, tadig, speeds FROM networks ORDER BY id`, func(r *sql.Rows) error {
			var n catalogue.Network
			var speeds string
			if err := r.Scan(&n.CountryISO, &n.Profile, &n.Name, &n.Brand, &n.MCC, &n.MNC, &n.TADIG, &speeds); err != nil {
				return err
			}
			d.Networks = append(d.Networks, n)
			return json.Unmarshal([]byte(speeds), &d.Networks[len(d.Networks)-1].Speeds)
		})
	})
	return d, version, err
}

// CatalogueVersion returns the version recorded by the last import ("" if none).
func (db *DB) CatalogueVersion(ctx context.Context) (string, error) {
	return db.setting(ctx, "catalogue_version")
}

func (db *DB) setting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.queryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, db.mapErr(err)
}

func (db *DB) setSetting(ctx context.Context, key, value string) error {
	_, err := db.exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// readTx runs fn in one read-only transaction (a consistent snapshot), or
// inside the caller's transaction if there is one.
func (db *DB) readTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*txState); ok {
		return fn(ctx)
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return db.mapErr(err)
	}
	st := &txState{tx: tx, db: db}
	defer func() {
		_ = tx.Rollback()
		db.prepareMissed(ctx, st)
	}()
	return fn(context.WithValue(ctx, txKey{}, st))
}

func eachRow(db *DB, ctx context.Context, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return db.mapErr(rows.Err())
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: encode %T: %v", v, err)) // only plain slices and structs reach here
	}
	if string(b) == "null" {
		return "[]"
	}
	return string(b)
}
