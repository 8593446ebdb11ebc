-- cuakhau PostgreSQL schema, version 10: the audit log as several streams, each its own hash
-- chain and Merkle tree with its own head row, so that writes at different gate pairs do not
-- queue on one row. An entry's stream is the gate pair it concerns ('' for the node's own
-- stream: users, sessions, settings, bulk loads). Every entry written before this version stays
-- in the node's stream, as it was chained and checkpointed. `seq` numbers the whole log (taken
-- from `audit_log_seq`, so a stream's writer locks only its own head); within a stream it
-- increases in commit order. Append-only.
ALTER TABLE audit_log ADD COLUMN stream TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_by_stream ON audit_log (stream, seq);
CREATE TABLE audit_heads (
    stream TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL,  -- the stream's last entry (its number in the whole log; 0: none)
    size   BIGINT NOT NULL,  -- entries in the stream (its Merkle tree's size)
    hash   TEXT NOT NULL     -- the last entry's hash (the genesis hash: none)
);
INSERT INTO audit_heads (stream, seq, size, hash) SELECT '', seq, seq, hash FROM audit_head;
DROP TABLE audit_head;
CREATE SEQUENCE audit_log_seq;
SELECT setval('audit_log_seq', GREATEST(COALESCE((SELECT MAX(seq) FROM audit_log), 0), (SELECT seq FROM audit_heads WHERE stream = '')) + 1, false);
