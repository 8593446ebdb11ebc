-- cuakhau SQLite schema, version 10: the audit log as several streams, each its own hash chain
-- and Merkle tree with its own head row (as on PostgreSQL, where writes at different gate pairs
-- then do not queue on one row; here the one writer thread numbers them). An entry's stream is
-- the gate pair it concerns ('' for the node's own stream: users, sessions, settings, bulk
-- loads). Every entry written before this version stays in the node's stream, as it was chained
-- and checkpointed. `seq` numbers the whole log. Append-only.
ALTER TABLE audit_log ADD COLUMN stream TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_by_stream ON audit_log (stream, seq);
CREATE TABLE audit_heads (
    stream TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL,  -- the stream's last entry (its number in the whole log; 0: none)
    size   INTEGER NOT NULL,  -- entries in the stream (its Merkle tree's size)
    hash   TEXT NOT NULL      -- the last entry's hash (the genesis hash: none)
);
INSERT INTO audit_heads (stream, seq, size, hash) SELECT '', seq, seq, hash FROM audit_head;
DROP TABLE audit_head;
