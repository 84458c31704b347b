-- +goose Up

-- Usage records already applied, so that a network feed can resend a batch
-- without charging twice.
CREATE TABLE usage_records (
    org_id     BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    record_id  TEXT    NOT NULL,
    iccid      TEXT    NOT NULL,
    bytes      BIGINT  NOT NULL,
    used_at    BIGINT  NOT NULL,
    applied_at BIGINT  NOT NULL,
    PRIMARY KEY (org_id, record_id)
);

-- +goose Down
DROP TABLE usage_records;
