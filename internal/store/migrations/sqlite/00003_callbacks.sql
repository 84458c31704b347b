-- +goose Up
-- Callback delivery (package notify): per-event delivery state beside the
-- outbox, a log of every attempt, per-organisation callback settings and
-- sealed copies of API keys for signing.

-- Event IDs are what receivers de-duplicate on (X-Esimd-Event-Id,
-- webhook-id), so they must never be reused. Without AUTOINCREMENT SQLite
-- hands out max(id)+1, which repeats IDs after the newest events are
-- deleted (a sandbox reset). Rebuild the outbox with AUTOINCREMENT; its
-- columns and index stay the same.
CREATE TABLE events_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id     INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    iccid      TEXT    NOT NULL DEFAULT '',
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO events_new (id, org_id, iccid, kind, payload, created_at)
    SELECT id, org_id, iccid, kind, payload, created_at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_org ON events (org_id, id);
CREATE INDEX events_org_created ON events (org_id, created_at);

-- Delivery state of each event. Events of one eSIM (one iccid of one
-- organisation; '' for organisation-level events) are a stream delivered
-- in ID order: the lowest pending event of a stream blocks the others.
CREATE TABLE event_deliveries (
    event_id        INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    org_id          INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    iccid           TEXT    NOT NULL,
    -- pending: to send (or being sent); delivered: a 2xx was received;
    -- failed: given up (attempts exhausted, or 410 Gone); skipped: there was
    -- no endpoint to send to (no callback URL, or the endpoint is disabled).
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- Wall-clock nanoseconds; while an attempt is in flight, the end of its lease.
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    -- Set while a worker holds the event; a result is recorded only by the holder.
    lease_token     INTEGER,
    last_attempt_at INTEGER,
    delivered_at    INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    replays         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX event_deliveries_due ON event_deliveries (next_attempt_at, event_id) WHERE status = 'pending';
CREATE INDEX event_deliveries_stream ON event_deliveries (org_id, iccid, status, event_id);

-- Events already in the outbox were written before callbacks were sent:
-- record them as skipped (a replay can still send them).
INSERT INTO event_deliveries (event_id, org_id, iccid, status, last_error)
    SELECT id, org_id, iccid, 'skipped', 'created before callback delivery existed; replay to send' FROM events;

-- Every event enters delivery in the transaction that wrote it.
-- +goose StatementBegin
CREATE TRIGGER events_enqueue_delivery AFTER INSERT ON events
BEGIN
    INSERT INTO event_deliveries (event_id, org_id, iccid, status) VALUES (NEW.id, NEW.org_id, NEW.iccid, 'pending');
END;
-- +goose StatementEnd

-- Every HTTP attempt: deliveries, replays and test sends.
CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    event_id    INTEGER REFERENCES events (id) ON DELETE CASCADE, -- NULL for a test send
    kind        TEXT    NOT NULL, -- the event's kind, or the test body's
    attempt     INTEGER NOT NULL CHECK (attempt >= 1),
    url         TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0, -- 0: no HTTP response
    latency_ns  INTEGER NOT NULL DEFAULT 0,
    response    TEXT    NOT NULL DEFAULT '', -- first 512 bytes of the response body
    error       TEXT    NOT NULL DEFAULT '',
    -- delivered, retry (another attempt is scheduled), failed (given up),
    -- disabled (410 Gone disabled the endpoint); a test send is delivered or failed.
    outcome     TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed', 'disabled')),
    test        BOOLEAN NOT NULL DEFAULT FALSE,
    replay      INTEGER NOT NULL DEFAULT 0, -- the event's replay count at the time (0: first delivery)
    next_attempt_at INTEGER,
    signature   TEXT    NOT NULL DEFAULT '' -- how the body was signed, or why it was not
);
CREATE INDEX delivery_attempts_org ON delivery_attempts (org_id, id);
CREATE INDEX delivery_attempts_event ON delivery_attempts (event_id, id);

-- Callback settings esimd adds to eSIM Go's URL and version (those stay
-- on organisations). No row means the defaults.
CREATE TABLE callback_settings (
    org_id             INTEGER PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    signature_encoding TEXT    NOT NULL DEFAULT 'base64' CHECK (signature_encoding IN ('base64', 'hex')),
    standard_webhooks  BOOLEAN NOT NULL DEFAULT FALSE,
    -- LowBalance threshold in ten-thousandths of the currency (default 100).
    balance_threshold  INTEGER NOT NULL DEFAULT 1000000 CHECK (balance_threshold >= 0),
    -- Set when the endpoint answered 410 Gone: nothing is sent to
    -- disabled_url until the callback URL is set again.
    disabled_at        INTEGER,
    disabled_url       TEXT    NOT NULL DEFAULT '',
    disabled_reason    TEXT    NOT NULL DEFAULT '',
    updated_at         INTEGER NOT NULL
);

-- API keys sealed with the server's secret key (AES-256-GCM), only to sign
-- V3 callbacks; api_keys keeps the hashes used for authentication.
CREATE TABLE signing_keys (
    api_key_id INTEGER PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
    org_id     INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    sealed     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX signing_keys_org ON signing_keys (org_id, api_key_id);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE callback_settings;
DROP TABLE delivery_attempts;
DROP TRIGGER events_enqueue_delivery;
DROP TABLE event_deliveries;
DROP INDEX events_org_created;
