-- cuakhau PostgreSQL schema, version 5: the gate pair each audit entry concerns, so that a gate pair's
-- officers read its entries and no others. Entries written before this version belong to none
-- (administrators still read them all). Append-only.
ALTER TABLE audit_log ADD COLUMN gate_pair_id TEXT;
CREATE INDEX audit_log_by_pair ON audit_log (gate_pair_id, seq);
