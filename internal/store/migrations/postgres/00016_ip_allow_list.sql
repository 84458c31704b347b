-- +goose Up
-- An organisation's IP allow-list (v2.5 "IP whitelisting"): its CIDR
-- prefixes, comma-separated in canonical form; empty allows every address.
ALTER TABLE organisations ADD COLUMN ip_allow_list TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE organisations DROP COLUMN ip_allow_list;
