-- cuakhau PostgreSQL schema, version 7: accounts can be disabled (kept for the record, never signed
-- in again until enabled; their sessions end when disabled). Append-only.
ALTER TABLE users ADD COLUMN disabled_at_us BIGINT;
