-- +goose Up

-- A counter per name, for numbers that must never repeat across nodes
-- (the built-in SM-DP+'s ICCID serials).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

-- Profiles a live organisation's orders draw from (imported from an SM-DP+
-- or a SIM vendor); sandbox organisations get generated test profiles.
CREATE TABLE profile_pool (
    iccid        TEXT PRIMARY KEY,
    matching_id  TEXT NOT NULL,
    smdp_address TEXT NOT NULL,
    pin          TEXT NOT NULL DEFAULT '',
    puk          TEXT NOT NULL DEFAULT '',
    profile      TEXT NOT NULL,
    imported_at  INTEGER NOT NULL
);
CREATE INDEX profile_pool_profile ON profile_pool (profile, iccid);

CREATE TABLE esims (
    id                 INTEGER PRIMARY KEY,
    org_id             INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    iccid              TEXT    NOT NULL UNIQUE,
    matching_id        TEXT    NOT NULL,
    smdp_address       TEXT    NOT NULL,
    pin                TEXT    NOT NULL,
    puk                TEXT    NOT NULL,
    profile            TEXT    NOT NULL,
    profile_status     TEXT    NOT NULL CHECK (profile_status IN ('Released', 'Downloaded', 'Installed', 'Unavailable', 'Deactivated')),
    state              TEXT    NOT NULL CHECK (state IN ('active', 'suspended', 'deactivated')),
    customer_ref       TEXT    NOT NULL DEFAULT '',
    msisdn             TEXT    NOT NULL DEFAULT '',
    eid                TEXT    NOT NULL DEFAULT '',
    branding_id        TEXT    NOT NULL DEFAULT '',
    first_installed_at INTEGER,
    first_attached_at  INTEGER,
    last_action        TEXT    NOT NULL,
    last_action_at     INTEGER NOT NULL,
    assigned_at        INTEGER NOT NULL,
    -- Last network registration.
    country            TEXT    NOT NULL DEFAULT '',
    mcc                TEXT    NOT NULL DEFAULT '',
    mnc                TEXT    NOT NULL DEFAULT '',
    tadig              TEXT    NOT NULL DEFAULT '',
    network_name       TEXT    NOT NULL DEFAULT '',
    network_brand      TEXT    NOT NULL DEFAULT '',
    last_seen_at       INTEGER,
    -- Countries seen and when, for the 24-hour CountryChange rule: JSON {"FR": nanos}.
    countries_seen     TEXT    NOT NULL DEFAULT '{}',
    -- Last time a bundle was applied or used, for the 180-day inactivity rule.
    last_activity_at   INTEGER NOT NULL,
    deletion_due_at    INTEGER
);
CREATE INDEX esims_org ON esims (org_id, iccid);
CREATE INDEX esims_org_customer_ref ON esims (org_id, customer_ref);

CREATE TABLE orders (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    reference       TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL CHECK (kind IN ('order', 'bundleAssignment', 'topup')),
    status          TEXT    NOT NULL CHECK (status IN ('processing', 'completed', 'failed')),
    status_message  TEXT    NOT NULL DEFAULT '',
    assigned        BOOLEAN NOT NULL,
    total           INTEGER NOT NULL CHECK (total >= 0),
    currency        TEXT    NOT NULL,
    source_ip       TEXT    NOT NULL DEFAULT '',
    running_balance INTEGER NOT NULL,
    profile_id      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    completed_at    INTEGER
);
CREATE INDEX orders_org_created ON orders (org_id, created_at);

CREATE TABLE order_lines (
    id             INTEGER PRIMARY KEY,
    order_id       INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no        INTEGER NOT NULL,
    type           TEXT    NOT NULL CHECK (type IN ('bundle', 'bundleAssignment', 'topup', 'apiTopup')),
    item           TEXT    NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity >= 0),
    price_per_unit INTEGER NOT NULL,
    sub_total      INTEGER NOT NULL,
    allow_reassign BOOLEAN NOT NULL DEFAULT FALSE,
    -- ICCIDs the caller asked for (JSON list), for orders still processing.
    requested      TEXT    NOT NULL DEFAULT '[]',
    UNIQUE (order_id, line_no)
);

