-- +goose Up
-- An API key's hint shows only its last four characters: the first six
-- of a chosen key are as secret as the rest (a 16-character key showed
-- 10 of its characters). Hints stored before keep only their tail.
UPDATE api_keys SET hint = '…' || substr(hint, -4) WHERE length(hint) > 5;

-- +goose Down
-- The longer hints cannot come back: the keys are stored hashed.
SELECT 1;
