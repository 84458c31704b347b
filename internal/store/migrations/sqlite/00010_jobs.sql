-- +goose Up
-- The general job queue (internal/jobs Queue): work that calls an outside
-- system (an SM-DP+, a mail server) between being claimed and being
-- recorded. A job of a non-empty key waits for the older jobs of its key.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    job_key     TEXT    NOT NULL DEFAULT '',
    org_id      BIGINT  REFERENCES organisations (id) ON DELETE CASCADE,
    payload     TEXT    NOT NULL DEFAULT '{}',
    -- pending: to run at run_at; running: leased until run_at; failed: given up.
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'failed')),
    attempts    BIGINT  NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    run_at      BIGINT  NOT NULL,
    lease_token BIGINT,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    failed_at   BIGINT
);
CREATE INDEX jobs_due ON jobs (kind, run_at, id) WHERE state <> 'failed';
CREATE INDEX jobs_key ON jobs (kind, job_key, id) WHERE state <> 'failed' AND job_key <> '';

-- +goose Down
DROP TABLE jobs;
