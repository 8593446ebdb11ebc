-- cuakhau PostgreSQL schema, version 4: the live gate (trips through yard, lanes and clearance),
-- the notification outbox and installation settings. Append-only.

-- One trip per declaration: from the virtual queue or the yard to the entry side's release.
CREATE TABLE trips (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    declaration_id   BIGINT NOT NULL UNIQUE REFERENCES declarations (id),
    gate_pair_id     TEXT NOT NULL REFERENCES gate_pairs (id),
    direction        TEXT NOT NULL CHECK (direction IN ('export', 'import')),
    enterprise_code  TEXT NOT NULL,
    plate            TEXT NOT NULL,
    plate_key        TEXT NOT NULL,
    plate_country    TEXT NOT NULL,
    lane_class       TEXT NOT NULL,
    commodity        TEXT NOT NULL,
    slot_us          BIGINT,
    spoils_at_us     BIGINT,
    status           TEXT NOT NULL,
    joined_at_us     BIGINT NOT NULL,
    yard_at_us       BIGINT,
    called_at_us     BIGINT,
    call_deadline_us BIGINT,
    calls            BIGINT NOT NULL DEFAULT 0,
    lane_id          TEXT,
    -- The lane this trip occupies, until the exit side releases it; unique, so no lane is given twice.
    lane_hold        TEXT UNIQUE,
    channel          TEXT NOT NULL,
    channel_reason   TEXT NOT NULL,
    steps_json       TEXT NOT NULL,
    exit_release_us  BIGINT,
    crossed_us       BIGINT,
    entry_release_us BIGINT,
    eta_us           BIGINT,
    lat              DOUBLE PRECISION,
    lon              DOUBLE PRECISION,
    position_at_us   BIGINT,
    fee_amount       DOUBLE PRECISION,
    fee_currency     TEXT,
    fee_receipt      TEXT UNIQUE,
    updated_at_us    BIGINT NOT NULL
);
CREATE INDEX trips_by_pair_status ON trips (gate_pair_id, direction, status);
CREATE INDEX trips_by_plate ON trips (plate_key);
CREATE INDEX trips_by_joined ON trips (joined_at_us);

-- Messages for the driver's SMS or chat gateway, written in the transaction that causes them and
-- delivered afterwards with retries.
CREATE TABLE notifications (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trip_id         BIGINT NOT NULL REFERENCES trips (id),
    kind            TEXT NOT NULL,
    payload_json    TEXT NOT NULL,
    created_at_us   BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_us BIGINT NOT NULL,
    delivered_at_us BIGINT,
    last_error      TEXT
);
CREATE INDEX notifications_pending ON notifications (delivered_at_us, next_attempt_us);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
