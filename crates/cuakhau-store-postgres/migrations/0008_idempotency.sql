-- cuakhau PostgreSQL schema, version 8: Idempotency-Key. A create sent twice with the same key (a
-- retry after a lost answer) gets the first answer again instead of a second declaration.
-- Append-only.
CREATE TABLE idempotency (
    scope        TEXT NOT NULL,   -- who asked (a hash of the credentials) and the key they sent
    request_hash TEXT NOT NULL,   -- method, path and body: the same key with another request is refused
    status       BIGINT,          -- NULL while the first request is still running
    body         TEXT,
    created_at_us BIGINT NOT NULL,
    PRIMARY KEY (scope)
);
