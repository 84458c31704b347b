-- +goose Up
-- An Idempotency-Key's claim is a lease: holder names the request that
-- holds it and lease_until (Unix nanoseconds) when its claim lapses unless
-- renewed. A key whose holder died (no answer, lease lapsed) is taken over
-- by the next retry instead of answering 409 until it expires. Claims made
-- before leases existed have lease_until 0: already lapsed.
ALTER TABLE idempotency_keys ADD COLUMN holder TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN lease_until;
ALTER TABLE idempotency_keys DROP COLUMN holder;
