-- +goose Up
-- When a bundle that does not start automatically (autostart false) starts:
-- the deprecated apply's startTime, in the organisation's time. NULL: on
-- first use in a covered country.
ALTER TABLE assignments ADD COLUMN start_at BIGINT;

-- Settings of a sandbox organisation's simulated world that outlive a
-- restart: how long the built-in SM-DP+ takes to provision an assignment
-- (processing → queued), up to 10 minutes of the organisation's clock.
CREATE TABLE sandbox_settings (
    org_id                BIGINT PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    provisioning_delay_ns BIGINT NOT NULL DEFAULT 0
        CHECK (provisioning_delay_ns >= 0 AND provisioning_delay_ns <= 600000000000)
);

-- +goose Down
DROP TABLE sandbox_settings;
ALTER TABLE assignments DROP COLUMN start_at;
