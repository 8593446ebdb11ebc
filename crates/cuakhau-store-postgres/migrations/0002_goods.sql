-- cuakhau PostgreSQL schema, version 2: declarations and booked slots. Append-only.

CREATE TABLE declarations (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_code    TEXT NOT NULL,
    gate_pair_id       TEXT NOT NULL REFERENCES gate_pairs (id),
    direction          TEXT NOT NULL CHECK (direction IN ('export', 'import')),
    plate              TEXT NOT NULL,
    plate_key          TEXT NOT NULL,
    plate_country      TEXT NOT NULL,
    vehicle_kind       TEXT NOT NULL,
    driver_name        TEXT,
    driver_nationality TEXT,
    driver_document_no TEXT,
    consignments_json  TEXT NOT NULL,
    state              TEXT NOT NULL,
    version            BIGINT NOT NULL,
    reasons_json       TEXT,
    accepted_at_us     BIGINT,
    valid_until_us     BIGINT,
    created_at_us      BIGINT NOT NULL,
    updated_at_us      BIGINT NOT NULL
);
CREATE INDEX declarations_by_enterprise ON declarations (enterprise_code);
CREATE INDEX declarations_by_plate ON declarations (plate_key);

-- One counter per gate pair, direction, hour and capacity bucket. A booking is one
-- "used = used + 1 WHERE used < capacity": the database, not a read-then-write, stops double booking.
CREATE TABLE slot_usage (
    gate_pair_id TEXT NOT NULL REFERENCES gate_pairs (id),
    direction    TEXT NOT NULL,
    hour_us      BIGINT NOT NULL,
    bucket       TEXT NOT NULL,
    capacity     BIGINT NOT NULL CHECK (capacity >= 0),
    used         BIGINT NOT NULL CHECK (used >= 0 AND used <= capacity),
    PRIMARY KEY (gate_pair_id, direction, hour_us, bucket)
);

-- Bookings per enterprise and local day, against slot hoarding.
CREATE TABLE enterprise_day (
    enterprise_code TEXT NOT NULL,
    day             TEXT NOT NULL,
    used            BIGINT NOT NULL CHECK (used >= 0),
    PRIMARY KEY (enterprise_code, day)
);

CREATE TABLE bookings (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    declaration_id  BIGINT NOT NULL REFERENCES declarations (id),
    gate_pair_id    TEXT NOT NULL,
    direction       TEXT NOT NULL,
    hour_us         BIGINT NOT NULL,
    bucket          TEXT NOT NULL,
    enterprise_code TEXT NOT NULL,
    day             TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at_us   BIGINT NOT NULL
);
CREATE UNIQUE INDEX one_live_booking_per_declaration ON bookings (declaration_id) WHERE status = 'booked';
