-- +goose Up
-- Times are integer nanoseconds since the Unix epoch (UTC); money is integer
-- ten-thousandths of the organisation's currency; lists are JSON text.

CREATE TABLE organisations (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    currency           TEXT    NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency)),
    sandbox            BOOLEAN NOT NULL,
    balance            INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    callback_url       TEXT    NOT NULL DEFAULT '',
    callback_version   TEXT    NOT NULL DEFAULT 'V3' CHECK (callback_version IN ('V2', 'V3')),
    refunds_enabled    BOOLEAN NOT NULL DEFAULT FALSE,
    refund_window_days INTEGER NOT NULL DEFAULT 60 CHECK (refund_window_days >= 0),
    groups             TEXT    NOT NULL DEFAULT '[]',
    tax_liable         TEXT    NOT NULL DEFAULT '',
    addr1              TEXT    NOT NULL DEFAULT '',
    addr2              TEXT    NOT NULL DEFAULT '',
    city               TEXT    NOT NULL DEFAULT '',
    country            TEXT    NOT NULL DEFAULT '',
    postcode           TEXT    NOT NULL DEFAULT '',
    business_type      TEXT    NOT NULL DEFAULT '',
    website            TEXT    NOT NULL DEFAULT '',
    product_description TEXT   NOT NULL DEFAULT '',
    notes              TEXT    NOT NULL DEFAULT '',
    -- A sandbox organisation's clock runs this far ahead of the wall clock.
    clock_offset_ns    INTEGER NOT NULL DEFAULT 0 CHECK (clock_offset_ns >= 0),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    -- SHA-256 of the key, hex. Keys are 256-bit random strings, so a fast
    -- hash is enough; the key itself is shown once and never stored.
    hash       TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64),
    hint       TEXT    NOT NULL,
    label      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_org ON api_keys (org_id);

-- Every balance change is one row; organisations.balance is their running sum.
CREATE TABLE ledger_entries (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL CHECK (kind IN ('credit', 'topup', 'order', 'refund', 'adjustment')),
    amount        INTEGER NOT NULL CHECK (amount <> 0),
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    reference     TEXT    NOT NULL DEFAULT '',
    description   TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE INDEX ledger_entries_org ON ledger_entries (org_id, id);

CREATE TABLE countries (
    iso    TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    region TEXT NOT NULL
);

CREATE TABLE regions (
    name      TEXT PRIMARY KEY,
    profile   TEXT NOT NULL,
    countries TEXT NOT NULL
);

CREATE TABLE bundles (
    name                   TEXT    PRIMARY KEY,
    description            TEXT    NOT NULL,
    groups                 TEXT    NOT NULL,
    countries              TEXT    NOT NULL,
    roaming                TEXT    NOT NULL,
    data_bytes             INTEGER NOT NULL CHECK (data_bytes >= 0),
    unlimited              BOOLEAN NOT NULL,
    duration_days          INTEGER NOT NULL CHECK (duration_days > 0),
    autostart              BOOLEAN NOT NULL,
    speeds                 TEXT    NOT NULL,
    profile                TEXT    NOT NULL,
    price                  INTEGER NOT NULL CHECK (price >= 0),
    billing_type           TEXT    NOT NULL,
    allowances             TEXT    NOT NULL,
    daily_high_speed_bytes INTEGER NOT NULL DEFAULT 0,
    throttle_kbps          INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE networks (
    id          INTEGER PRIMARY KEY,
    country_iso TEXT NOT NULL,
    profile     TEXT NOT NULL,
    name        TEXT NOT NULL,
    brand       TEXT NOT NULL,
    mcc         TEXT NOT NULL CHECK (length(mcc) = 3),
    mnc         TEXT NOT NULL CHECK (length(mnc) BETWEEN 2 AND 3),
    tadig       TEXT NOT NULL,
    speeds      TEXT NOT NULL
);

-- Small named values: the catalogue's currency and version (bumped on every
-- import, so every node can tell its cached copy is stale).
CREATE INDEX networks_country ON networks (country_iso);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE networks;
DROP TABLE bundles;
DROP TABLE regions;
DROP TABLE countries;
DROP TABLE ledger_entries;
DROP TABLE api_keys;
DROP TABLE organisations;
