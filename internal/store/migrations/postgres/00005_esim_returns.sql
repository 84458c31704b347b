-- +goose Up
-- An eSIM revoked down to no bundles before it was ever installed enters the
-- returns process: it leaves the organisation's account until, four days
-- on, it is given back (if the end user installed it meanwhile) or retired.
ALTER TABLE esims ADD COLUMN returned_at BIGINT ;

-- +goose Down
ALTER TABLE esims DROP COLUMN returned_at;
