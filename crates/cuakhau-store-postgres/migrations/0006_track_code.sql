-- cuakhau PostgreSQL schema, version 6: each declaration's tracking code, the unguessable secret of
-- the driver's page (issued with the declaration, printed on the booking confirmation). Codes
-- are made by the application from its injected randomness; declarations filed before this
-- version get one here. Append-only.
ALTER TABLE declarations ADD COLUMN track_code TEXT;
UPDATE declarations SET track_code = substr(md5(random()::text || id::text), 1, 20) WHERE track_code IS NULL;
