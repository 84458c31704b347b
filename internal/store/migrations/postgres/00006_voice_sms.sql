-- +goose Up
-- Voice and SMS allowances of an assignment, next to its data (bytes).
ALTER TABLE assignments ADD COLUMN initial_minutes BIGINT  NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN remaining_minutes BIGINT  NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN initial_sms BIGINT  NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN remaining_sms BIGINT  NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE assignments DROP COLUMN remaining_sms;
ALTER TABLE assignments DROP COLUMN initial_sms;
ALTER TABLE assignments DROP COLUMN remaining_minutes;
ALTER TABLE assignments DROP COLUMN initial_minutes;
