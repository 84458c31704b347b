-- +goose Up
-- InsufficientBalance is sent at most 10 times per episode (notes §4.2): the
-- refusals counted in the organisation's running episode, which began after
-- the top-up ledger entry since_ledger_id; a newer top-up starts another.
CREATE TABLE insufficient_balance_episodes (
    org_id          INTEGER PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    sent            INTEGER NOT NULL CHECK (sent >= 0),
    since_ledger_id INTEGER NOT NULL DEFAULT 0
);

-- FirstUse is now sent on a bundle's first data use, remembered in bit 16
-- of alerts_sent; bundles started before this sent it when they started.
UPDATE assignments SET alerts_sent = alerts_sent | 16 WHERE started_at IS NOT NULL;

-- +goose Down
UPDATE assignments SET alerts_sent = alerts_sent & 15;
DROP TABLE insufficient_balance_episodes;
