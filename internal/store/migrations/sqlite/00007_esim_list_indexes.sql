-- +goose Up
-- GET /esims counts and pages an organisation's eSIMs outside the returns
-- process, ordered by ICCID, optionally filtered on ICCID or customer
-- reference. These partial indexes hold exactly those rows and the
-- columns the count and the filters read, so neither has to visit the
-- table: at a million eSIMs a page was a table scan.
CREATE INDEX esims_live_iccid ON esims (org_id, iccid) WHERE returned_at IS NULL;
CREATE INDEX esims_live_customer_ref ON esims (org_id, customer_ref, iccid) WHERE returned_at IS NULL;

-- +goose Down
DROP INDEX esims_live_customer_ref;
DROP INDEX esims_live_iccid;
