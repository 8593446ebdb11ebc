-- cuakhau PostgreSQL schema, version 3: suspensions of one side of a gate pair. Append-only.
CREATE TABLE suspensions (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gate_pair_id       TEXT NOT NULL REFERENCES gate_pairs (id),
    side               TEXT NOT NULL CHECK (side IN ('VN', 'CN')),
    from_us            BIGINT NOT NULL,
    until_us           BIGINT NOT NULL CHECK (until_us > from_us),
    preregistered_only BOOLEAN NOT NULL,
    reason             TEXT NOT NULL,
    created_at_us      BIGINT NOT NULL
);
CREATE INDEX suspensions_by_pair ON suspensions (gate_pair_id, until_us);
