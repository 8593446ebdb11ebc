-- cuakhau SQLite schema, version 4: the live gate (trips through yard, lanes and clearance),
-- the notification outbox and installation settings. Append-only.

-- One trip per declaration: from the virtual queue or the yard to the entry side's release.
CREATE TABLE trips (
    id               INTEGER PRIMARY KEY,
    declaration_id   INTEGER NOT NULL UNIQUE REFERENCES declarations (id),
    gate_pair_id     TEXT NOT NULL REFERENCES gate_pairs (id),
    direction        TEXT NOT NULL CHECK (direction IN ('export', 'import')),
    enterprise_code  TEXT NOT NULL,
    plate            TEXT NOT NULL,
    plate_key        TEXT NOT NULL,
    plate_country    TEXT NOT NULL,
    lane_class       TEXT NOT NULL,
    commodity        TEXT NOT NULL,
    slot_us          INTEGER,
    spoils_at_us     INTEGER,
    status           TEXT NOT NULL,
    joined_at_us     INTEGER NOT NULL,
    yard_at_us       INTEGER,
    called_at_us     INTEGER,
    call_deadline_us INTEGER,
    calls            INTEGER NOT NULL DEFAULT 0,
    lane_id          TEXT,
    -- The lane this trip occupies, until the exit side releases it; unique, so no lane is given twice.
    lane_hold        TEXT UNIQUE,
    channel          TEXT NOT NULL,
    channel_reason   TEXT NOT NULL,
    steps_json       TEXT NOT NULL,
    exit_release_us  INTEGER,
    crossed_us       INTEGER,
    entry_release_us INTEGER,
    eta_us           INTEGER,
    lat              REAL,
    lon              REAL,
    position_at_us   INTEGER,
    fee_amount       REAL,
    fee_currency     TEXT,
    fee_receipt      TEXT UNIQUE,
    updated_at_us    INTEGER NOT NULL
);
CREATE INDEX trips_by_pair_status ON trips (gate_pair_id, direction, status);
CREATE INDEX trips_by_plate ON trips (plate_key);
CREATE INDEX trips_by_joined ON trips (joined_at_us);

-- Messages for the driver's SMS or chat gateway, written in the transaction that causes them and
-- delivered afterwards with retries.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    trip_id         INTEGER NOT NULL REFERENCES trips (id),
    kind            TEXT NOT NULL,
    payload_json    TEXT NOT NULL,
    created_at_us   INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_us INTEGER NOT NULL,
    delivered_at_us INTEGER,
    last_error      TEXT
);
CREATE INDEX notifications_pending ON notifications (delivered_at_us, next_attempt_us);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