-- One purchase of bundles into inventory; its id is eSIM Go's usageId.
CREATE TABLE inventory_batches (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    bundle_name  TEXT    NOT NULL,
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    total        INTEGER NOT NULL CHECK (total > 0),
    remaining    INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= total),
    price        INTEGER NOT NULL CHECK (price >= 0),
    purchased_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX inventory_batches_org_bundle ON inventory_batches (org_id, bundle_name, expires_at);

CREATE TABLE assignments (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    esim_id         INTEGER NOT NULL REFERENCES esims (id) ON DELETE CASCADE,
    order_id        INTEGER NOT NULL REFERENCES orders (id),
    reference       TEXT    NOT NULL UNIQUE,
    bundle_name     TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    profile         TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('processing', 'queued', 'active', 'depleted', 'expired', 'revoked', 'lapsed')),
    unlimited       BOOLEAN NOT NULL,
    initial_bytes   INTEGER NOT NULL CHECK (initial_bytes >= 0),
    remaining_bytes INTEGER NOT NULL CHECK (remaining_bytes >= 0 AND remaining_bytes <= initial_bytes),
    duration_days   INTEGER NOT NULL,
    autostart       BOOLEAN NOT NULL,
    price           INTEGER NOT NULL,
    batch_id        INTEGER REFERENCES inventory_batches (id),
    assigned_at     INTEGER NOT NULL,
    started_at      INTEGER,
    ends_at         INTEGER,
    lapses_at       INTEGER NOT NULL,
    ended_at        INTEGER,
    used            BOOLEAN NOT NULL DEFAULT FALSE,
    -- Utilisation alerts already sent, as a bit set: 1 %, 50 %, 80 %, 100 %.
    alerts_sent     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX assignments_esim ON assignments (esim_id, id);
CREATE INDEX assignments_order ON assignments (order_id);
-- One active bundle per eSIM, enforced by the schema.
CREATE UNIQUE INDEX assignments_one_active ON assignments (esim_id) WHERE state = 'active';

CREATE TABLE esim_history (
    id          INTEGER PRIMARY KEY,
    esim_id     INTEGER NOT NULL REFERENCES esims (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    bundle_name TEXT    NOT NULL DEFAULT '',
    alert_type  TEXT    NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
);
CREATE INDEX esim_history_esim ON esim_history (esim_id, id);

CREATE TABLE sms (
    id      INTEGER PRIMARY KEY,
    esim_id INTEGER NOT NULL REFERENCES esims (id) ON DELETE CASCADE,
    sender  TEXT    NOT NULL,
    message TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX sms_esim ON sms (esim_id, id);

-- The outbox: every notification, written in the transaction of the change
-- that caused it.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    iccid      TEXT    NOT NULL DEFAULT '',
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_org ON events (org_id, id);

-- Time-driven work (bundle expiry, lapse, inventory expiry, inactivity
-- deletion, asynchronous orders), keyed by organisation and due time.
CREATE TABLE due_work (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    subject_id INTEGER NOT NULL,
    due_at     INTEGER NOT NULL,
    UNIQUE (kind, subject_id)
);
CREATE INDEX due_work_due ON due_work (due_at);
CREATE INDEX due_work_org_due ON due_work (org_id, due_at);

CREATE TABLE idempotency_keys (
    org_id       INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0, -- 0 while the first request runs
    header       TEXT    NOT NULL DEFAULT '{}',
    body         BLOB,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE due_work;
DROP TABLE events;
DROP TABLE sms;
DROP TABLE esim_history;
DROP TABLE assignments;
DROP TABLE inventory_batches;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE esims;
DROP TABLE profile_pool;
DROP TABLE counters;
